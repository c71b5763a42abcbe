package dev.metaforge.backend.dl4j;

import static dev.metaforge.backend.dl4j.Dl4jTesting.arr;
import static dev.metaforge.backend.dl4j.Dl4jTesting.assertValues;
import static dev.metaforge.backend.dl4j.Dl4jTesting.k;
import static dev.metaforge.backend.dl4j.Dl4jTesting.noise;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The kernels that call OpenBLAS directly ({@link Blas}: matmul with and without transpose flags,
 * batched and broadcast matmul, linear, biasGradient) and reluBackward's host loop, against float64 loops
 * written here. Inputs are rounded to the dtype first, so the reference sees the same operands; odd sizes
 * keep BLAS off its aligned fast paths.
 */
class BlasKernelsTest {

    /** The values as the dtype stores them (FLOAT32 rounds). */
    private static double[] rounded(DType dtype, double[] v) {
        double[] r = v.clone();
        if (dtype == DType.FLOAT32) {
            for (int i = 0; i < r.length; i++) {
                r[i] = (float) r[i];
            }
        }
        return r;
    }

    private static double tol(DType dtype, int k) {
        return (dtype == DType.FLOAT32 ? 2e-7 : 1e-15) * (k + 4);
    }

    /** Element (i, j) of a row-major [rows, cols] matrix starting at {@code off}, or of its transpose. */
    private static double at(double[] x, int off, int rows, int cols, boolean trans, int i, int j) {
        return trans ? x[off + j * cols + i] : x[off + i * cols + j];
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void transposedProductsMatchALoop(DType dtype) {
        // (batch, m, k, n): plain, odd, a row, a column, batched, a batched outer product (the host loop), a batched
        // matrix-vector product; the hypernetwork's shapes scaled down
        int[][] cases = {{1, 7, 13, 5}, {1, 66, 33, 129}, {1, 1, 9, 6}, {1, 6, 9, 1}, {3, 4, 11, 7}, {2, 17, 2, 3}, {4, 5, 1, 6}, {4, 5, 7, 1}};
        for (int[] c : cases) {
            int batch = c[0];
            int m = c[1];
            int kk = c[2];
            int n = c[3];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    double[] a = rounded(dtype, noise(batch * m * kk, 21 + m));
                    double[] b = rounded(dtype, noise(batch * kk * n, 22 + n));
                    int[] sa = batch == 1 ? (ta ? new int[] {kk, m} : new int[] {m, kk})
                            : (ta ? new int[] {batch, kk, m} : new int[] {batch, m, kk});
                    int[] sb = batch == 1 ? (tb ? new int[] {n, kk} : new int[] {kk, n})
                            : (tb ? new int[] {batch, n, kk} : new int[] {batch, kk, n});
                    double[] expected = new double[batch * m * n];
                    for (int t = 0; t < batch; t++) {
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                double acc = 0;
                                for (int p = 0; p < kk; p++) {
                                    acc += at(a, t * m * kk, ta ? kk : m, ta ? m : kk, ta, i, p)
                                            * at(b, t * kk * n, tb ? n : kk, tb ? kk : n, tb, p, j);
                                }
                                expected[(t * m + i) * n + j] = acc;
                            }
                        }
                    }
                    int[] out = batch == 1 ? new int[] {m, n} : new int[] {batch, m, n};
                    try (NativeArray x = arr(dtype, a, sa); NativeArray y = arr(dtype, b, sb)) {
                        assertValues(expected, out, dtype, k().matmul(x, y, ta, tb), tol(dtype, kk));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void broadcastBatchedProductsMatchALoop(DType dtype) {
        // batch shapes that broadcast on either side, a rank-2 operand on either side, and a folded [.., m, k] @ [k, n]
        int[][][] cases = {
                {{2, 1, 5, 7}, {3, 7, 4}},
                {{1, 5, 7}, {4, 7, 3}},
                {{5, 7}, {4, 7, 3}},
                {{3, 5, 7}, {7, 3}},
                {{2, 3, 5, 7}, {7, 9}},
                {{4, 1, 3, 2}, {1, 5, 2, 6}},
                {{25, 10, 40}, {25, 40, 1}},
                {{25, 10, 40}, {25, 40, 40}},
        };
        for (int[][] c : cases) {
            double[] a = rounded(dtype, noise(Ref.size(c[0]), 31));
            double[] b = rounded(dtype, noise(Ref.size(c[1]), 32));
            double[] expected = Ref.matmul(a, c[0], b, c[1]);
            int[] batch = Ref.broadcastShape(Arrays.copyOf(c[0], c[0].length - 2), Arrays.copyOf(c[1], c[1].length - 2));
            int[] out = Arrays.copyOf(batch, batch.length + 2);
            out[batch.length] = c[0][c[0].length - 2];
            out[batch.length + 1] = c[1][c[1].length - 1];
            try (NativeArray x = arr(dtype, a, c[0]); NativeArray y = arr(dtype, b, c[1])) {
                assertValues(expected, out, dtype, k().matmul(x, y), tol(dtype, c[0][c[0].length - 1]));
            }
        }
    }

    @Test
    void broadcastOffsetsWalkTheBatchInRowMajorOrder() {
        // from [2, 1] in batch [2, 3]: matrices 0,0,0,1,1,1; from [3] (missing leading axis): 0,1,2,0,1,2
        assertArrayEquals(new long[] {0, 0, 0, 10, 10, 10}, Dl4jKernels.broadcastOffsets(Shape.of(2, 1), Shape.of(2, 3), 10));
        assertArrayEquals(new long[] {0, 4, 8, 0, 4, 8}, Dl4jKernels.broadcastOffsets(Shape.of(3), Shape.of(2, 3), 4));
        assertArrayEquals(new long[] {0, 0, 0, 0}, Dl4jKernels.broadcastOffsets(Shape.of(), Shape.of(2, 2), 6));
        assertArrayEquals(new long[] {0}, Dl4jKernels.broadcastOffsets(Shape.of(), Shape.of(), 6));
        // [1, 3, 1] in [2, 3, 2]: the middle axis only
        assertArrayEquals(new long[] {0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2},
                Dl4jKernels.broadcastOffsets(Shape.of(1, 3, 1), Shape.of(2, 3, 2), 1));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void linearOfMatricesAddsTheBiasAfterTheProduct(DType dtype) {
        int m = 9;
        int kk = 17;
        int n = 11;
        double[] x = rounded(dtype, noise(m * kk, 41));
        double[] w = rounded(dtype, noise(kk * n, 42));
        double[] b = rounded(dtype, noise(n, 43));
        double[] expected = Ref.matmul(x, new int[] {m, kk}, w, new int[] {kk, n});
        for (int i = 0; i < expected.length; i++) {
            expected[i] += b[i % n];
        }
        try (NativeArray xa = arr(dtype, x, m, kk); NativeArray wa = arr(dtype, w, kk, n); NativeArray ba = arr(dtype, b, n)) {
            assertValues(expected, new int[] {m, n}, dtype, k().linear(xa, wa, ba), tol(dtype, kk));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void biasGradientSumsTheBroadcastAxes(DType dtype) {
        // (grad shape, bias shape): a linear layer's bias (odd sizes, one row, the hypernetwork's 66 rows), leading
        // axes, MAML's per-task biases (a middle axis, with and without trailing columns), a run of two axes, size-1
        // axes around the run, and summed axes that are not one run (the composed fallback); growing row counts
        // reuse and then replace the per-thread ones vector
        int[][][] cases = {{{1, 7}, {7}}, {{5, 3}, {3}}, {{66, 129}, {129}}, {{3, 4, 5}, {5}}, {{2, 3, 4}, {3, 4}},
                {{300, 2}, {2}}, {{7, 1}, {1}}, {{25, 10, 40}, {25, 1, 40}}, {{25, 50, 1}, {25, 1, 1}},
                {{3, 4, 5}, {1, 5}}, {{2, 3, 4, 5}, {2, 1, 1, 5}}, {{1, 5, 1, 3}, {1, 1, 3}}, {{2, 3, 4}, {1, 3, 1}},
                {{2, 1, 3}, {2, 1, 1}}};
        for (int[][] c : cases) {
            double[] g = rounded(dtype, noise(Ref.size(c[0]), 51));
            double[] expected = new double[Ref.size(c[1])];
            for (int i = 0; i < g.length; i++) {
                expected[Ref.offsetBroadcast(Ref.unravel(i, c[0]), c[1])] += g[i];
            }
            try (NativeArray ga = arr(dtype, g, c[0])) {
                assertValues(expected, c[1], dtype, k().biasGradient(ga, Shape.of(c[1])), tol(dtype, g.length / expected.length));
            }
        }
    }

    @Test
    void summedRunSplitsTheGradientAroundTheSummedAxes() {
        assertArrayEquals(new int[] {1, 66, 4096}, Dl4jKernels.summedRun(Shape.of(1, 66, 4096), Shape.of(4096)));
        assertArrayEquals(new int[] {25, 10, 40}, Dl4jKernels.summedRun(Shape.of(25, 10, 40), Shape.of(25, 1, 40)));
        assertArrayEquals(new int[] {25, 50, 1}, Dl4jKernels.summedRun(Shape.of(25, 50, 1), Shape.of(25, 1, 1)));
        assertArrayEquals(new int[] {2, 12, 5}, Dl4jKernels.summedRun(Shape.of(2, 3, 4, 5), Shape.of(2, 1, 1, 5)));
        assertArrayEquals(new int[] {1, 5, 3}, Dl4jKernels.summedRun(Shape.of(1, 5, 1, 3), Shape.of(1, 1, 3)));
        assertNull(Dl4jKernels.summedRun(Shape.of(2, 3, 4), Shape.of(1, 3, 1)));
        assertNull(Dl4jKernels.summedRun(Shape.of(1, 1, 3), Shape.of(3)));
        assertNull(Dl4jKernels.summedRun(Shape.of(0, 3), Shape.of(3)));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void reluBackwardPassesTheGradientWhereTheInputIsPositive(DType dtype) {
        double[] x = {1, 0, -0.0, -2, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e-300, -1e-30, 3};
        double[] g = {-0.0, 5, Double.NaN, 7, 8, Double.NEGATIVE_INFINITY, 2, -3, Double.POSITIVE_INFINITY, -4};
        double[] expected = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double xi = dtype == DType.FLOAT32 ? (float) x[i] : x[i];
            expected[i] = xi > 0 ? g[i] : 0.0;
        }
        try (NativeArray xa = arr(dtype, x, 2, 5); NativeArray ga = arr(dtype, g, 2, 5); NativeArray r = k().reluBackward(ga, xa)) {
            assertEquals(Shape.of(2, 5), r.shape());
            double[] got = k().toDoubles(r);
            for (int i = 0; i < x.length; i++) {
                // 1e-300 is a positive float64 but 0 as a float32
                assertEquals(Double.doubleToLongBits(expected[i]), Double.doubleToLongBits(got[i]), "element " + i);
            }
        }
        // more than two of the host loop's chunks, the last one partial
        int rows = 3;
        int cols = 1377;
        double[] big = rounded(dtype, noise(rows * cols, 61));
        double[] grads = rounded(dtype, noise(rows * cols, 62));
        double[] want = new double[big.length];
        for (int i = 0; i < big.length; i++) {
            want[i] = big[i] > 0 ? grads[i] : 0.0;
        }
        try (NativeArray xa = arr(dtype, big, rows, cols); NativeArray ga = arr(dtype, grads, rows, cols);
             NativeArray r = k().reluBackward(ga, xa)) {
            double[] got = k().toDoubles(r);
            for (int i = 0; i < want.length; i++) {
                assertEquals(Double.doubleToLongBits(want[i]), Double.doubleToLongBits(got[i]), "element " + i);
            }
        }
    }

    @Test
    void positiveMaskIsTheComparison() {
        int[] edges = {0, 1, -1, 0x7f800000, 0x7f800001, 0x7fffffff, 0x80000000, 0xff800000, 0x7f7fffff, 0x00800000};
        for (int b : edges) {
            assertEquals(Float.intBitsToFloat(b) > 0 ? -1 : 0, Dl4jKernels.positiveMask(b), "bits " + Integer.toHexString(b));
        }
        long[] edges64 = {0, 1, -1, 0x7ff0000000000000L, 0x7ff0000000000001L, Long.MAX_VALUE, Long.MIN_VALUE, 0x7fefffffffffffffL};
        for (long b : edges64) {
            assertEquals(Double.longBitsToDouble(b) > 0 ? -1L : 0L, Dl4jKernels.positiveMask(b), "bits " + Long.toHexString(b));
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        for (int i = 0; i < 1_000_000; i++) {
            int b = r.nextInt();
            long l = r.nextLong();
            assertEquals(Float.intBitsToFloat(b) > 0 ? -1 : 0, Dl4jKernels.positiveMask(b));
            assertEquals(Double.longBitsToDouble(l) > 0 ? -1L : 0L, Dl4jKernels.positiveMask(l));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void sumsOverARunOfAxesMatchALoop(DType dtype) {
        // (shape, axes): MAML's sums over its tasks, a middle run, a trailing run (contiguous sums), everything,
        // size-1 axes inside the run, and axes that are not one run (libnd4j's reduction)
        Object[][] cases = {
                {new int[] {25, 40, 40}, new int[] {0}}, {new int[] {25, 40}, new int[] {0}}, {new int[] {25, 1}, new int[] {0}},
                {new int[] {3, 4, 5}, new int[] {1}}, {new int[] {3, 4, 5}, new int[] {0, 1}}, {new int[] {3, 4, 5}, new int[] {-2, -1}},
                {new int[] {3, 4, 5}, new int[] {}}, {new int[] {3, 1, 4, 5}, new int[] {1, 2}}, {new int[] {3, 4, 5}, new int[] {0, 2}},
                {new int[] {2, 5000}, new int[] {1}},
        };
        for (Object[] c : cases) {
            int[] shape = (int[]) c[0];
            int[] axes = (int[]) c[1];
            boolean[] reduced = new boolean[shape.length];
            for (int ax : axes) {
                reduced[ax < 0 ? ax + shape.length : ax] = true;
            }
            if (axes.length == 0) {
                Arrays.fill(reduced, true);
            }
            double[] x = rounded(dtype, noise(Ref.size(shape), 81));
            double[] expected = Ref.reduce(x, shape, reduced, Double::sum, 0);
            int rows = 1;
            for (int d = 0; d < shape.length; d++) {
                rows *= reduced[d] ? shape[d] : 1;
            }
            for (boolean keep : new boolean[] {false, true}) {
                int[] out = new int[shape.length];
                int n = 0;
                for (int d = 0; d < shape.length; d++) {
                    if (!reduced[d]) {
                        out[n++] = shape[d];
                    } else if (keep) {
                        out[n++] = 1;
                    }
                }
                try (NativeArray a = arr(dtype, x, shape)) {
                    assertValues(expected, Arrays.copyOf(out, n), dtype,
                            k().reduce(dev.metaforge.spi.ReduceOp.SUM, a, axes, keep), tol(dtype, rows));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void linearWithBroadcastBiasesMatchesALoop(DType dtype) {
        // (x, w, b): folded rows with a vector bias, MAML's per-task weights and biases, a broadcast x, a column
        // bias, a widening bias (the unfused path), inner dimension 1 (the exact outer product, then the add), and an
        // output above the Java broadcast's size (libnd4j fills the bias)
        int[][][] cases = {
                {{1, 6, 9}, {9, 13}, {13}}, {{5, 7, 4}, {5, 4, 3}, {5, 1, 3}}, {{7, 4}, {5, 4, 3}, {5, 1, 3}},
                {{6, 9}, {9, 13}, {6, 1}}, {{6, 9}, {9, 13}, {2, 1, 13}}, {{5, 7, 1}, {5, 1, 3}, {5, 1, 3}},
                {{70, 300}, {300, 41}, {41}}, {{1, 70, 8}, {8, 4000}, {4000}},
                // inner dimension 1 on the host loop: a shared weight and vector bias, a row bias, rank 4
                {{4, 6, 1}, {1, 5}, {5}}, {{6, 1}, {1, 5}, {1, 5}}, {{3, 2, 5, 1}, {3, 2, 1, 4}, {3, 2, 1, 4}},
                // output dimension 1 (BLAS): MAML's per-task output layer, a shared weight, a matrix
                {{5, 7, 4}, {5, 4, 1}, {5, 1, 1}}, {{3, 6, 9}, {9, 1}, {1}}, {{6, 9}, {9, 1}, {1}},
        };
        for (int[][] c : cases) {
            double[] x = rounded(dtype, noise(Ref.size(c[0]), 91));
            double[] w = rounded(dtype, noise(Ref.size(c[1]), 92));
            double[] b = rounded(dtype, noise(Ref.size(c[2]), 93));
            double[] y = Ref.matmul(x, c[0], w, c[1]);
            int[] batch = Ref.broadcastShape(Arrays.copyOf(c[0], c[0].length - 2), Arrays.copyOf(c[1], c[1].length - 2));
            int[] ys = Arrays.copyOf(batch, batch.length + 2);
            ys[batch.length] = c[0][c[0].length - 2];
            ys[batch.length + 1] = c[1][c[1].length - 1];
            double[] expected = Ref.binary(y, ys, b, c[2], Double::sum);
            try (NativeArray xa = arr(dtype, x, c[0]); NativeArray wa = arr(dtype, w, c[1]); NativeArray ba = arr(dtype, b, c[2])) {
                assertValues(expected, Ref.broadcastShape(ys, c[2]), dtype, k().linear(xa, wa, ba), tol(dtype, c[0][c[0].length - 1]));
            }
        }
    }

    @Test
    void outerProductsOnTheHostKeepTheNativeRoutesBits() {
        // inner dimension 1 is one Java pass: each element (x * w + 0.0) + b in float32, the operations the native
        // multiply, + 0.0 and bias add made, so the bits must equal this scalar loop's; -0.0 products become +0.0
        // as in a GEMM (its accumulator starts at +0.0)
        int batch = 3;
        int m = 5;
        int n = 4;
        double[] x = rounded(DType.FLOAT32, noise(batch * m, 61));
        double[] w = rounded(DType.FLOAT32, noise(batch * n, 62));
        double[] b = rounded(DType.FLOAT32, noise(batch * n, 63));
        x[0] = -1.0;
        w[0] = 0.0; // x[0] * w[0] = -0.0
        x[1] = 3.0e-30;
        w[1] = 2.0e-20; // a product that underflows float32 to +0.0
        try (NativeArray xa = arr(DType.FLOAT32, x, new int[] {batch, m, 1});
             NativeArray wa = arr(DType.FLOAT32, w, new int[] {batch, 1, n});
             NativeArray ba = arr(DType.FLOAT32, b, new int[] {batch, 1, n});
             NativeArray product = k().matmul(xa, wa);
             NativeArray linear = k().linear(xa, wa, ba)) {
            double[] gotProduct = k().toDoubles(product);
            double[] gotLinear = k().toDoubles(linear);
            for (int e = 0; e < batch; e++) {
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        int at = (e * m + i) * n + j;
                        float p = (float) x[e * m + i] * (float) w[e * n + j] + 0.0f;
                        float l = p + (float) b[e * n + j];
                        assertEquals(Float.floatToRawIntBits(p), Float.floatToRawIntBits((float) gotProduct[at]),
                                "product bits at " + at);
                        assertEquals(Float.floatToRawIntBits(l), Float.floatToRawIntBits((float) gotLinear[at]),
                                "linear bits at " + at);
                    }
                }
            }
            assertEquals(0, Float.floatToRawIntBits((float) gotProduct[0]), "-0.0 product is +0.0");
        }
    }
}
