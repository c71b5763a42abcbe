package dev.metaforge.api.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.graph.ThirdPartyModules.ChannelNorm;
import dev.metaforge.api.graph.ThirdPartyModules.Conv;
import dev.metaforge.api.graph.ThirdPartyModules.Flatten;
import dev.metaforge.api.graph.ThirdPartyModules.Skip;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Net2Net on the float64 reference backend: the grown network's outputs are compared with the
 * original network's outputs (the reference), bit for bit for deepen and to 1e-12 for widen (the
 * copies' split contributions are summed in a different order).
 */
class Net2NetTest {
    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void widenedMlpComputesTheSameFunction() {
        Mlp mlp = Mlp.of(List.of(3, 4, 5, 2), Activation.TANH);
        Params p = mlp.init(engine, RandomStream.of(1));
        Tensor x = engine.uniform(Shape.of(7, 3), -2, 2, 2);
        for (double noise : new double[] {0, 0.3}) {
            Net2Net.Grown w = Net2Net.widenMlp(mlp, p, 0, 9, noise, RandomStream.of(3));
            Net2Net.Grown ww = Net2Net.widenMlp((Mlp) w.module(), w.params(), 1, 8, noise, RandomStream.of(4));
            assertEquals(List.of(3, 9, 8, 2), ((Mlp) ww.module()).sizes());
            assertClose(mlp.apply(p, x).toDoubles(), ww.module().apply(ww.params(), x).toDoubles(), 1e-12, "widened, noise " + noise);
        }
    }

    @Test
    void deepenedMlpComputesTheSameFunctionBitForBit() {
        Mlp mlp = Mlp.of(List.of(3, 6, 2), Activation.RELU);
        Params p = mlp.init(engine, RandomStream.of(1));
        Tensor x = engine.uniform(Shape.of(7, 3), -2, 2, 2);
        Net2Net.Grown d = Net2Net.deepenMlp(mlp, p, 0);
        assertEquals(List.of(3, 6, 6, 2), ((Mlp) d.module()).sizes());
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"), d.params().names());
        GraphLayoutTest.assertArrayBits(mlp.apply(p, x).toDoubles(), d.module().apply(d.params(), x).toDoubles(), "deepened");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Net2Net.deepenMlp(Mlp.of(List.of(3, 6, 2), Activation.TANH), p, 0));
        assertTrue(e.getMessage().contains("needs relu or identity"), e.getMessage());
    }

    static Module cnn(int channels) {
        return Sequential.of(new Conv(1, channels), new ChannelNorm(channels), Activation.RELU,
                new Skip(Sequential.of(new Conv(channels, channels), new ChannelNorm(channels), Activation.RELU)), new Flatten(),
                Linear.of(channels * 16, 3));
    }

    @Test
    void widenedThirdPartyCnnWithNormAndResidualComputesTheSameFunction() {
        Module net = cnn(4);
        Module wider = cnn(7);
        Params p = net.init(engine, RandomStream.of(5));
        Params q = Net2Net.widen(net, p, wider, "0.channels", 0.2, RandomStream.of(6));
        Tensor x = engine.uniform(Shape.of(3, 1, 4, 4), -1, 1, 7);
        assertClose(net.apply(p, x).toDoubles(), wider.apply(q, x).toDoubles(), 1e-10, "widened CNN");
    }

    @Test
    void deepenedThirdPartyCnnComputesTheSameFunctionBitForBit() {
        Module net = Sequential.of(new Conv(1, 4), Activation.RELU, new Flatten(), Linear.of(64, 3));
        Module deeper = Sequential.of(new Conv(1, 4), Activation.RELU, new Conv(4, 4), Activation.RELU, new Flatten(), Linear.of(64, 3));
        Params p = net.init(engine, RandomStream.of(5));
        Params q = Net2Net.deepen(net, p, deeper);
        assertEquals(List.of("0.filters", "0.shift", "2.filters", "2.shift", "5.weight", "5.bias"), q.names());
        Tensor x = engine.uniform(Shape.of(3, 1, 4, 4), -1, 1, 7);
        GraphLayoutTest.assertArrayBits(net.apply(p, x).toDoubles(), deeper.apply(q, x).toDoubles(), "deepened CNN");
    }

    @Test
    void widenWorksOnAWeightBatch() {
        Mlp mlp = Mlp.of(List.of(2, 3, 1), Activation.TANH);
        Params batch = GraphLayoutTest.batchOf(mlp, engine, 3);
        Net2Net.Grown w = Net2Net.widenMlp(mlp, batch, 0, 5, 0, RandomStream.of(1));
        Tensor x = engine.uniform(Shape.of(4, 2), -1, 1, 2);
        assertClose(mlp.apply(batch, x).toDoubles(), w.module().apply(w.params(), x).toDoubles(), 1e-12, "batch");
    }

    @Test
    void trainingContinuesFromTheWidenedNetwork() {
        // Fit sin on [-2, 2] for 150 Adam steps, widen 6 -> 12 hidden with symmetry-breaking noise,
        // continue 150 steps: the widened network starts at the same loss and improves on it.
        Mlp mlp = Mlp.of(List.of(1, 6, 1), Activation.TANH);
        double[] xs = new double[32];
        double[] ys = new double[32];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = -2 + 4.0 * i / (xs.length - 1);
            ys[i] = Math.sin(2 * xs[i]);
        }
        Tensor x = engine.tensor(xs, 32, 1);
        Tensor y = engine.tensor(ys, 32, 1);
        Params p = train(mlp, mlp.init(engine, RandomStream.of(2)), x, y, 150);
        double before = Losses.mse(mlp.apply(p, x), y).item();
        Net2Net.Grown w = Net2Net.widenMlp(mlp, p, 0, 12, 0.1, RandomStream.of(3));
        double start = Losses.mse(w.module().apply(w.params(), x), y).item();
        assertEquals(before, start, 1e-12, "the widened network starts where the narrow one stopped");
        Params q = train(w.module(), w.params(), x, y, 150);
        double after = Losses.mse(w.module().apply(q, x), y).item();
        assertTrue(after < 0.8 * before, "continued training improves the loss: " + before + " -> " + after);
    }

    private Params train(Module net, Params start, Tensor x, Tensor y, int steps) {
        Adam adam = Adam.adam(1e-2);
        Params p = start;
        for (int s = 0; s < steps; s++) {
            Params t = p.requiringGrad();
            p = adam.step(p, Grad.of(Losses.mse(net.apply(t, x), y)).wrt(t));
        }
        return p;
    }

    private static void assertClose(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), what + " entry " + i);
        }
    }
}
