package dev.metaforge.backend.dl4j;

import static dev.metaforge.backend.dl4j.Dl4jTesting.assertLongs;
import static dev.metaforge.backend.dl4j.Dl4jTesting.assertValues;
import static dev.metaforge.backend.dl4j.Dl4jTesting.dims;
import static dev.metaforge.backend.dl4j.Dl4jTesting.f32;
import static dev.metaforge.backend.dl4j.Dl4jTesting.f64;
import static dev.metaforge.backend.dl4j.Dl4jTesting.i64;
import static dev.metaforge.backend.dl4j.Dl4jTesting.k;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import org.junit.jupiter.api.Test;

/**
 * Where libnd4j's own kernels differ from the SPI and this backend works around them: argmax and
 * unsorted_segment_max skip NaN, unsorted_segment_max fills empty segments with the lowest value,
 * cumsum refuses INT64; and argmax's ties on arrays long enough to be split among threads.
 * Expected values are worked out here, not read from ND4J.
 */
class OrderingAndSegmentTest {

    @Test
    void argmaxKeepsTheFirstOfTiesOnALongArray() {
        int n = 2_000_000;
        double[] x = new double[n];
        x[1_500_000] = 5;
        x[700_000] = 5;
        x[n - 1] = 5;
        try (NativeArray a = f32(x, n); NativeArray i = k().argmax(a, 0, true)) {
            assertLongs(new long[] {700_000}, dims(1), i);
        }
    }

    @Test
    void argmaxCountsNaNAsTheLargest() {
        try (NativeArray a = f64(new double[] {1, 3, Double.NaN, 3, Double.NaN, 0}, 2, 3);
             NativeArray i = k().argmax(a, 1, false)) {
            assertLongs(new long[] {2, 1}, dims(2), i);
        }
    }

    @Test
    void argsortIsStableOnALongLineOfTies() {
        int n = 30_000;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i * 7919) % 3;
        }
        long[] expected = new long[n];
        int at = 0;
        for (int v = 2; v >= 0; v--) {
            for (int i = 0; i < n; i++) {
                if (x[i] == v) {
                    expected[at++] = i;
                }
            }
        }
        try (NativeArray a = f32(x, n); NativeArray order = k().argsort(a, 0, true)) {
            assertArrayEquals(expected, k().toLongs(order));
        }
    }

    @Test
    void cumsumOfInt64IsExactInJava() {
        try (NativeArray a = i64(new long[] {9_007_199_254_740_993L, 1, 5, -2, 3, 4}, 3, 2);
             NativeArray rows = k().cumsum(a, 0);
             NativeArray cols = k().cumsum(a, -1)) {
            assertLongs(new long[] {9_007_199_254_740_993L, 1, 9_007_199_254_740_998L, -1, 9_007_199_254_741_001L, 3},
                    dims(3, 2), rows);
            assertLongs(new long[] {9_007_199_254_740_993L, 9_007_199_254_740_994L, 5, 3, 3, 7}, dims(3, 2), cols);
        }
    }

    @Test
    void segmentMaxGivesZeroForEmptySegmentsAndPropagatesNaN() {
        try (NativeArray data = f32(new double[] {-5, -1, -3, -7}, 4, 1);
             NativeArray ids = i64(new long[] {2, 2, 0, 2}, 4);
             NativeArray max = k().segmentMax(data, ids, 3)) {
            assertValues(new double[] {-3, 0, -1}, dims(3, 1), DType.FLOAT32, max, 0);
        }
        try (NativeArray data = f64(new double[] {1, Double.NaN, 2, -3}, 4);
             NativeArray ids = i64(new long[] {0, 0, 0, 1}, 4);
             NativeArray max = k().segmentMax(data, ids, 2)) {
            assertValues(new double[] {Double.NaN, -3}, dims(2), DType.FLOAT64, max, 0);
        }
        try (NativeArray data = i64(new long[] {-4, -9, -2}, 3);
             NativeArray ids = i64(new long[] {1, 1, 1}, 3);
             NativeArray max = k().segmentMax(data, ids, 2)) {
            assertLongs(new long[] {0, -2}, dims(2), max);
        }
    }

    @Test
    void segmentIdsOutOfRangeAreRefusedBeforeNativeCode() {
        try (NativeArray data = f32(new double[] {1, 2, 3}, 3);
             NativeArray ids = i64(new long[] {0, 5, 1}, 3)) {
            assertThrows(IndexOutOfBoundsException.class, () -> k().segmentSum(data, ids, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> k().segmentMax(data, ids, 2));
        }
    }
}
