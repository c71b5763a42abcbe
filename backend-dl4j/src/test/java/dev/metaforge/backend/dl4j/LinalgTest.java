package dev.metaforge.backend.dl4j;

import static dev.metaforge.backend.dl4j.Dl4jTesting.arr;
import static dev.metaforge.backend.dl4j.Dl4jTesting.assertLongs;
import static dev.metaforge.backend.dl4j.Dl4jTesting.assertValues;
import static dev.metaforge.backend.dl4j.Dl4jTesting.dims;
import static dev.metaforge.backend.dl4j.Dl4jTesting.f32;
import static dev.metaforge.backend.dl4j.Dl4jTesting.f64;
import static dev.metaforge.backend.dl4j.Dl4jTesting.i64;
import static dev.metaforge.backend.dl4j.Dl4jTesting.k;
import static dev.metaforge.backend.dl4j.Dl4jTesting.noise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.tck.ComposedKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LinalgTest {

    /** (a shape, b shape) pairs: plain, batched, broadcast batch, rank growth on either side. */
    static final int[][][] MATMUL_SHAPES = {
            {{2, 3}, {3, 4}},
            {{1, 1}, {1, 1}},
            {{2, 2, 3}, {2, 3, 4}},
            {{2, 5, 3}, {3, 2}},
            {{3, 2}, {4, 2, 5}},
            {{2, 1, 3, 4}, {5, 4, 2}},
            {{1, 2, 3}, {4, 1, 3, 2}},
            {{2, 3, 2, 2}, {2, 3, 2, 2}},
    };

    @ParameterizedTest
    @EnumSource(DType.class)
    void matmulHasNumPySemantics(DType dtype) {
        for (int[][] pair : MATMUL_SHAPES) {
            double[] a = noise(Ref.size(pair[0]), 3);
            double[] b = noise(Ref.size(pair[1]), 4);
            if (dtype == DType.INT64) {
                for (int i = 0; i < a.length; i++) {
                    a[i] = Math.round(a[i] * 10);
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = Math.round(b[i] * 10);
                }
            }
            double[] expected = Ref.matmul(a, pair[0], b, pair[1]);
            int[] ba = java.util.Arrays.copyOf(pair[0], pair[0].length - 2);
            int[] bb = java.util.Arrays.copyOf(pair[1], pair[1].length - 2);
            int[] batch = Ref.broadcastShape(ba, bb);
            int[] out = java.util.Arrays.copyOf(batch, batch.length + 2);
            out[batch.length] = pair[0][pair[0].length - 2];
            out[batch.length + 1] = pair[1][pair[1].length - 1];
            assertValues(expected, out, dtype, k().matmul(arr(dtype, a, pair[0]), arr(dtype, b, pair[1])),
                    dtype == DType.FLOAT32 ? 1e-5 : 1e-12);
        }
    }

    @Test
    void matmulWithEmptyDimensions() {
        assertValues(new double[6], dims(2, 3), k().matmul(f64(new double[0], 2, 0), f64(new double[0], 0, 3)));
        assertValues(new double[0], dims(0, 3), k().matmul(f64(new double[0], 0, 2), f64(new double[6], 2, 3)));
        assertValues(new double[0], dims(0, 2, 3), k().matmul(f32(new double[0], 0, 2, 4), f32(new double[12], 4, 3)));
        assertLongs(new long[4], dims(2, 2), k().matmul(i64(new long[0], 2, 0), i64(new long[0], 0, 2)));
    }

    @Test
    void matmulRefusesRankOneAndMismatchesClearly() {
        try (NativeArray v = f64(new double[3], 3); NativeArray m = f64(new double[6], 3, 2); NativeArray n = f64(new double[8], 4, 2);
             NativeArray b1 = f64(new double[12], 2, 3, 2); NativeArray b2 = f64(new double[12], 3, 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k().matmul(v, m));
            assertTrue(e.getMessage().contains("rank-1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> k().matmul(m, n));
            assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[4, 2]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> k().matmul(b1, b2));
            assertTrue(e.getMessage().contains("batch"), e.getMessage());
        }
    }

    @Test
    void matmulOf1024SquaredFloat32MatchesSpotChecks() {
        int n = 256;
        double[] a = noise(n * n, 11);
        double[] b = noise(n * n, 12);
        try (NativeArray x = f32(a, n, n); NativeArray y = f32(b, n, n); NativeArray z = k().matmul(x, y)) {
            float[] got = k().toFloats(z);
            for (int[] ij : new int[][] {{0, 0}, {17, 200}, {255, 255}, {128, 3}}) {
                double acc = 0;
                for (int p = 0; p < n; p++) {
                    acc += (float) a[ij[0] * n + p] * (double) (float) b[p * n + ij[1]];
                }
                assertEquals(acc, got[ij[0] * n + ij[1]], 1e-3);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void linearEqualsMatmulPlusBias(DType dtype) {
        int[][][] cases = {
                {{4, 3}, {3, 5}, {5}},
                {{4, 3}, {3, 5}, {1, 5}},
                {{2, 4, 3}, {3, 5}, {5}},
                {{4, 3}, {3, 5}, {4, 1}},
                {{4, 3}, {3, 5}, {2, 1, 5}},
        };
        for (int[][] c : cases) {
            double[] x = noise(Ref.size(c[0]), 5);
            double[] w = noise(Ref.size(c[1]), 6);
            double[] b = noise(Ref.size(c[2]), 7);
            double[] y = Ref.matmul(x, c[0], w, c[1]);
            int[] ys = c[0].length == 3 ? new int[] {c[0][0], c[0][1], c[1][1]} : new int[] {c[0][0], c[1][1]};
            double[] expected = Ref.binary(y, ys, b, c[2], Double::sum);
            assertValues(expected, Ref.broadcastShape(ys, c[2]), dtype,
                    k().linear(arr(dtype, x, c[0]), arr(dtype, w, c[1]), arr(dtype, b, c[2])), dtype == DType.FLOAT32 ? 1e-5 : 1e-12);
        }
        double[] x = noise(6, 1);
        double[] w = noise(6, 2);
        assertValues(Ref.matmul(x, dims(2, 3), w, dims(3, 2)), dims(2, 2), dtype,
                k().linear(arr(dtype, x, 2, 3), arr(dtype, w, 3, 2), null), 1e-6);
    }

    @Test
    void linearRefusesMixedDtypes() {
        try (NativeArray x = f32(new double[6], 2, 3); NativeArray w = f32(new double[6], 3, 2); NativeArray b = f64(new double[2], 2)) {
            assertThrows(IllegalArgumentException.class, () -> k().linear(x, w, b));
        }
    }

    /** Naive NCHW/OIHW cross-correlation with zero padding. */
    static double[] conv(double[] x, int[] sx, double[] w, int[] sw, int[] stride, int[] pad) {
        int n = sx[0];
        int c = sx[1];
        int h = sx[2];
        int wd = sx[3];
        int o = sw[0];
        int kh = sw[2];
        int kw = sw[3];
        int oh = (h + 2 * pad[0] - kh) / stride[0] + 1;
        int ow = (wd + 2 * pad[1] - kw) / stride[1] + 1;
        double[] out = new double[n * o * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int f = 0; f < o; f++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double acc = 0;
                        for (int ch = 0; ch < c; ch++) {
                            for (int p = 0; p < kh; p++) {
                                for (int q = 0; q < kw; q++) {
                                    int yy = i * stride[0] - pad[0] + p;
                                    int xx = j * stride[1] - pad[1] + q;
                                    if (yy >= 0 && yy < h && xx >= 0 && xx < wd) {
                                        acc += x[((b * c + ch) * h + yy) * wd + xx] * w[((f * c + ch) * kh + p) * kw + q];
                                    }
                                }
                            }
                        }
                        out[((b * o + f) * oh + i) * ow + j] = acc;
                    }
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void conv2dIsCrossCorrelationNchwOihw(DType dtype) {
        int[][][] cases = {
                {{2, 3, 5, 6}, {4, 3, 3, 3}, {1, 1}, {0, 0}},
                {{1, 2, 7, 5}, {3, 2, 3, 2}, {2, 1}, {1, 2}},
                {{1, 1, 4, 4}, {1, 1, 1, 1}, {2, 2}, {0, 0}},
        };
        for (int[][] c : cases) {
            double[] x = noise(Ref.size(c[0]), 8);
            double[] w = noise(Ref.size(c[1]), 9);
            double[] expected = conv(x, c[0], w, c[1], c[2], c[3]);
            int oh = (c[0][2] + 2 * c[3][0] - c[1][2]) / c[2][0] + 1;
            int ow = (c[0][3] + 2 * c[3][1] - c[1][3]) / c[2][1] + 1;
            assertValues(expected, dims(c[0][0], c[1][0], oh, ow), dtype,
                    k().conv2d(arr(dtype, x, c[0]), arr(dtype, w, c[1]), c[2], c[3]), dtype == DType.FLOAT32 ? 1e-5 : 1e-12);
        }
        assertTrue(Dl4jTesting.backend().supports(Capability.CONVOLUTION));
    }

    @Test
    void conv2dRefusesBadShapes() {
        try (NativeArray x = f32(new double[16], 1, 1, 4, 4); NativeArray w = f32(new double[18], 1, 2, 3, 3);
             NativeArray big = f32(new double[25], 1, 1, 5, 5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k().conv2d(x, w, new int[] {1, 1}, new int[] {0, 0}));
            assertTrue(e.getMessage().contains("channels"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k().conv2d(x, big, new int[] {1, 1}, new int[] {0, 0}));
            assertThrows(IllegalArgumentException.class, () -> k().conv2d(x, x, new int[] {0, 1}, new int[] {0, 0}));
        }
    }

    /** Adam/AdamW in float64 Java, PyTorch's formula (epsilon after the square root). */
    static double[][] adamRef(double[] p, double[] g, double[] m, double[] v, AdamStep h) {
        int n = p.length;
        double[] np = new double[n];
        double[] nm = new double[n];
        double[] nv = new double[n];
        double c1 = 1 - Math.pow(h.beta1(), h.step());
        double c2 = 1 - Math.pow(h.beta2(), h.step());
        for (int i = 0; i < n; i++) {
            double gi = g[i] + (h.decoupledWeightDecay() ? 0 : h.weightDecay() * p[i]);
            nm[i] = h.beta1() * m[i] + (1 - h.beta1()) * gi;
            nv[i] = h.beta2() * v[i] + (1 - h.beta2()) * gi * gi;
            double step = h.learningRate() / c1 * nm[i] / (Math.sqrt(nv[i] / c2) + h.epsilon());
            double base = h.decoupledWeightDecay() ? p[i] * (1 - h.learningRate() * h.weightDecay()) : p[i];
            np[i] = base - step;
        }
        return new double[][] {np, nm, nv};
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void fusedAdamMatchesTheFormulaAndTheComposedDefault(DType dtype) {
        ComposedKernels composed = new ComposedKernels(k());
        AdamStep[] steps = {
                new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1),
                new AdamStep(1e-2, 0.8, 0.99, 1e-6, 0.1, false, 7),
                new AdamStep(1e-2, 0.9, 0.999, 1e-8, 0.05, true, 3),
                new AdamStep(0, 0.9, 0.999, 1e-8, 0, false, 2),
        };
        int[] shape = {3, 4};
        double[] p = noise(12, 21);
        double[] g = noise(12, 22);
        double[] m = noise(12, 23);
        double[] v = noise(12, 24);
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]);
        }
        for (AdamStep h : steps) {
            double[][] expected = adamRef(p, g, m, v, h);
            try (NativeArray pa = arr(dtype, p, shape); NativeArray ga = arr(dtype, g, shape);
                 NativeArray ma = arr(dtype, m, shape); NativeArray va = arr(dtype, v, shape)) {
                AdamResult fused = k().adamUpdate(pa, ga, ma, va, h);
                AdamResult slow = composed.adamUpdate(pa, ga, ma, va, h);
                double tol = dtype == DType.FLOAT32 ? 2e-6 : 1e-12;
                double[] slowParam = k().toDoubles(slow.param());
                double[] slowM = k().toDoubles(slow.m());
                double[] slowV = k().toDoubles(slow.v());
                slow.param().close();
                slow.m().close();
                slow.v().close();
                assertValues(slowParam, shape, dtype, k().cast(fused.param(), dtype), tol);
                assertValues(slowM, shape, dtype, k().cast(fused.m(), dtype), tol);
                assertValues(slowV, shape, dtype, k().cast(fused.v(), dtype), tol);
                assertValues(expected[0], shape, dtype, fused.param(), dtype == DType.FLOAT32 ? 1e-5 : 1e-12);
                assertValues(expected[1], shape, dtype, fused.m(), dtype == DType.FLOAT32 ? 1e-5 : 1e-12);
                assertValues(expected[2], shape, dtype, fused.v(), dtype == DType.FLOAT32 ? 1e-5 : 1e-12);
                // inputs untouched
                assertValues(p, shape, dtype, k().cast(pa, dtype), 1e-6);
                assertValues(m, shape, dtype, k().cast(ma, dtype), 1e-6);
            }
        }
        assertTrue(Dl4jTesting.backend().supports(Capability.FUSED_ADAM));
        assertTrue(Dl4jTesting.backend().supports(Capability.FUSED_LINEAR));
    }

    /**
     * Parameters donated: entries 0 and 2 have their parameters written in place and handed back,
     * entry 1's is entry 2's gradient and so keeps its values and gets a new array; every result equals the
     * non-donating foreach update's bit for bit (and so the per-tensor kernel's, FUSED-ADAM-2).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void donatedAdamWritesOnlyUnsharedParamsInPlace(DType dtype) {
        AdamStep h = new AdamStep(1e-2, 0.9, 0.999, 1e-8, 0.01, true, 5);
        int[] shape = {4, 5};
        double[][] in = new double[10][];
        for (int i = 0; i < in.length; i++) {
            in[i] = noise(20, 40 + i);
        }
        for (int i : new int[] {7, 8, 9}) {
            for (int j = 0; j < 20; j++) {
                in[i][j] = Math.abs(in[i][j]); // second moments
            }
        }
        java.util.List<NativeArray> a = new java.util.ArrayList<>();
        java.util.List<NativeArray> b = new java.util.ArrayList<>();
        for (double[] d : in) {
            a.add(arr(dtype, d, shape));
            b.add(arr(dtype, d, shape));
        }
        // p0 p1 p2 g0 g2 m0 m1 m2 | v from in[7..9]; entry 1's gradient is g0, entry 2's is p1
        java.util.List<AdamResult> donated = k().adamUpdateForeachInPlace(java.util.List.of(a.get(0), a.get(1), a.get(2)),
                java.util.List.of(a.get(3), a.get(3), a.get(1)), java.util.List.of(a.get(5), a.get(6), a.get(4)),
                java.util.List.of(a.get(7), a.get(8), a.get(9)), h);
        java.util.List<AdamResult> plain = k().adamUpdateForeach(java.util.List.of(b.get(0), b.get(1), b.get(2)),
                java.util.List.of(b.get(3), b.get(3), b.get(1)), java.util.List.of(b.get(5), b.get(6), b.get(4)),
                java.util.List.of(b.get(7), b.get(8), b.get(9)), h);
        org.junit.jupiter.api.Assertions.assertSame(a.get(0), donated.get(0).param(), "an unshared param is written in place");
        org.junit.jupiter.api.Assertions.assertNotSame(a.get(1), donated.get(1).param(), "entry 2 reads param 1");
        org.junit.jupiter.api.Assertions.assertSame(a.get(2), donated.get(2).param(), "param 2 is read by no other entry");
        org.junit.jupiter.api.Assertions.assertArrayEquals(in[1], k().toDoubles(k().cast(a.get(1), DType.FLOAT64)),
                dtype == DType.FLOAT32 ? 1e-6 : 0, "a shared param keeps its values");
        for (int e = 0; e < 3; e++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(k().toDoubles(plain.get(e).param()), k().toDoubles(donated.get(e).param()));
            org.junit.jupiter.api.Assertions.assertArrayEquals(k().toDoubles(plain.get(e).m()), k().toDoubles(donated.get(e).m()));
            org.junit.jupiter.api.Assertions.assertArrayEquals(k().toDoubles(plain.get(e).v()), k().toDoubles(donated.get(e).v()));
        }
        donated.get(1).param().close();
        for (AdamResult r : plain) {
            r.param().close();
        }
        a.forEach(NativeArray::close);
        b.forEach(NativeArray::close);
    }

    @Test
    void adamRefusesMismatchedShapes() {
        try (NativeArray p = f32(new double[4], 4); NativeArray g = f32(new double[4], 2, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k().adamUpdate(p, g, p, p, new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1)));
            assertTrue(e.getMessage().contains("[2, 2]"), e.getMessage());
        }
    }

    /**
     * Inner dimension 1 takes a broadcasting multiply instead of the GEMM. Expected values: each
     * element is the product rounded to the dtype, then + 0.0 (the GEMM's accumulator starts at
     * zero, so a -0.0 product comes out +0.0), computed here in Java and compared bit for bit,
     * signed zeros, NaN, infinities and underflow included; every orientation and a shared b.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void innerDimensionOneIsTheProductPlusZero(DType dtype) {
        double[] a = {0, -0.0, 1, -2, 3, 0, 1e-30, Double.NaN, -1e-200, 5};
        double[] b = {-1, 0, 2, -0.0, 1e-30, Double.POSITIVE_INFINITY, 1e-200, -3};
        int batch = 2;
        int m = 5;
        int n = 4;
        double[] expected = new double[batch * m * n];
        double[] shared = new double[batch * m * n]; // b's first batch entry for every batch entry
        for (int t = 0; t < batch; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    expected[(t * m + i) * n + j] = product(dtype, a[t * m + i], b[t * n + j]);
                    shared[(t * m + i) * n + j] = product(dtype, a[t * m + i], b[j]);
                }
            }
        }
        try (NativeArray col = arr(dtype, a, batch, m, 1); NativeArray row = arr(dtype, b, batch, 1, n);
             NativeArray colT = arr(dtype, a, batch, 1, m); NativeArray rowT = arr(dtype, b, batch, n, 1);
             NativeArray row2 = arr(dtype, java.util.Arrays.copyOf(b, n), 1, n)) {
            assertBits(expected, k().matmul(col, row));
            assertBits(expected, k().matmul(colT, rowT, true, true));
            assertBits(expected, k().matmul(col, rowT, false, true));
            assertBits(expected, k().matmul(colT, row, true, false));
            assertBits(shared, k().matmul(col, row2));
        }
    }

    private static double product(DType dtype, double x, double y) {
        return dtype == DType.FLOAT32 ? (double) ((float) x * (float) y + 0.0f) : x * y + 0.0;
    }

    private static void assertBits(double[] expected, NativeArray actual) {
        try (actual) {
            double[] got = k().toDoubles(actual);
            assertEquals(expected.length, got.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Double.doubleToLongBits(expected[i]), Double.doubleToLongBits(got[i]),
                        "element " + i + ": expected " + expected[i] + ", got " + got[i]);
            }
        }
    }
}
