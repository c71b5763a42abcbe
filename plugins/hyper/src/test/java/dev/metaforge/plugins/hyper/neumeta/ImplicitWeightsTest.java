package dev.metaforge.plugins.hyper.neumeta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.hyper.GradientCheck;
import dev.metaforge.spi.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The coordinate network: widths, encoding, gradient (reference backend, float64). */
class ImplicitWeightsTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final ImplicitWeights implicit = new ImplicitWeights(2, List.of(8));

    @Test
    void oneCoordinateNetworkSamplesTargetsOfAnyWidth() {
        try (Scope s = Scope.open()) {
            Params c = implicit.coordinateNetwork().init(engine, RandomStream.of(1));
            for (int width : List.of(3, 5, 9)) {
                List<Integer> sizes = List.of(2, width, 3);
                Params p = implicit.sample(engine, c, sizes);
                Tensor y = Mlp.of(sizes, Activation.RELU).apply(p, engine.tensor(new double[] {0.1, -0.2, 0.3, 0.4}, 2, 2));
                assertArrayEquals(new int[] {2, 3}, y.shape().dims(), "width " + width);
            }
        }
    }

    @Test
    void withLayerHeadsEachLayerReadsItsOwnOutput() {
        ImplicitWeights headed = new ImplicitWeights(2, List.of(8), 2);
        try (Scope s = Scope.open()) {
            Params c = headed.coordinateNetwork().init(engine, RandomStream.of(1));
            List<Integer> sizes = List.of(2, 5, 3);
            Params before = headed.sample(engine, c, sizes);
            // Move only head 1's bias (the last layer's bias [heads]): layer 1 shifts by exactly that, layer 0 stays.
            Params moved = c.with("1.bias", c.get("1.bias").add(engine.tensor(new double[] {0, 0.25}, 2)));
            Params after = headed.sample(engine, moved, sizes);
            assertArrayEquals(before.get("0.weight").toDoubles(), after.get("0.weight").toDoubles(), 0);
            assertArrayEquals(before.get("0.bias").toDoubles(), after.get("0.bias").toDoubles(), 0);
            double[] b1 = before.get("1.weight").toDoubles();
            double[] a1 = after.get("1.weight").toDoubles();
            for (int i = 0; i < b1.length; i++) {
                assertEquals(b1[i] + 0.25, a1[i], 1e-12);
            }
        }
    }

    @Test
    void coordinateNoiseMovesEachIndexByAtMostHalfTheNoiseInIndexSteps() {
        int w = implicit.encodedWidth();
        List<Integer> sizes = List.of(3, 5, 2);
        double[] clean = implicit.encodeLayer(sizes, 0);
        double[] noisy = implicit.encodeLayer(sizes, 0, 1.0, RandomStream.of(3));
        assertArrayEquals(clean, implicit.encodeLayer(sizes, 0, 0, null), 0);
        int rows = clean.length / w;
        double largest = 0;
        for (int r = 0; r < rows; r++) {
            // Raw coordinates sit at offsets 0 (layer), 5 (input), 10 (output) for 2 frequencies.
            assertEquals(clean[r * w], noisy[r * w], 0, "layer coordinate of row " + r);
            boolean bias = r >= 3 * 5;
            if (bias) {
                assertEquals(-1.0, noisy[r * w + 5], 0, "the bias marker is not moved");
            } else {
                double di = Math.abs(noisy[r * w + 5] - clean[r * w + 5]) * (3 - 1);
                assertTrue(di <= 0.5, "input index moved " + di + " steps");
                largest = Math.max(largest, di);
            }
            double dout = Math.abs(noisy[r * w + 10] - clean[r * w + 10]) * (5 - 1);
            assertTrue(dout <= 0.5, "output index moved " + dout + " steps");
            largest = Math.max(largest, dout);
            // The encoding is recomputed from the moved coordinate, not copied.
            assertEquals(Math.sin(Math.PI * noisy[r * w + 10]), noisy[r * w + 11], 1e-15);
        }
        assertTrue(largest > 0.3, "the noise is used: largest move " + largest);
    }

    @Test
    void encodingIsNormalisedSoTheLastNeuronOfAnyWidthHasCoordinateOne() {
        int w = implicit.encodedWidth();
        for (int width : List.of(4, 7)) {
            double[] enc = implicit.encodeLayer(List.of(2, width, 3), 0);
            // row of weight (input 0, output width-1): layer coordinate 0, input 0, output 1.
            int row = width - 1;
            assertEquals(0.0, enc[row * w], 0);
            assertEquals(0.0, enc[row * w + 5], 0);
            assertEquals(1.0, enc[row * w + 10], 0);
            assertEquals(Math.sin(Math.PI * 2), enc[row * w + 13], 1e-15);
        }
    }

    @Test
    void gradientOfASampledNetworksLossMatchesFiniteDifferences() {
        try (Scope s = Scope.open()) {
            Params c = implicit.coordinateNetwork().init(engine, RandomStream.of(2));
            List<Integer> sizes = List.of(2, 4, 2);
            Tensor x = engine.tensor(new double[] {0.3, -0.7, 0.5, 0.2, -0.1, 0.9}, 3, 2);
            Tensor y = engine.tensor(new double[] {0.1, 0.2, -0.3, 0.4, 0.0, -0.5}, 3, 2);
            double worst = GradientCheck.check(engine, c, p -> Mlp.of(sizes, Activation.TANH)
                    .apply(implicit.sample(engine, p, sizes), x).sub(y).square().mean(), 1e-6, 30, 3);
            assertTrue(worst < 1e-6, "worst difference " + worst);
        }
    }

    @Test
    void fittedToASmoothedSourceSamplingAtTheSourceWidthReproducesItsOutputs() {
        java.util.Random r = new java.util.Random(4);
        double[][] w0 = new double[4][2];
        double[][] w1 = new double[2][4];
        double[] b0 = new double[4];
        double[] b1 = new double[2];
        for (double[][] m : new double[][][] {w0, w1}) {
            for (double[] row : m) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = 0.5 * r.nextGaussian();
                }
            }
        }
        for (int i = 0; i < 4; i++) {
            b0[i] = 0.1 * r.nextGaussian();
        }
        NeuronSmoothing.Mlp source = NeuronSmoothing.smooth(
                new NeuronSmoothing.Mlp(List.of(w0, w1), List.of(b0, b1))).mlp();
        ImplicitWeights big = new ImplicitWeights(3, List.of(32, 32));
        try (Scope s = Scope.open()) {
            Params fitted = big.fit(engine, big.coordinateNetwork().init(engine, RandomStream.of(5)), source, 600, 0.01);
            List<Integer> sizes = List.of(2, 4, 2);
            double[] xs = new double[20];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = 2 * r.nextDouble() - 1;
            }
            double[] got = Mlp.of(sizes, Activation.TANH).apply(big.sample(engine, fitted, sizes),
                    engine.tensor(xs, 10, 2)).toDoubles();
            // Independent reference: the source MLP evaluated in plain Java.
            for (int n = 0; n < 10; n++) {
                for (int o = 0; o < 2; o++) {
                    double y = source.biases().get(1)[o];
                    for (int h = 0; h < 4; h++) {
                        double a = source.biases().get(0)[h];
                        for (int i = 0; i < 2; i++) {
                            a += source.weights().get(0)[h][i] * xs[n * 2 + i];
                        }
                        y += source.weights().get(1)[o][h] * Math.tanh(a);
                    }
                    // Tolerance 0.02 on outputs of size ~1: the fit is approximate, not exact.
                    assertEquals(y, got[n * 2 + o], 0.02, "sample " + n + " output " + o);
                }
            }
        }
    }
}
