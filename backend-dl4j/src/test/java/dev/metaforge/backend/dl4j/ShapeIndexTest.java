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
import static dev.metaforge.backend.dl4j.Dl4jTesting.ramp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ShapeIndexTest {

    @ParameterizedTest
    @EnumSource(DType.class)
    void reshapeKeepsRowMajorOrder(DType dtype) {
        double[] x = ramp(24, 1, 0);
        assertValues(x, dims(4, 6), dtype, k().reshape(arr(dtype, x, 2, 3, 4), Shape.of(4, 6)), 0);
        assertValues(x, dims(24), dtype, k().reshape(arr(dtype, x, 2, 3, 4), Shape.of(24)), 0);
        assertValues(new double[] {5}, dims(), dtype, k().reshape(arr(dtype, new double[] {5}, 1, 1), Shape.scalar()), 0);
        assertValues(new double[0], dims(0, 5), dtype, k().reshape(arr(dtype, new double[0], 5, 0), Shape.of(0, 5)), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k().reshape(arr(dtype, x, 24), Shape.of(5, 5)));
        assertTrue(e.getMessage().contains("[5, 5]"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void transposeMovesAxes(DType dtype) {
        int[] s = {2, 3, 4};
        double[] x = ramp(24, 1, -5);
        for (int[] perm : new int[][] {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {0, 2, 1}, {-1, 0, -2}}) {
            int[] p = perm.clone();
            for (int i = 0; i < 3; i++) {
                p[i] = p[i] < 0 ? p[i] + 3 : p[i];
            }
            int[] out = {s[p[0]], s[p[1]], s[p[2]]};
            assertValues(Ref.transpose(x, s, p), out, dtype, k().transpose(arr(dtype, x, s), perm), 0);
        }
        assertValues(new double[] {1}, dims(), dtype, k().transpose(arr(dtype, new double[] {1}), new int[0]), 0);
        assertValues(new double[0], dims(3, 0), dtype, k().transpose(arr(dtype, new double[0], 0, 3), new int[] {1, 0}), 0);
        assertThrows(IllegalArgumentException.class, () -> k().transpose(arr(dtype, x, s), new int[] {0, 0, 1}));
        assertThrows(IllegalArgumentException.class, () -> k().transpose(arr(dtype, x, s), new int[] {0, 1}));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void broadcastToFollowsNumPy(DType dtype) {
        double[] x = {1, 2, 3};
        assertValues(Ref.broadcastTo(x, dims(3), dims(2, 3)), dims(2, 3), dtype, k().broadcastTo(arr(dtype, x, 3), Shape.of(2, 3)), 0);
        assertValues(Ref.broadcastTo(x, dims(3, 1), dims(2, 3, 4)), dims(2, 3, 4), dtype, k().broadcastTo(arr(dtype, x, 3, 1), Shape.of(2, 3, 4)), 0);
        assertValues(new double[] {7, 7}, dims(2), dtype, k().broadcastTo(arr(dtype, new double[] {7}), Shape.of(2)), 0);
        assertValues(x, dims(3), dtype, k().broadcastTo(arr(dtype, x, 3), Shape.of(3)), 0);
        // the copy runs with merged axes (Dl4jKernels.collapsedBroadcast): average pooling's rank-6 backward, size-1
        // axes on both sides, alternating copied and broadcast runs, a scalar; values from the index definition (Ref)
        int[][][] cases = {
                {{2, 3, 1, 1, 1, 1}, {2, 3, 1, 4, 1, 5}},
                {{1, 3, 1, 2, 1}, {2, 3, 4, 2, 1}},
                {{3, 1, 2}, {5, 2, 3, 4, 2}},
                {{}, {2, 1, 3}},
        };
        for (int[][] c : cases) {
            double[] v = ramp(java.util.Arrays.stream(c[0]).reduce(1, (p, q) -> p * q), 1, 1);
            assertValues(Ref.broadcastTo(v, c[0], c[1]), c[1], dtype, k().broadcastTo(arr(dtype, v, c[0]), Shape.of(c[1])), 0);
        }
        assertValues(new double[0], dims(0, 3), dtype, k().broadcastTo(arr(dtype, x, 3), Shape.of(0, 3)), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k().broadcastTo(arr(dtype, x, 3), Shape.of(2, 4)));
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[2, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> k().broadcastTo(arr(dtype, x, 3, 1), Shape.of(3)));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void sliceTakesRanges(DType dtype) {
        int[] s = {3, 4};
        double[] x = ramp(12, 1, 0);
        assertValues(new double[] {5, 6, 9, 10}, dims(2, 2), dtype, k().slice(arr(dtype, x, s), new int[] {1, 1}, new int[] {3, 3}), 0);
        assertValues(new double[] {3, 7, 11}, dims(3, 1), dtype, k().slice(arr(dtype, x, s), new int[] {0, 3}, new int[] {3, 4}), 0);
        assertValues(x, s, dtype, k().slice(arr(dtype, x, s), new int[] {0, 0}, new int[] {3, 4}), 0);
        assertValues(new double[0], dims(0, 4), dtype, k().slice(arr(dtype, x, s), new int[] {2, 0}, new int[] {2, 4}), 0);
        assertValues(new double[] {4}, dims(), dtype, k().slice(arr(dtype, new double[] {4}), new int[0], new int[0]), 0);
        assertThrows(IllegalArgumentException.class, () -> k().slice(arr(dtype, x, s), new int[] {0, 0}, new int[] {4, 4}));
        assertThrows(IllegalArgumentException.class, () -> k().slice(arr(dtype, x, s), new int[] {2, 0}, new int[] {1, 4}));
        assertThrows(IllegalArgumentException.class, () -> k().slice(arr(dtype, x, s), new int[] {-1, 0}, new int[] {1, 4}));
        assertThrows(IllegalArgumentException.class, () -> k().slice(arr(dtype, x, s), new int[] {0}, new int[] {1}));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void concatJoinsAlongAnAxis(DType dtype) {
        try (NativeArray a = arr(dtype, new double[] {1, 2, 3, 4}, 2, 2);
             NativeArray b = arr(dtype, new double[] {5, 6}, 2, 1);
             NativeArray e = arr(dtype, new double[0], 2, 0);
             NativeArray c = arr(dtype, new double[] {7, 8}, 1, 2)) {
            assertValues(new double[] {1, 2, 5, 3, 4, 6}, dims(2, 3), dtype, k().concat(List.of(a, e, b), -1), 0);
            assertValues(new double[] {1, 2, 3, 4, 7, 8}, dims(3, 2), dtype, k().concat(List.of(a, c), 0), 0);
            assertValues(new double[] {1, 2, 3, 4}, dims(2, 2), dtype, k().concat(List.of(a), 0), 0);
            assertValues(new double[] {1, 2, 3, 4}, dims(2, 2), dtype, k().concat(List.of(e, a), 1), 0);
            assertValues(new double[0], dims(2, 0), dtype, k().concat(List.of(e, e), 1), 0);
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> k().concat(List.of(a, c), 1));
            assertTrue(ex.getMessage().contains("[1, 2]"), ex.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k().concat(List.of(), 0));
            assertThrows(IllegalArgumentException.class, () -> k().concat(List.of(a, a), 2));
        }
        try (NativeArray a = f32(new double[] {1}, 1); NativeArray b = f64(new double[] {1}, 1)) {
            assertThrows(IllegalArgumentException.class, () -> k().concat(List.of(a, b), 0));
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void gatherIsNumPyTake(DType dtype) {
        int[] s = {3, 4, 2};
        double[] x = ramp(24, 1, 0);
        long[][] indexCases = {{2, 0, 2}, {1}, {0, 1, 1, 0, 3, 2}};
        int[][] indexShapes = {{3}, {}, {2, 3}};
        for (int axis = 0; axis < 3; axis++) {
            for (int c = 0; c < indexCases.length; c++) {
                long[] idx = indexCases[c].clone();
                for (int i = 0; i < idx.length; i++) {
                    idx[i] %= s[axis];
                }
                int[] is = indexShapes[c];
                int[] out = new int[2 + is.length];
                int p = 0;
                for (int i = 0; i < axis; i++) {
                    out[p++] = s[i];
                }
                for (int d : is) {
                    out[p++] = d;
                }
                for (int i = axis + 1; i < 3; i++) {
                    out[p++] = s[i];
                }
                assertValues(Ref.take(x, s, idx, is, axis), out, dtype, k().gather(arr(dtype, x, s), i64(idx, is), axis - 3), 0);
            }
        }
        assertValues(new double[0], dims(3, 0, 2), dtype, k().gather(arr(dtype, x, s), i64(new long[0], 0), 1), 0);
    }

    /** libnd4j's own gather crashes the JVM on this one (rank-1 input, rank-2 indices). */
    @Test
    void gatherAndScatterAddOnAVectorWithMatrixIndices() {
        long[] idx = {5, 0, 2, 3, 3, 1};
        double[] x = {1, 2, 3, 4, 5, 6};
        assertValues(new double[] {6, 1, 3, 4, 4, 2}, dims(2, 3), k().gather(f64(x, 6), i64(idx, 2, 3), 0));
        assertValues(new double[] {5}, dims(), k().gather(f64(x, 6), i64(new long[] {4}), 0));
        assertValues(Ref.addAt(x, dims(6), idx, new double[] {10, 20, 30, 40, 50, 60}, 0), dims(6),
                k().scatterAdd(f64(x, 6), i64(idx, 2, 3), f64(new double[] {10, 20, 30, 40, 50, 60}, 2, 3), 0));
        assertValues(new double[] {1, 2, 3, 4, 15, 6}, dims(6), k().scatterAdd(f64(x, 6), i64(new long[] {4}), f64(new double[] {10}), 0));
    }

    @Test
    void gatherChecksIndices() {
        try (NativeArray x = f32(new double[6], 3, 2); NativeArray bad = i64(new long[] {0, 3}, 2); NativeArray neg = i64(new long[] {-1}, 1);
             NativeArray notLong = f32(new double[] {0}, 1); NativeArray empty = f32(new double[0], 0, 2); NativeArray zero = i64(new long[] {0}, 1)) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> k().gather(x, bad, 0));
            assertTrue(e.getMessage().contains("3") && e.getMessage().contains("[3, 2]"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> k().gather(x, neg, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> k().gather(empty, zero, 0));
            IllegalArgumentException ia = assertThrows(IllegalArgumentException.class, () -> k().gather(x, notLong, 0));
            assertTrue(ia.getMessage().contains("INT64"), ia.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k().gather(x, zero, 2));
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void scatterAddAccumulatesRepeatedIndicesOnEveryAxis(DType dtype) {
        int[] s = {3, 4, 2};
        double[] t = ramp(24, 2, 1);
        long[][] indexCases = {{2, 0, 2}, {1}, {0, 1, 1, 0, 1, 1}};
        int[][] indexShapes = {{3}, {}, {2, 3}};
        for (int axis = 0; axis < 3; axis++) {
            for (int c = 0; c < indexCases.length; c++) {
                long[] idx = indexCases[c].clone();
                for (int i = 0; i < idx.length; i++) {
                    idx[i] %= s[axis];
                }
                int[] is = indexShapes[c];
                int[] us = new int[2 + is.length];
                int p = 0;
                for (int i = 0; i < axis; i++) {
                    us[p++] = s[i];
                }
                for (int d : is) {
                    us[p++] = d;
                }
                for (int i = axis + 1; i < 3; i++) {
                    us[p++] = s[i];
                }
                double[] u = ramp(Ref.size(us), 1, 1);
                try (NativeArray target = arr(dtype, t, s)) {
                    assertValues(Ref.addAt(t, s, idx, u, axis), s, dtype, k().scatterAdd(target, i64(idx, is), arr(dtype, u, us), axis), 0);
                    assertValues(t, s, dtype, k().cast(target, dtype), 0);
                }
            }
        }
    }

    @Test
    void scatterAddOfManyRepeatsIsExact() {
        int n = 100_000;
        try (NativeArray t = f32(new double[2], 2, 1); NativeArray idx = i64(new long[n], n); NativeArray u = k().full(Shape.of(n, 1), 1, DType.FLOAT32)) {
            assertValues(new double[] {n, 0}, dims(2, 1), k().scatterAdd(t, idx, u, 0));
        }
    }

    @Test
    void scatterAddChecksShapesAndIndices() {
        try (NativeArray t = f64(new double[6], 3, 2); NativeArray idx = i64(new long[] {0, 3}, 2); NativeArray u = f64(new double[4], 2, 2);
             NativeArray ok = i64(new long[] {0, 1}, 2); NativeArray wrong = f64(new double[6], 3, 2); NativeArray u32 = f32(new double[4], 2, 2)) {
            assertThrows(IndexOutOfBoundsException.class, () -> k().scatterAdd(t, idx, u, 0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k().scatterAdd(t, ok, wrong, 0));
            assertTrue(e.getMessage().contains("[2, 2]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> k().scatterAdd(t, ok, u32, 0));
        }
        assertValues(new double[] {1, 2}, dims(2), k().scatterAdd(f64(new double[] {1, 2}, 2), i64(new long[0], 0), f64(new double[0], 0), 0));
    }

    /** scatterAdd is the adjoint of gather: <gather(x, i), u> == <x, scatterAdd(0, i, u)>. */
    @Test
    void scatterAddIsTheAdjointOfGather() {
        int[] s = {4, 5, 3};
        long[] idx = {4, 0, 4, 2, 2, 1};
        for (int axis = 0; axis < 3; axis++) {
            long[] id = idx.clone();
            for (int i = 0; i < id.length; i++) {
                id[i] %= s[axis];
            }
            try (NativeArray x = f64(noise(60, 51), s); NativeArray i = i64(id, 2, 3); NativeArray g = k().gather(x, i, axis);
                 NativeArray u = f64(noise((int) g.shape().size(), 52), g.shape().dims()); NativeArray zero = k().zeros(Shape.of(s), DType.FLOAT64);
                 NativeArray back = k().scatterAdd(zero, i, u, axis);
                 NativeArray lhs = k().binary(BinaryOp.MUL, g, u); NativeArray rhs = k().binary(BinaryOp.MUL, x, back);
                 NativeArray l = k().reduce(ReduceOp.SUM, lhs, new int[0], false); NativeArray r = k().reduce(ReduceOp.SUM, rhs, new int[0], false)) {
                assertEquals(k().toDoubles(l)[0], k().toDoubles(r)[0], 1e-12);
            }
        }
    }
}
