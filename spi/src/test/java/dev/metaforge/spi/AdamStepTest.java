package dev.metaforge.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The host Adam update ({@link AdamStep#applyFloat32}, {@link AdamStep#applyFloat64}) against a
 * float64 closed form of Adam as torch.optim.Adam documents it (bias-corrected m̂ and v̂), across
 * chunk boundaries and buffer positions; bit for bit against the unflushed float32 arithmetic
 * wherever the moments are above the flush range; and the flush itself on subnormal moments.
 */
class AdamStepTest {
    private static final List<AdamStep> STEPS = List.of(
            new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1),
            new AdamStep(1e-2, 0.8, 0.99, 1e-6, 0.1, false, 7),
            new AdamStep(5e-2, 0.9, 0.999, 1e-8, 0.05, true, 1000));
    /** One below, at and above the 512-element chunk, and several chunks with a tail. */
    private static final int[] SIZES = {1, 511, 512, 513, 1500};

    @Test
    void float32MatchesAFloat64ClosedFormAcrossChunksAndPositions() {
        for (AdamStep h : STEPS) {
            for (int n : SIZES) {
                double[][] in = inputs(n, h.step() * 131 + n);
                Float32Run r = runFloat32(h, in, 3, false);
                double[][] ref = closedForm(h, in);
                for (int i = 0; i < n; i++) {
                    String at = h + " n=" + n + " i=" + i;
                    assertClose(ref[0][i], r.p[i], 2e-6, at + " param");
                    assertClose(ref[1][i], r.m[i], 1e-6, at + " m");
                    assertClose(ref[2][i], r.v[i], 1e-6, at + " v");
                }
            }
        }
    }

    @Test
    void float64MatchesTheClosedForm() {
        for (AdamStep h : STEPS) {
            double[][] in = inputs(1500, h.step());
            DoubleBuffer p = DoubleBuffer.wrap(in[0].clone());
            DoubleBuffer m = DoubleBuffer.wrap(in[2].clone());
            DoubleBuffer v = DoubleBuffer.wrap(in[3].clone());
            DoubleBuffer out = DoubleBuffer.allocate(1500);
            h.applyFloat64(p, DoubleBuffer.wrap(in[1]), m, v, out, m, v);
            double[][] ref = closedForm(h, in);
            for (int i = 0; i < 1500; i++) {
                assertClose(ref[0][i], out.get(i), 1e-13, h + " param " + i);
                assertClose(ref[1][i], m.get(i), 1e-14, h + " m " + i);
                assertClose(ref[2][i], v.get(i), 1e-14, h + " v " + i);
            }
        }
    }

    @Test
    void inPlaceMomentsEqualSeparateOutputsBitForBit() {
        for (AdamStep h : STEPS) {
            double[][] in = inputs(1500, 5 + h.step());
            Float32Run separate = runFloat32(h, in, 0, false);
            Float32Run inPlace = runFloat32(h, in, 0, true);
            assertArrayEquals(separate.p, inPlace.p, h.toString());
            assertArrayEquals(separate.m, inPlace.m, h.toString());
            assertArrayEquals(separate.v, inPlace.v, h.toString());
        }
    }

    /**
     * Above the flush range the host update is the composed kernel's arithmetic: each operation
     * of {@code Kernels.adamUpdate}'s default in float32, scalars rounded to float first.
     */
    @Test
    void aboveTheFlushRangeItIsTheComposedFloat32ArithmeticBitForBit() {
        for (AdamStep h : STEPS) {
            double[][] in = inputs(1500, 77 + h.step());
            Float32Run r = runFloat32(h, in, 0, false);
            float c1 = (float) (1 - Math.pow(h.beta1(), h.step()));
            for (int i = 0; i < 1500; i++) {
                float p = (float) in[0][i];
                float g = (float) in[1][i];
                if (h.weightDecay() != 0 && !h.decoupledWeightDecay()) {
                    g = g + p * (float) h.weightDecay();
                }
                float m = (float) in[2][i] * (float) h.beta1() + g * (float) (1 - h.beta1());
                float v = (float) in[3][i] * (float) h.beta2() + g * g * (float) (1 - h.beta2());
                assertTrue(Math.abs(m) >= 0x1p-75f && v >= 0x1p-75f, "test data must stay above the flush range");
                float ratio = m / ((float) Math.sqrt(v / (float) (1 - Math.pow(h.beta2(), h.step()))) + (float) h.epsilon());
                float step = ratio * (float) (h.learningRate() / (1 - Math.pow(h.beta1(), h.step())));
                float expected = h.weightDecay() != 0 && h.decoupledWeightDecay()
                        ? p * (float) (1 - h.learningRate() * h.weightDecay()) - step
                        : p - step;
                assertEquals(m, r.m[i], 0f, h + " m " + i);
                assertEquals(v, r.v[i], 0f, h + " v " + i);
                assertEquals(expected, r.p[i], 0f, h + " param " + i + " (c1 " + c1 + ")");
            }
        }
    }

    /**
     * A zero gradient leaves {@code m} decaying by beta1; unflushed, {@code 0.9 * 4 * Float.MIN_VALUE}
     * rounds back to itself and the moment would stay subnormal forever.
     */
    @Test
    void subnormalMomentsAreFlushedToZero() {
        AdamStep h = new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 50);
        float stuck = 4 * Float.MIN_VALUE;
        assertEquals(stuck, stuck * 0.9f, 0f, "the premise: without a flush the moment never decays");
        float[] m = {stuck, -1e-40f, 1e-39f, 0x1p-124f, 0x1p-74f, 1e-3f};
        float[] v = {stuck, 1e-40f, 1e-39f, 0x1p-124f, 0x1p-74f, 1e-3f};
        float[] p = {1, 1, 1, 1, 1, 1};
        float[] g = new float[6];
        FloatBuffer newP = FloatBuffer.allocate(6);
        FloatBuffer mb = FloatBuffer.wrap(m);
        FloatBuffer vb = FloatBuffer.wrap(v);
        h.applyFloat32(FloatBuffer.wrap(p), FloatBuffer.wrap(g), mb, vb, newP, mb, vb);
        for (int i = 0; i < 4; i++) {
            assertEquals(0f, m[i], 0f, "subnormal or tiny m at " + i);
            assertEquals(0f, v[i], 0f, "subnormal or tiny v at " + i);
        }
        // at 2^-74 (above the exact bound 2^-75 after the decay) nothing changes: the plain products
        assertEquals(0x1p-74f * 0.9f, m[4], 0f);
        assertEquals(0x1p-74f * 0.999f, v[4], 0f);
        assertEquals(1e-3f * 0.9f, m[5], 0f);
        double[] m64 = {1e-310, 1e-3};
        DoubleBuffer m64b = DoubleBuffer.wrap(m64);
        DoubleBuffer v64b = DoubleBuffer.wrap(new double[] {1e-310, 1e-3});
        h.applyFloat64(DoubleBuffer.wrap(new double[] {1, 1}), DoubleBuffer.wrap(new double[2]), m64b, v64b,
                DoubleBuffer.allocate(2), m64b, v64b);
        assertEquals(0d, m64[0], 0d);
        assertEquals(1e-3 * 0.9, m64[1], 0d);
    }

    @Test
    void buffersOfDifferentLengthsAreRejected() {
        AdamStep h = STEPS.get(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.applyFloat32(FloatBuffer.allocate(4),
                FloatBuffer.allocate(4), FloatBuffer.allocate(3), FloatBuffer.allocate(4), FloatBuffer.allocate(4),
                FloatBuffer.allocate(3), FloatBuffer.allocate(4)));
        assertEquals("Adam host update: param, grad, m, v and the outputs need one element count, got 4 and 3", e.getMessage());
    }

    private record Float32Run(float[] p, float[] m, float[] v) {
    }

    /** Runs applyFloat32 on buffers whose data starts at {@code offset} (positions must be honoured). */
    private static Float32Run runFloat32(AdamStep h, double[][] in, int offset, boolean inPlace) {
        int n = in[0].length;
        FloatBuffer[] b = new FloatBuffer[4];
        for (int k = 0; k < 4; k++) {
            float[] a = new float[n + offset + 2];
            java.util.Arrays.fill(a, Float.NaN); // outside the window: must never be read into the result
            for (int i = 0; i < n; i++) {
                a[offset + i] = (float) in[k][i];
            }
            b[k] = FloatBuffer.wrap(a, offset, n);
        }
        FloatBuffer p = FloatBuffer.wrap(new float[n + offset], offset, n);
        FloatBuffer m = inPlace ? b[2] : FloatBuffer.wrap(new float[n + offset], offset, n);
        FloatBuffer v = inPlace ? b[3] : FloatBuffer.wrap(new float[n + offset], offset, n);
        h.applyFloat32(b[0], b[1], b[2], b[3], p, m, v);
        return new Float32Run(window(p, offset, n), window(m, offset, n), window(v, offset, n));
    }

    private static float[] window(FloatBuffer b, int offset, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = b.get(offset + i);
        }
        return out;
    }

    /** param in [-1, 1], grad in [-1, 1], m in [-0.1, 0.1], v in [0.001, 0.1] (float32 values, held as doubles). */
    private static double[][] inputs(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[][] in = new double[4][n];
        for (int i = 0; i < n; i++) {
            in[0][i] = (float) rng.nextDouble(-1, 1);
            in[1][i] = (float) rng.nextDouble(-1, 1);
            in[2][i] = (float) rng.nextDouble(-0.1, 0.1);
            in[3][i] = (float) rng.nextDouble(0.001, 0.1);
        }
        return in;
    }

    /** Adam/AdamW in float64 as torch.optim.Adam documents it: m̂ = m / (1 - b1^t), v̂ = v / (1 - b2^t). */
    private static double[][] closedForm(AdamStep h, double[][] in) {
        int n = in[0].length;
        double[][] out = new double[3][n];
        for (int i = 0; i < n; i++) {
            double p = in[0][i];
            double g = in[1][i];
            if (h.weightDecay() != 0 && !h.decoupledWeightDecay()) {
                g += h.weightDecay() * p;
            }
            if (h.weightDecay() != 0 && h.decoupledWeightDecay()) {
                p -= h.learningRate() * h.weightDecay() * p;
            }
            double m = h.beta1() * in[2][i] + (1 - h.beta1()) * g;
            double v = h.beta2() * in[3][i] + (1 - h.beta2()) * g * g;
            double mHat = m / (1 - Math.pow(h.beta1(), h.step()));
            double vHat = v / (1 - Math.pow(h.beta2(), h.step()));
            out[0][i] = p - h.learningRate() * mHat / (Math.sqrt(vHat) + h.epsilon());
            out[1][i] = m;
            out[2][i] = v;
        }
        return out;
    }

    private static void assertClose(double expected, double actual, double rtol, String what) {
        double err = Math.abs(expected - actual);
        assertTrue(err <= rtol * Math.max(1, Math.abs(expected)), what + ": expected " + expected + ", got " + actual + " (error " + err + ")");
    }
}
