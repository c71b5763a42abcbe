package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.spi.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Meta-DMoE: label-free test-time distillation from the experts, meta-learned through the adaptation (second order). */
class MetaDmoeTest {
    private static final MetaDmoe MODEL = new MetaDmoe(1, 1, 3, Mlp.of(List.of(1, 6, 1), Activation.TANH), 2, 0.1);

    @Test
    void adaptationReadsNoLabelsAndDistilsTheTeacher() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Params p = MODEL.init(engine, RandomStream.of(1));
            Tensor unlabeled = MoeFixtures.randomTokens(engine, 16, 1, 2);
            Params adapted = MODEL.adapt(p.requiringGrad(), unlabeled);
            double before = MODEL.distillation(p, p.scoped(MetaDmoe.STUDENT), unlabeled).item();
            double after = MODEL.distillation(p, adapted, unlabeled).item();
            assertTrue(after < before, "distillation on unlabeled data moves the student to the teacher: " + before + " -> " + after);
        }
    }

    @Test
    void theMetaGradientThroughTheAdaptationMatchesFiniteDifferences() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Params p = MODEL.init(engine, RandomStream.of(3));
            Tensor support = MoeFixtures.randomTokens(engine, 10, 1, 4);
            Tensor qx = MoeFixtures.randomTokens(engine, 8, 1, 5);
            Tensor qy = MoeFixtures.randomTokens(engine, 8, 1, 6);
            // second order: the student's initialisation and the aggregator are reached through the inner loop
            MoeGradientTest.check("meta-dmoe", p.filter(n -> !n.startsWith(MetaDmoe.EXPERTS + ".")),
                    q -> MODEL.metaLoss(q.merge(p.filter(n -> n.startsWith(MetaDmoe.EXPERTS + "."))), support, qx, qy));
        }
    }

    @Test
    void afterMetaTrainingAdaptationHelpsOnUnseenDomains() {
        SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
        TrainSpec spec = specs.read(Path.of("..", "..", "examples", "moe-meta-dmoe.json"), TrainSpec.class);
        Engine engine = MoeFixtures.engine().withDefaultDType(DType.FLOAT32);
        var objective = spec.experiment().build(new BuildContext(engine, specs, Path.of("."), 0));
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.003), 0)) {
            for (int i = 0; i < 600; i++) {
                loop.step();
            }
            Map<String, Double> m = loop.evaluate();
            assertTrue(m.get("mse_after") < 0.8 * m.get("mse_before"), "adaptation on unlabeled target data helps: " + m);
        }
    }
}
