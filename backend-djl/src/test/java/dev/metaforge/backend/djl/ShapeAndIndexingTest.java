package dev.metaforge.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShapeAndIndexingTest extends DjlTestSupport {
    private static final double[] SIX = {1, 2, 3, 4, 5, 6};

    @Test
    void reshapeTransposeBroadcast() {
        check(k.reshape(f64(SIX, 2, 3), Shape.of(3, 2)), DType.FLOAT64, shape(3, 2), SIX);
        check(k.reshape(f64(d(7), 1, 1), Shape.scalar()), DType.FLOAT64, shape(), 7);
        assertThrows(IllegalArgumentException.class, () -> k.reshape(f64(SIX, 2, 3), Shape.of(4)));
        check(k.transpose(f64(SIX, 2, 3), new int[] {1, 0}), DType.FLOAT64, shape(3, 2), 1, 4, 2, 5, 3, 6);
        // [1, 2, 3] -> axes (2, 0, 1) -> [3, 1, 2]
        check(k.transpose(f64(SIX, 1, 2, 3), new int[] {-1, 0, 1}), DType.FLOAT64, shape(3, 1, 2), 1, 4, 2, 5, 3, 6);
        assertThrows(IllegalArgumentException.class, () -> k.transpose(f64(SIX, 2, 3), new int[] {0, 0}));
        assertThrows(IllegalArgumentException.class, () -> k.transpose(f64(SIX, 2, 3), new int[] {0}));
        check(k.broadcastTo(f64(d(1, 2), 2, 1), Shape.of(3, 2, 2)), DType.FLOAT64, shape(3, 2, 2),
                1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2);
        checkLongs(k.broadcastTo(i64(l(5), shape()), Shape.of(2)), shape(2), 5, 5);
        assertThrows(IllegalArgumentException.class, () -> k.broadcastTo(f64(d(1, 2), 2), Shape.of(3)));
        assertThrows(IllegalArgumentException.class, () -> k.broadcastTo(f64(d(1, 2), 2), Shape.scalar()));
    }

    @Test
    void sliceAndConcat() {
        NativeArray x = f64(SIX, 2, 3);
        check(k.slice(x, new int[] {0, 1}, new int[] {2, 3}), DType.FLOAT64, shape(2, 2), 2, 3, 5, 6);
        check(k.slice(x, new int[] {1, 0}, new int[] {1, 3}), DType.FLOAT64, shape(0, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.slice(x, new int[] {0, 2}, new int[] {2, 4}));
        assertTrue(e.getMessage().contains("0 <= begin <= end <= dim"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> k.slice(x, new int[] {-1, 0}, new int[] {1, 1}));
        check(k.concat(List.of(x, f64(d(7, 8, 9), 1, 3)), 0), DType.FLOAT64, shape(3, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9);
        check(k.concat(List.of(x, f64(d(7, 8), 2, 1)), -1), DType.FLOAT64, shape(2, 4), 1, 2, 3, 7, 4, 5, 6, 8);
        check(k.concat(List.of(x), 1), DType.FLOAT64, shape(2, 3), SIX);
        assertThrows(IllegalArgumentException.class, () -> k.concat(List.of(x, f64(d(7, 8), 1, 2)), 0));
        assertThrows(IllegalArgumentException.class, () -> k.concat(List.of(x, f32(SIX, 2, 3)), 0));
        assertThrows(IllegalArgumentException.class, () -> k.concat(List.of(), 0));
    }

    @Test
    void gatherIsNumPyTakeOnEveryAxis() {
        NativeArray x = f64(SIX, 2, 3);
        // axis 0, 2-D indices: [2, 2] + [3]
        check(k.gather(x, i64(l(1, 0, 1, 1), 2, 2), 0), DType.FLOAT64, shape(2, 2, 3),
                4, 5, 6, 1, 2, 3, 4, 5, 6, 4, 5, 6);
        // axis 1 (and -1), repeated indices
        check(k.gather(x, i64(l(2, 0, 2), 3), 1), DType.FLOAT64, shape(2, 3), 3, 1, 3, 6, 4, 6);
        check(k.gather(x, i64(l(1), shape()), -1), DType.FLOAT64, shape(2), 2, 5);
        check(k.gather(x, i64(l(1), shape()), 0), DType.FLOAT64, shape(3), 4, 5, 6);
        // rank 1 and rank 3 inputs
        checkLongs(k.gather(i64(l(10, 20, 30), 3), i64(l(2, 2, 0), 3), 0), shape(3), 30, 30, 10);
        double[] cube = new double[12];
        for (int i = 0; i < 12; i++) {
            cube[i] = i;
        }
        check(k.gather(f32(cube, 2, 3, 2), i64(l(2, 0), 2), 1), DType.FLOAT32, shape(2, 2, 2), 4, 5, 0, 1, 10, 11, 6, 7);
        check(k.gather(f32(cube, 2, 3, 2), i64(l(1, 1), 1, 2), 0), DType.FLOAT32, shape(1, 2, 3, 2),
                6, 7, 8, 9, 10, 11, 6, 7, 8, 9, 10, 11);
        check(k.gather(x, i64(new long[0], 0), 0), DType.FLOAT64, shape(0, 3));
    }

    @Test
    void gatherRejectsIndicesOutOfRange() {
        NativeArray x = f64(SIX, 2, 3);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> k.gather(x, i64(l(0, 2), 2), 0));
        assertTrue(e.getMessage().contains("index 2") && e.getMessage().contains("[0, 2)"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> k.gather(x, i64(l(-1), 1), 0));
        assertThrows(IndexOutOfBoundsException.class, () -> k.gather(x, i64(l(3), 1), 1));
        assertThrows(IndexOutOfBoundsException.class, () -> k.gather(x, i64(l(-1), 1), 1));
        assertThrows(IllegalArgumentException.class, () -> k.gather(x, f64(d(0), 1), 0));
    }

    @Test
    void scatterAddAccumulatesRepeatedIndices() {
        NativeArray target = f64(SIX, 2, 3);
        // axis 0: rows 1, 0, 1 get [1,1,1], [2,2,2], [3,3,3]
        NativeArray u0 = f64(d(1, 1, 1, 2, 2, 2, 3, 3, 3), 3, 3);
        check(k.scatterAdd(target, i64(l(1, 0, 1), 3), u0, 0), DType.FLOAT64, shape(2, 3), 3, 4, 5, 8, 9, 10);
        // axis 1 with 2-D indices [[0, 0], [2, 0]]: updates [2] + [2, 2]
        NativeArray u1 = f64(d(1, 2, 3, 4, 10, 20, 30, 40), 2, 2, 2);
        check(k.scatterAdd(target, i64(l(0, 0, 2, 0), 2, 2), u1, -1), DType.FLOAT64, shape(2, 3),
                1 + 1 + 2 + 4, 2, 3 + 3, 4 + 10 + 20 + 40, 5, 6 + 30);
        checkLongs(k.scatterAdd(i64(l(0, 0, 0), 3), i64(l(2, 2, 0, 2), 4), i64(l(1, 2, 3, 4), 4), 0), shape(3), 3, 0, 7);
        check(k.scatterAdd(target, i64(new long[0], 0), f64(new double[0], 2, 0), 1), DType.FLOAT64, shape(2, 3), SIX);
        // the target is left unchanged
        check(target, DType.FLOAT64, shape(2, 3), SIX);
    }

    /**
     * The range check of scatterAdd runs natively: valid indices cause no device-to-host read (the
     * MoE combine and every gather VJP call it each step), and a bad index (too large, or negative)
     * is still an IndexOutOfBoundsException naming it, on every axis.
     */
    @Test
    void scatterAddChecksIndicesWithoutReadingThemToTheHost() {
        DjlKernels djl = (DjlKernels) k;
        NativeArray target = f64(SIX, 2, 3);
        NativeArray rows = i64(l(1, 0, 1), 3);
        NativeArray u0 = f64(d(1, 1, 1, 2, 2, 2, 3, 3, 3), 3, 3);
        NativeArray cols = i64(l(0, 0, 2, 0), 2, 2);
        NativeArray u1 = f64(d(1, 2, 3, 4, 10, 20, 30, 40), 2, 2, 2);
        long before = djl.hostReads();
        NativeArray a = k.scatterAdd(target, rows, u0, 0);
        NativeArray b = k.scatterAdd(target, cols, u1, -1);
        assertEquals(before, djl.hostReads(), "scatterAdd with valid indices read nothing to the host");
        check(a, DType.FLOAT64, shape(2, 3), 3, 4, 5, 8, 9, 10);
        check(b, DType.FLOAT64, shape(2, 3), 1 + 1 + 2 + 4, 2, 3 + 3, 4 + 10 + 20 + 40, 5, 6 + 30);
        for (long bad : new long[] {2, -1, 1L << 40}) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> k.scatterAdd(target, i64(l(0, bad, 1), 3), u0, 0));
            assertTrue(e.getMessage().contains(Long.toString(bad)), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> k.scatterAdd(target, i64(l(0, 0, bad < 0 ? bad : bad + 1, 0), 2, 2), u1, 1));
        }
        // A target without elements: nothing to add, but a bad index is still refused.
        assertThrows(IndexOutOfBoundsException.class,
                () -> k.scatterAdd(f64(new double[0], 2, 0), i64(l(2), 1), f64(new double[0], 1, 0), 0));
        check(target, DType.FLOAT64, shape(2, 3), SIX);
    }

    @Test
    void scatterAddOnAMiddleAxisOfARank3Target() {
        double[] t = new double[2 * 3 * 2];
        NativeArray target = f32(t, 2, 3, 2);
        long[] idx = {2, 0, 2, 2};
        double[] u = random(41, 2 * 4 * 2);
        double[] expected = new double[12];
        for (int a = 0; a < 2; a++) {
            for (int j = 0; j < 4; j++) {
                for (int c = 0; c < 2; c++) {
                    expected[(a * 3 + (int) idx[j]) * 2 + c] += (float) u[(a * 4 + j) * 2 + c];
                }
            }
        }
        near(k.scatterAdd(target, i64(idx, 4), f32(u, 2, 4, 2), 1), DType.FLOAT32, shape(2, 3, 2), 1e-6, expected);
    }

    @Test
    void scatterAddIsTheAdjointOfGather() {
        double[] x = random(42, 4 * 5);
        double[] u = random(43, 4 * 6);
        long[] idx = {4, 0, 4, 1, 3, 4};
        NativeArray xs = f64(x, 4, 5);
        NativeArray is = i64(idx, 6);
        double lhs = dot(k.toDoubles(k.gather(xs, is, 1)), u);
        double rhs = dot(x, k.toDoubles(k.scatterAdd(k.zeros(Shape.of(4, 5), DType.FLOAT64), is, f64(u, 4, 6), 1)));
        assertEquals(lhs, rhs, 1e-12);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void scatterAddRejectsBadIndicesAndShapes() {
        NativeArray target = f64(SIX, 2, 3);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> k.scatterAdd(target, i64(l(0, 3), 2), f64(new double[4], 2, 2), 1));
        assertTrue(e.getMessage().contains("index 3"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class,
                () -> k.scatterAdd(target, i64(l(-1), 1), f64(new double[3], 1, 3), 0));
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class,
                () -> k.scatterAdd(target, i64(l(0), 1), f64(new double[3], 3), 0));
        assertTrue(s.getMessage().contains("updates have shape"), s.getMessage());
        assertThrows(IllegalArgumentException.class, () -> k.scatterAdd(target, i64(l(0), 1), f32(new double[3], 1, 3), 0));
    }
}
