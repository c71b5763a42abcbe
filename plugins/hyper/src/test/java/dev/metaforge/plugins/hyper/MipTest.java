package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** MIP's encoding and residual parametrization, checked against closed forms. */
class MipTest {
    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = HyperFixtures.engine();
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void encodingHasConstantNormForEveryCondition() {
        // ||E(γ)||² = Σ cos² + sin² = k for k conditions, whatever γ (closed form).
        SplittableRandom random = new SplittableRandom(5);
        for (int k : new int[] {1, 3}) {
            int rows = 40;
            double[] gamma = new double[rows * k];
            for (int i = 0; i < gamma.length; i++) {
                gamma[i] = i < k ? 0.0 : i < 2 * k ? 1.0 : i < 3 * k ? 0.5 : random.nextDouble();
            }
            double[] e = MipEncoding.encode(engine.tensor(gamma, rows, k)).toDoubles();
            for (int r = 0; r < rows; r++) {
                double sq = 0;
                for (int j = 0; j < 2 * k; j++) {
                    sq += e[r * 2 * k + j] * e[r * 2 * k + j];
                }
                assertEquals(Math.sqrt(k), Math.sqrt(sq), 1e-15, "norm of E(γ) row " + r + " with k = " + k);
            }
        }
    }

    @Test
    void encodingIsCosineThenSine() {
        double[] e = MipEncoding.encode(engine.tensor(new double[] {0.0, 0.25, 1.0}, 3)).toDoubles();
        double[] expected = {1.0, Math.cos(Math.PI / 8), Math.cos(Math.PI / 2), 0.0, Math.sin(Math.PI / 8), 1.0};
        assertArrayEquals(expected, e, 1e-15);
    }

    @Test
    void outOfRangeConditionIsAClearError() {
        for (double bad : new double[] {1.25, -0.1, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MipEncoding.checkConditions(engine.tensor(new double[] {0.5, bad}, 2, 1)));
            assertTrue(e.getMessage().contains("outside [0, 1]") && e.getMessage().contains(String.valueOf(bad))
                    && e.getMessage().contains("index [1, 0]"), e.getMessage());
            // Tasks check the conditions they make on the host, before upload (encode itself reads nothing back).
            IllegalArgumentException fromTask = assertThrows(IllegalArgumentException.class,
                    () -> dev.metaforge.api.hyper.ConditionedTask.checkConditions("loss-weighting", new double[] {0.5, bad}));
            assertTrue(fromTask.getMessage().contains("task 'loss-weighting': condition " + bad + " at position 1 is outside [0, 1]"),
                    fromTask.getMessage());
        }
    }

    @Test
    void generatedWeightsAreTheta0PlusSmallHypernetworkOutputAtInitialisation() {
        // The paper's toy sizes: target 1-32-32-1, H 2-64-64-P with Kaiming fan-out weights and zero biases.
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(1, 32, 32, 1), Activation.RELU));
        MipHyperNetwork mip = MipHyperNetwork.standard(target.generated(), 1, List.of(64, 64), Activation.RELU);
        Params h = mip.init(engine, RandomStream.of(3));
        Params theta0 = mip.theta0(h);
        double theta0Norm = norm(theta0);
        double smallest = Double.MAX_VALUE;
        double largest = 0;
        for (int i = 0; i <= 10; i++) {
            Tensor gamma = engine.tensor(new double[] {i / 10.0}, 1);
            Params theta = mip.generate(h, gamma);
            Params delta = mip.delta(h, gamma);
            for (String name : theta.names()) {
                double[] expected = theta0.get(name).add(delta.get(name)).toDoubles();
                assertArrayEquals(expected, theta.get(name).toDoubles(), 0.0, "θ = θ0 + H(E(γ)) for '" + name + "'");
            }
            double d = norm(delta);
            smallest = Math.min(smallest, d);
            largest = Math.max(largest, d);
        }
        assertTrue(largest < 0.5 * theta0Norm, "H's output " + largest + " must be small next to θ0's " + theta0Norm);
        // Magnitude invariance: H's output has a similar size for every γ, including γ = 0.
        assertTrue(smallest > 0.25 * largest, "||H(E(γ))|| ranges from " + smallest + " to " + largest);
    }

    @Test
    void defaultParametrizationCollapsesAtZeroWhichMipAvoids() {
        // With raw γ and zero biases, θ = H(0) is exactly zero: the magnitude problem MIP removes.
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(1, 8, 1), Activation.RELU));
        HmlpHyperNetwork plain = new HmlpHyperNetwork(target.generated(), 1, List.of(16), Activation.RELU,
                Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT));
        Params theta = plain.generate(plain.init(engine, RandomStream.of(1)), engine.tensor(new double[] {0.0}, 1));
        assertEquals(0.0, norm(theta), 0.0);
        MipHyperNetwork mip = MipHyperNetwork.standard(target.generated(), 1, List.of(16), Activation.RELU);
        assertTrue(norm(mip.generate(mip.init(engine, RandomStream.of(1)), engine.tensor(new double[] {0.0}, 1))) > 0.1);
    }

    @Test
    void theta0IsVisibleAndInitialisedLikeTheTarget() {
        HyperTarget target = HyperTarget.of(new Mlp(List.of(2, 3, 1), Activation.RELU, Activation.IDENTITY, Initializer.constant(0.25)));
        MipHyperNetwork mip = MipHyperNetwork.standard(target.generated(), 1, List.of(4), Activation.RELU);
        List<String> names = mip.parameters().stream().map(ParamSpec::name).toList();
        assertTrue(names.containsAll(List.of("theta0.0.weight", "theta0.0.bias", "theta0.1.weight", "theta0.1.bias")), names.toString());
        Params h = mip.init(engine, RandomStream.of(9));
        for (double v : h.get("theta0.0.weight").toDoubles()) {
            assertEquals(0.25, v, 0.0);
        }
        // Biases follow the target's own bias init (PyTorch default, U(-1/sqrt(fanIn), 1/sqrt(fanIn))).
        for (double v : h.get("theta0.0.bias").toDoubles()) {
            assertTrue(Math.abs(v) <= 1 / Math.sqrt(2), "bias " + v);
        }
    }

    @Test
    void theta0CanStartFromPretrainedWeights() {
        Mlp mlp = Mlp.of(List.of(2, 3, 1), Activation.RELU);
        HyperTarget target = HyperTarget.of(mlp);
        MipHyperNetwork mip = MipHyperNetwork.standard(target.generated(), 1, List.of(4), Activation.RELU);
        Params pretrained = mlp.init(engine, RandomStream.of(77));
        Params h = mip.initFrom(engine, RandomStream.of(5), pretrained);
        for (String name : pretrained.names()) {
            assertArrayEquals(pretrained.get(name).toDoubles(), h.get("theta0." + name).toDoubles(), 0.0);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mip.initFrom(engine, RandomStream.of(5), pretrained.filter(n -> !n.equals("1.bias"))));
        assertTrue(e.getMessage().contains("1.bias"), e.getMessage());
    }

    private static double norm(Params p) {
        double sq = 0;
        for (Tensor t : p.values()) {
            for (double v : t.toDoubles()) {
                sq += v * v;
            }
        }
        return Math.sqrt(sq);
    }
}
