package dev.metaforge.plugins.hyper.neumeta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** NeuMeta's permutation smoothing: function preserved, total variation lowered, a real permutation. */
class NeuronSmoothingTest {

    private static NeuronSmoothing.Mlp randomMlp(long seed, int... sizes) {
        Random r = new Random(seed);
        List<double[][]> w = new ArrayList<>();
        List<double[]> b = new ArrayList<>();
        for (int l = 0; l + 1 < sizes.length; l++) {
            double[][] m = new double[sizes[l + 1]][sizes[l]];
            for (double[] row : m) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = r.nextGaussian();
                }
            }
            double[] bias = new double[sizes[l + 1]];
            for (int i = 0; i < bias.length; i++) {
                bias[i] = r.nextGaussian();
            }
            w.add(m);
            b.add(bias);
        }
        return new NeuronSmoothing.Mlp(w, b);
    }

    /** Independent reference forward: ReLU MLP, linear last layer, float64. */
    private static double[] forward(NeuronSmoothing.Mlp mlp, double[] x) {
        double[] h = x;
        for (int l = 0; l < mlp.weights().size(); l++) {
            double[][] w = mlp.weights().get(l);
            double[] out = new double[w.length];
            for (int o = 0; o < w.length; o++) {
                double s = mlp.biases().get(l)[o];
                for (int i = 0; i < h.length; i++) {
                    s += w[o][i] * h[i];
                }
                out[o] = l + 1 < mlp.weights().size() ? Math.max(0, s) : s;
            }
            h = out;
        }
        return h;
    }

    /** Independent total variation: L1 distance of neighbouring incoming rows, biases and outgoing columns. */
    private static double tv(NeuronSmoothing.Mlp mlp, int l) {
        double[][] w = mlp.weights().get(l);
        double[] b = mlp.biases().get(l);
        double[][] next = mlp.weights().get(l + 1);
        double s = 0;
        for (int k = 1; k < w.length; k++) {
            for (int i = 0; i < w[k].length; i++) {
                s += Math.abs(w[k][i] - w[k - 1][i]);
            }
            s += Math.abs(b[k] - b[k - 1]);
            for (double[] row : next) {
                s += Math.abs(row[k] - row[k - 1]);
            }
        }
        return s;
    }

    @Test
    void smoothingPreservesTheFunction() {
        NeuronSmoothing.Mlp mlp = randomMlp(7, 5, 16, 12, 3);
        NeuronSmoothing.Mlp smoothed = NeuronSmoothing.smooth(mlp).mlp();
        Random r = new Random(11);
        for (int t = 0; t < 20; t++) {
            double[] x = new double[5];
            for (int i = 0; i < 5; i++) {
                x[i] = r.nextGaussian();
            }
            double[] a = forward(mlp, x);
            double[] c = forward(smoothed, x);
            // The hidden activations are permuted exactly; the next layer sums them in another
            // order, so outputs agree to float64 rounding, not bit for bit.
            for (int o = 0; o < a.length; o++) {
                assertEquals(a[o], c[o], 1e-12 * (1 + Math.abs(a[o])), "output " + o + " of input " + t);
            }
        }
    }

    @Test
    void smoothingLowersTotalVariationOfEveryHiddenLayer() {
        NeuronSmoothing.Mlp mlp = randomMlp(3, 4, 24, 20, 2);
        NeuronSmoothing.Result res = NeuronSmoothing.smooth(mlp);
        for (int l = 0; l < 2; l++) {
            double before = tv(mlp, l);
            double after = tv(res.mlp(), l);
            // Random Gaussian neurons in random order: a nearest-neighbour path is clearly shorter.
            assertTrue(after < 0.9 * before, "layer " + l + ": TV " + before + " -> " + after);
            assertEquals(after, NeuronSmoothing.totalVariation(res.mlp(), l), 1e-9 * after);
        }
    }

    @Test
    void permutationsArePermutationsAndMoveRows() {
        NeuronSmoothing.Mlp mlp = randomMlp(5, 3, 10, 2);
        NeuronSmoothing.Result res = NeuronSmoothing.smooth(mlp);
        int[] p = res.perms().get(0);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        int[] identity = new int[10];
        Arrays.setAll(identity, i -> i);
        assertArrayEquals(identity, sorted);
        for (int k = 0; k < 10; k++) {
            assertArrayEquals(mlp.weights().get(0)[p[k]], res.mlp().weights().get(0)[k]);
        }
    }

    @Test
    void mismatchedLayersAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> new NeuronSmoothing.Mlp(
                List.of(new double[3][2], new double[2][4]), List.of(new double[3], new double[2])));
        assertTrue(e.getMessage().contains("layer 1 takes 4 inputs but layer 0 gives 3"), e.getMessage());
    }
}
