package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The full-length sinusoid figures (Finn et al. 2017: 1-40-40-1 ReLU, K = 10, inner rate 0.01,
 * one inner step, meta-batch 25, Adam 1e-3, 10,000 meta-iterations; post-adaptation MSE on 1,000
 * held-out tasks). Minutes on the pure-Java reference backend, so tagged slow (the parent pom
 * excludes the tag): run it from an IDE or the JUnit console launcher. The same runs on any
 * backend: {@code dev.metaforge.bench.MamlSinusoidMain --backend reference|djl --learner maml|fomaml|reptile}.
 */
@Tag("slow")
class MamlSinusoidReproductionTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT32);

    @Test
    void secondOrderMamlReachesThePublishedError() {
        MamlSinusoid.Result result = MamlSinusoid.run(engine, 10_000, false, 0, 1000, null);
        Map<String, Double> m = result.metrics();
        System.out.printf("MAML: %s in %.0f s (%.1f it/s)%n", m, result.seconds(), result.rate());
        // Published and reproduced figures are about 0.43 and 0.12; measured at seed 0: 0.400 and 0.135
        // here, 0.423 and 0.119 on PyTorch via DJL.
        assertTrue(m.get("mse_after_1") <= 0.50, "MSE after one step " + m);
        assertTrue(m.get("mse_after_10") <= 0.16, "MSE after ten steps " + m);
    }

    @Test
    void firstOrderMamlReachesItsStatedError() {
        MamlSinusoid.Result result = MamlSinusoid.run(engine, 10_000, true, 0, 1000, null);
        Map<String, Double> m = result.metrics();
        System.out.printf("FOMAML: %s in %.0f s (%.1f it/s)%n", m, result.seconds(), result.rate());
        assertTrue(m.get("mse_after_1") <= FOMAML_AFTER_1, "MSE after one step " + m);
        assertTrue(m.get("mse_after_10") <= FOMAML_AFTER_10, "MSE after ten steps " + m);
    }

    @Test
    void reptileReachesItsStatedError() {
        MetaObjective objective = MamlSinusoid.objective(engine,
                new Reptile(MamlSinusoid.network(), TaskLoss.MSE, 5, MamlSinusoid.INNER_LR), 1000, List.of(1, 10));
        MamlSinusoid.Result result = MamlSinusoid.run(objective, 10_000, 0, null);
        Map<String, Double> m = result.metrics();
        System.out.printf("Reptile: %s in %.0f s (%.1f it/s)%n", m, result.seconds(), result.rate());
        assertTrue(m.get("mse_after_1") <= REPTILE_AFTER_1, "MSE after one step " + m);
        assertTrue(m.get("mse_after_10") <= REPTILE_AFTER_10, "MSE after ten steps " + m);
    }

    // Stated figures. Measured at seed 0 (1 step / 10 steps): FOMAML 0.669 / 0.186 on this backend and
    // 0.483 / 0.149 on PyTorch via DJL (float rounding sends the runs apart; first-order MAML varies
    // more); Reptile (5 inner steps) 0.657 / 0.177 here and 0.657 / 0.195 on DJL.
    private static final double FOMAML_AFTER_1 = 0.80;
    private static final double FOMAML_AFTER_10 = 0.24;
    private static final double REPTILE_AFTER_1 = 0.90;
    private static final double REPTILE_AFTER_10 = 0.26;
}
