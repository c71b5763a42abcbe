package dev.metaforge.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.tck.ComposedKernels;
import org.junit.jupiter.api.Test;

class LinearAlgebraTest extends DjlTestSupport {

    /** Plain [m, k] @ [k, n]. */
    static double[] mm(double[] a, double[] b, int m, int kk, int n) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < kk; p++) {
                    s += a[i * kk + p] * b[p * n + j];
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    @Test
    void matmulOfMatrices() {
        check(k.matmul(f64(d(1, 2, 3, 4, 5, 6), 2, 3), f64(d(7, 8, 9, 10, 11, 12), 3, 2)), DType.FLOAT64, shape(2, 2),
                58, 64, 139, 154);
        double[] a = random(1, 5 * 7);
        double[] b = random(2, 7 * 4);
        near(k.matmul(f32(a, 5, 7), f32(b, 7, 4)), DType.FLOAT32, shape(5, 4), 1e-5, mm(asFloats(a), asFloats(b), 5, 7, 4));
    }

    @Test
    void matmulBroadcastsBatchDimensions() {
        // [2, 1, 3, 4] @ [3, 4, 5] -> [2, 3, 3, 5]
        double[] a = random(3, 2 * 3 * 4);
        double[] b = random(4, 3 * 4 * 5);
        double[] expected = new double[2 * 3 * 3 * 5];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                double[] ai = java.util.Arrays.copyOfRange(a, i * 12, i * 12 + 12);
                double[] bj = java.util.Arrays.copyOfRange(b, j * 20, j * 20 + 20);
                System.arraycopy(mm(ai, bj, 3, 4, 5), 0, expected, (i * 3 + j) * 15, 15);
            }
        }
        near(k.matmul(f64(a, 2, 1, 3, 4), f64(b, 3, 4, 5)), DType.FLOAT64, shape(2, 3, 3, 5), 1e-14, expected);
    }

    @Test
    void matmulRejectsVectorsAndMismatches() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.matmul(f64(d(1, 2), 2), f64(d(1, 2), 2, 1)));
        assertTrue(e.getMessage().contains("rank >= 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.matmul(f64(new double[6], 2, 3), f64(new double[6], 2, 3)));
        assertTrue(e.getMessage().contains("inner dimensions"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> k.matmul(f64(new double[8], 2, 2, 2), f64(new double[12], 3, 2, 2)));
        assertTrue(e.getMessage().contains("batch dimensions"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.matmul(i64(new long[4], 2, 2), i64(new long[4], 2, 2)));
        assertTrue(e.getMessage().contains("INT64"), e.getMessage());
    }

    @Test
    void linearIsMatmulPlusBias() {
        double[] x = random(5, 3 * 2 * 4);
        double[] w = random(6, 4 * 5);
        double[] b = random(7, 5);
        double[] expected = mm(x, w, 6, 4, 5);
        for (int r = 0; r < 6; r++) {
            for (int j = 0; j < 5; j++) {
                expected[r * 5 + j] += b[j];
            }
        }
        near(k.linear(f64(x, 3, 2, 4), f64(w, 4, 5), f64(b, 5)), DType.FLOAT64, shape(3, 2, 5), 1e-14, expected);
        near(k.linear(f64(x, 6, 4), f64(w, 4, 5), null), DType.FLOAT64, shape(6, 5), 1e-14, mm(x, w, 6, 4, 5));
        near(k.linear(f32(x, 6, 4), f32(w, 4, 5), f32(b, 5)), DType.FLOAT32, shape(6, 5), 1e-5,
                addRow(mm(asFloats(x), asFloats(w), 6, 4, 5), asFloats(b)));
        // a batch of weights and a broadcast bias take the composed path
        double[] w2 = random(8, 3 * 4 * 5);
        double[] expected2 = new double[3 * 2 * 5];
        for (int i = 0; i < 3; i++) {
            double[] xi = java.util.Arrays.copyOfRange(x, i * 8, i * 8 + 8);
            double[] wi = java.util.Arrays.copyOfRange(w2, i * 20, i * 20 + 20);
            System.arraycopy(addRow(mm(xi, wi, 2, 4, 5), b), 0, expected2, i * 10, 10);
        }
        near(k.linear(f64(x, 3, 2, 4), f64(w2, 3, 4, 5), f64(b, 1, 1, 5)), DType.FLOAT64, shape(3, 2, 5), 1e-14, expected2);
    }

    private static double[] addRow(double[] m, double[] row) {
        double[] out = m.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += row[i % row.length];
        }
        return out;
    }

    /** The SPI's composed Adam, in Java float64 arithmetic, operation for operation. */
    private static double[][] adam(double[] p, double[] g, double[] m, double[] v, AdamStep h) {
        int n = p.length;
        double[] np = new double[n];
        double[] nm = new double[n];
        double[] nv = new double[n];
        double c1 = 1 - Math.pow(h.beta1(), h.step());
        double c2 = 1 - Math.pow(h.beta2(), h.step());
        for (int i = 0; i < n; i++) {
            double gi = h.weightDecay() != 0 && !h.decoupledWeightDecay() ? g[i] + p[i] * h.weightDecay() : g[i];
            nm[i] = m[i] * h.beta1() + gi * (1 - h.beta1());
            nv[i] = v[i] * h.beta2() + gi * gi * (1 - h.beta2());
            double step = nm[i] / (Math.sqrt(nv[i] / c2) + h.epsilon()) * (h.learningRate() / c1);
            np[i] = h.weightDecay() != 0 && h.decoupledWeightDecay()
                    ? p[i] * (1 - h.learningRate() * h.weightDecay()) - step
                    : p[i] - step;
        }
        return new double[][] {np, nm, nv};
    }

    @Test
    void fusedAdamMatchesTheComposedFormula() {
        double[] p = random(11, 12);
        double[] g = random(12, 12);
        double[] m = random(13, 12);
        double[] v = random(14, 12);
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]);
        }
        AdamStep[] steps = {
            new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1),
            new AdamStep(0.05, 0.8, 0.99, 1e-6, 0.01, false, 3),
            new AdamStep(0.05, 0.8, 0.99, 1e-3, 0.1, true, 7),
        };
        for (AdamStep h : steps) {
            double[][] e = adam(p, g, m, v, h);
            NativeArray[] in64 = {f64(p, 3, 4), f64(g, 3, 4), f64(m, 3, 4), f64(v, 3, 4)};
            AdamResult r64 = k.adamUpdate(in64[0], in64[1], in64[2], in64[3], h);
            // float64 follows the composed default's arithmetic exactly
            assertArrayEquals(e[0], k.toDoubles(r64.param()), 0, "param " + h);
            assertArrayEquals(e[1], k.toDoubles(r64.m()), 0, "m " + h);
            assertArrayEquals(e[2], k.toDoubles(r64.v()), 0, "v " + h);
            assertArrayEquals(p, k.toDoubles(in64[0]), 0, "inputs unchanged");
            assertArrayEquals(m, k.toDoubles(in64[2]), 0, "inputs unchanged");
            assertArrayEquals(v, k.toDoubles(in64[3]), 0, "inputs unchanged");

            double[][] e32 = adam(asFloats(p), asFloats(g), asFloats(m), asFloats(v), h);
            NativeArray[] in32 = {f32(p, 3, 4), f32(g, 3, 4), f32(m, 3, 4), f32(v, 3, 4)};
            AdamResult r32 = k.adamUpdate(in32[0], in32[1], in32[2], in32[3], h);
            near(r32.param(), DType.FLOAT32, shape(3, 4), 1e-5, e32[0]);
            near(r32.m(), DType.FLOAT32, shape(3, 4), 1e-6, e32[1]);
            near(r32.v(), DType.FLOAT32, shape(3, 4), 1e-6, e32[2]);
            assertArrayEquals(asFloats(p), k.toDoubles(in32[0]), 0, "inputs unchanged");
            assertArrayEquals(asFloats(g), k.toDoubles(in32[1]), 0, "inputs unchanged");
        }
    }

    @Test
    void fusedKernelsGiveExactlyTheComposedResults() {
        ComposedKernels composed = new ComposedKernels(k);
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            NativeArray x = k.fromDoubles(random(51, 2 * 3 * 8), dev.metaforge.spi.Shape.of(2, 3, 8), dtype);
            NativeArray w = k.fromDoubles(random(52, 8 * 5), dev.metaforge.spi.Shape.of(8, 5), dtype);
            NativeArray b = k.fromDoubles(random(53, 5), dev.metaforge.spi.Shape.of(5), dtype);
            NativeArray rowBias = k.fromDoubles(random(54, 3 * 5), dev.metaforge.spi.Shape.of(3, 5), dtype);
            for (NativeArray bias : new NativeArray[] {b, rowBias, null}) {
                assertArrayEquals(composed.toDoubles(composed.linear(x, w, bias)), k.toDoubles(k.linear(x, w, bias)), 0);
            }
            double[] v = random(55, 12);
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.abs(v[i]);
            }
            NativeArray p = k.fromDoubles(random(56, 12), dev.metaforge.spi.Shape.of(12), dtype);
            NativeArray g = k.fromDoubles(random(57, 12), dev.metaforge.spi.Shape.of(12), dtype);
            NativeArray m = k.fromDoubles(random(58, 12), dev.metaforge.spi.Shape.of(12), dtype);
            NativeArray vv = k.fromDoubles(v, dev.metaforge.spi.Shape.of(12), dtype);
            for (AdamStep h : new AdamStep[] {new AdamStep(0.01, 0.9, 0.999, 1e-8, 0.1, false, 2),
                    new AdamStep(0.01, 0.9, 0.999, 1e-8, 0.1, true, 5)}) {
                AdamResult fused = k.adamUpdate(p, g, m, vv, h);
                AdamResult slow = composed.adamUpdate(p, g, m, vv, h);
                assertArrayEquals(k.toDoubles(slow.param()), k.toDoubles(fused.param()), 0, dtype + " " + h);
                assertArrayEquals(k.toDoubles(slow.m()), k.toDoubles(fused.m()), 0, dtype + " " + h);
                assertArrayEquals(k.toDoubles(slow.v()), k.toDoubles(fused.v()), 0, dtype + " " + h);
            }
        }
    }

    @Test
    void adamRejectsMismatchedArguments() {
        AdamStep h = new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1);
        NativeArray a = f32(d(1, 2), 2);
        assertThrows(IllegalArgumentException.class, () -> k.adamUpdate(a, f64(d(1, 2), 2), a, a, h));
        assertThrows(IllegalArgumentException.class, () -> k.adamUpdate(a, f32(d(1, 2, 3), 3), a, a, h));
    }

    @Test
    void conv2dMatchesLoops() {
        int n = 2;
        int c = 3;
        int hgt = 5;
        int wid = 4;
        int o = 2;
        int kh = 3;
        int kw = 2;
        int[] stride = {2, 1};
        int[] pad = {1, 0};
        double[] x = random(21, n * c * hgt * wid);
        double[] w = random(22, o * c * kh * kw);
        int oh = (hgt + 2 * pad[0] - kh) / stride[0] + 1;
        int ow = (wid + 2 * pad[1] - kw) / stride[1] + 1;
        double[] expected = new double[n * o * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int q = 0; q < o; q++) {
                for (int y = 0; y < oh; y++) {
                    for (int z = 0; z < ow; z++) {
                        double s = 0;
                        for (int ch = 0; ch < c; ch++) {
                            for (int r = 0; r < kh; r++) {
                                for (int t = 0; t < kw; t++) {
                                    int iy = y * stride[0] - pad[0] + r;
                                    int ix = z * stride[1] - pad[1] + t;
                                    if (iy >= 0 && iy < hgt && ix >= 0 && ix < wid) {
                                        s += w[((q * c + ch) * kh + r) * kw + t] * x[((b * c + ch) * hgt + iy) * wid + ix];
                                    }
                                }
                            }
                        }
                        expected[((b * o + q) * oh + y) * ow + z] = s;
                    }
                }
            }
        }
        NativeArray out = k.conv2d(f64(x, n, c, hgt, wid), f64(w, o, c, kh, kw), stride, pad);
        near(out, DType.FLOAT64, shape(n, o, oh, ow), 1e-13, expected);
        assertEquals(DType.FLOAT64, out.dtype());
        assertThrows(IllegalArgumentException.class,
                () -> k.conv2d(f64(x, n, c, hgt, wid), f64(new double[o * 2 * kh * kw], o, 2, kh, kw), stride, pad));
    }
}
