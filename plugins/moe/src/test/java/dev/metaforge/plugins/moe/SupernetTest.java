package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Activation;
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
import org.junit.jupiter.api.Test;

/** Mixture-of-Supernets: each sub-network's weights are an architecture-routed convex combination of expert weights. */
class SupernetTest {
    private static final MixtureOfSupernets NET = new MixtureOfSupernets(2, 12, 3, 4, 5, Activation.TANH);

    @Test
    void subnetworkWeightsAreTheArchitectureRoutedMixtureOfTheExperts() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Params p = NET.init(engine, RandomStream.of(2));
            Tensor x = MoeFixtures.randomTokens(engine, 7, 2, 3);
            double[] previous = null;
            for (int h : new int[] {3, 6, 12}) {
                double[] alpha = NET.coefficients(p, h, engine).toDoubles();
                double sum = 0;
                for (double a : alpha) {
                    assertTrue(a > 0);
                    sum += a;
                }
                assertEquals(1.0, sum, 1e-12, "a convex combination");
                if (previous != null) {
                    assertTrue(MoeFixtures.maxAbsDiff(previous, alpha) > 1e-6, "different architectures, different mixtures");
                }
                previous = alpha;
                // float64 Java: W(a) = Σ αᵢ Wᵢ cut to width h, then the plain MLP on x
                double[] w1 = mix(p.get("experts.0.weight").toDoubles(), alpha);
                double[] b1 = mix(p.get("experts.0.bias").toDoubles(), alpha);
                double[] w2 = mix(p.get("experts.1.weight").toDoubles(), alpha);
                double[] b2 = mix(p.get("experts.1.bias").toDoubles(), alpha);
                double[] xs = x.toDoubles();
                double[] expected = new double[7 * 3];
                for (int t = 0; t < 7; t++) {
                    double[] hidden = new double[h];
                    for (int j = 0; j < h; j++) {
                        double v = b1[j];
                        for (int i = 0; i < 2; i++) {
                            v += xs[t * 2 + i] * w1[i * 12 + j];
                        }
                        hidden[j] = Math.tanh(v);
                    }
                    for (int o = 0; o < 3; o++) {
                        double v = b2[o];
                        for (int j = 0; j < h; j++) {
                            v += hidden[j] * w2[j * 3 + o];
                        }
                        expected[t * 3 + o] = v;
                    }
                }
                assertEquals(0.0, MoeFixtures.maxAbsDiff(expected, NET.apply(p, x, h).toDoubles()), 1e-12, "width " + h);
            }
        }
    }

    private static double[] mix(double[] stacked, double[] alpha) {
        int size = stacked.length / alpha.length;
        double[] out = new double[size];
        for (int e = 0; e < alpha.length; e++) {
            for (int i = 0; i < size; i++) {
                out[i] += alpha[e] * stacked[e * size + i];
            }
        }
        return out;
    }

    @Test
    void gradientsReachRouterAndExperts() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Params p = NET.init(engine, RandomStream.of(4));
            Tensor x = MoeFixtures.randomTokens(engine, 5, 2, 1);
            Tensor r = MoeFixtures.randomTokens(engine, 5, 3, 2);
            MoeGradientTest.check("mixture-of-supernets", p,
                    params -> NET.apply(params, x, 6).mul(r).sum().add(NET.apply(params, x, 12).mul(r).sum()));
        }
    }

    @Test
    void theExampleTrainsEveryWidth() {
        SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
        TrainSpec spec = specs.read(Path.of("..", "..", "examples", "moe-supernets.json"), TrainSpec.class);
        Engine engine = MoeFixtures.engine().withDefaultDType(DType.FLOAT32);
        var objective = spec.experiment().build(new BuildContext(engine, specs, Path.of("."), 0));
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.003), 0)) {
            Map<String, Double> before = loop.evaluate();
            for (int i = 0; i < 1000; i++) {
                loop.step();
            }
            Map<String, Double> after = loop.evaluate();
            for (String width : List.of("mse_h8", "mse_h16", "mse_h32", "mse_h64")) {
                assertTrue(after.get(width) < before.get(width) / 4, width + ": " + before + " -> " + after);
            }
        }
    }
}
