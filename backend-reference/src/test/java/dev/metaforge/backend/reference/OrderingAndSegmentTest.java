package dev.metaforge.backend.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import org.junit.jupiter.api.Test;

/** arange, cumsum, argmax, argsort, sort, segmentSum and segmentMax, against hand-worked values. */
class OrderingAndSegmentTest extends KernelTestSupport {
    private static final double NAN = Double.NaN;

    @Test
    void arangeInEveryDtype() {
        check(k.arange(4, DType.INT64), DType.INT64, shape(4), 0, 1, 2, 3);
        check(k.arange(3, DType.FLOAT32), DType.FLOAT32, shape(3), 0, 1, 2);
        check(k.arange(0, DType.FLOAT64), DType.FLOAT64, shape(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.arange(-1, DType.INT64));
        assertTrue(e.getMessage().startsWith("arange:"), e.getMessage());
    }

    @Test
    void cumsumAlongEveryAxis() {
        NativeArray x = f64(d(1, 2, 3, 4, 5, 6), 2, 3);
        check(k.cumsum(x, 1), DType.FLOAT64, shape(2, 3), 1, 3, 6, 4, 9, 15);
        check(k.cumsum(x, -1), DType.FLOAT64, shape(2, 3), 1, 3, 6, 4, 9, 15);
        check(k.cumsum(x, 0), DType.FLOAT64, shape(2, 3), 1, 2, 3, 5, 7, 9);
        check(k.cumsum(i64(l(5, -2, 7), 3), 0), DType.INT64, shape(3), 5, 3, 10);
        check(k.cumsum(f64(new double[0], 2, 0), 1), DType.FLOAT64, shape(2, 0));
        // a running sum: infinities and NaN propagate forward only
        check(k.cumsum(f64(d(1, Double.POSITIVE_INFINITY, 1, NAN, 2), 5), 0), DType.FLOAT64, shape(5),
                1, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, NAN, NAN);
        assertThrows(IllegalArgumentException.class, () -> k.cumsum(x, 2));
    }

    @Test
    void argmaxTakesTheFirstMaximumAndTreatsNaNAsLargest() {
        NativeArray x = f64(d(1, 3, 3, 2, 7, 0, 7, 7), 2, 4);
        check(k.argmax(x, 1, false), DType.INT64, shape(2), 1, 0);
        check(k.argmax(x, -1, true), DType.INT64, shape(2, 1), 1, 0);
        check(k.argmax(x, 0, false), DType.INT64, shape(4), 1, 0, 1, 1);
        check(k.argmax(f64(d(1, NAN, 5, NAN), 4), 0, false), DType.INT64, shape(), 1);
        check(k.argmax(i64(l(-4, -1, -1), 3), 0, false), DType.INT64, shape(), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.argmax(f64(new double[0], 2, 0), 1, false));
        assertTrue(e.getMessage().contains("[2, 0]"), e.getMessage());
    }

    @Test
    void argsortIsStableBothWays() {
        NativeArray x = f64(d(2, 1, 2, 0, 1, 2), 6);
        check(k.argsort(x, 0, false), DType.INT64, shape(6), 3, 1, 4, 0, 2, 5);
        check(k.argsort(x, 0, true), DType.INT64, shape(6), 0, 2, 5, 1, 4, 3);
        check(k.sort(x, 0, false), DType.FLOAT64, shape(6), 0, 1, 1, 2, 2, 2);
        check(k.sort(x, 0, true), DType.FLOAT64, shape(6), 2, 2, 2, 1, 1, 0);
        // 0.0 and -0.0 are equal: they keep their order
        NativeArray zeros = f64(d(0.0, -0.0, -1), 3);
        check(k.argsort(zeros, 0, false), DType.INT64, shape(3), 2, 0, 1);
        check(k.argsort(zeros, 0, true), DType.INT64, shape(3), 0, 1, 2);
    }

    @Test
    void nanSortsAsTheLargestValue() {
        NativeArray x = f64(d(NAN, 1, Double.NEGATIVE_INFINITY, NAN, Double.POSITIVE_INFINITY), 5);
        check(k.argsort(x, 0, false), DType.INT64, shape(5), 2, 1, 4, 0, 3);
        check(k.argsort(x, 0, true), DType.INT64, shape(5), 0, 3, 4, 1, 2);
        double[] sorted = k.toDoubles(k.sort(x, 0, false));
        assertArrayEquals(d(Double.NEGATIVE_INFINITY, 1, Double.POSITIVE_INFINITY, NAN, NAN), sorted);
    }

    @Test
    void argsortAlongAMiddleAxisAndInt64() {
        // [2, 3, 2]: sort along axis 1 independently for each (outer, inner) pair
        NativeArray x = f64(d(3, 0, 1, 0, 2, 0, 5, 9, 4, 8, 6, 7), 2, 3, 2);
        check(k.argsort(x, 1, false), DType.INT64, shape(2, 3, 2), 1, 0, 2, 1, 0, 2, 1, 2, 0, 1, 2, 0);
        check(k.sort(x, -2, false), DType.FLOAT64, shape(2, 3, 2), 1, 0, 2, 0, 3, 0, 4, 7, 5, 8, 6, 9);
        check(k.sort(i64(l(3, -1, 3, 2), 4), 0, true), DType.INT64, shape(4), 3, 3, 2, -1);
        check(k.argsort(f64(new double[0], 0, 3), 1, false), DType.INT64, shape(0, 3));
    }

    @Test
    void segmentSumAndMax() {
        NativeArray data = f64(d(1, 2, 3, 4, 5, 6, 7, 8), 4, 2);
        NativeArray ids = i64(l(2, 0, 2, 2), 4);
        check(k.segmentSum(data, ids, 4), DType.FLOAT64, shape(4, 2), 3, 4, 0, 0, 13, 16, 0, 0);
        check(k.segmentMax(data, ids, 4), DType.FLOAT64, shape(4, 2), 3, 4, 0, 0, 7, 8, 0, 0);
        NativeArray negative = f64(d(-5, -1, -3), 3);
        check(k.segmentMax(negative, i64(l(1, 1, 0), 3), 3), DType.FLOAT64, shape(3), -3, -1, 0);
        check(k.segmentSum(i64(l(4, 5, 6), 3), i64(l(0, 0, 1), 3), 2), DType.INT64, shape(2), 9, 6);
        check(k.segmentMax(f64(d(1, NAN, 2), 3), i64(l(0, 0, 0), 3), 1), DType.FLOAT64, shape(1), NAN);
        check(k.segmentSum(f64(new double[0], 0, 3), i64(new long[0], 0), 2), DType.FLOAT64, shape(2, 3), new double[6]);
        check(k.segmentMax(f64(d(1, 2), 2), i64(l(0, 1), 2), 2), DType.FLOAT64, shape(2), 1, 2);
    }

    @Test
    void segmentIdsAreChecked() {
        NativeArray data = f64(d(1, 2, 3), 3);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> k.segmentSum(data, i64(l(0, 3, 1), 3), 3));
        assertTrue(e.getMessage().startsWith("segmentSum:") && e.getMessage().contains("3"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> k.segmentMax(data, i64(l(0, -1, 1), 3), 3));
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> k.segmentSum(data, i64(l(0, 1), 2), 3));
        assertTrue(shape.getMessage().contains("[3]") && shape.getMessage().contains("[2]"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> k.segmentSum(data, f64(d(0, 1, 2), 3), 3));
        assertEquals(Shape.of(0, 2), k.segmentSum(f64(new double[0], 0, 2), i64(l(), 0), 0).shape());
    }
}
