package dev.metaforge.backend.dl4j;

import static dev.metaforge.backend.dl4j.Dl4jTesting.arr;
import static dev.metaforge.backend.dl4j.Dl4jTesting.assertValues;
import static dev.metaforge.backend.dl4j.Dl4jTesting.k;
import static dev.metaforge.backend.dl4j.Dl4jTesting.ramp;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * slice and concat where the result is one run of memory (a memory copy) and where it is not (libnd4j's op),
 * and broadcastTo's Java copy, against index loops written here, for every dtype.
 */
class ContiguousCopyTest {

    /** The slice by its definition: out[i] = x[begin + unravel(i, extent)]. */
    private static double[] sliceRef(double[] x, int[] shape, int[] begin, int[] extent) {
        double[] out = new double[Ref.size(extent)];
        int[] st = Ref.strides(shape);
        for (int i = 0; i < out.length; i++) {
            int[] idx = Ref.unravel(i, extent);
            int off = 0;
            for (int d = 0; d < shape.length; d++) {
                off += (begin[d] + idx[d]) * st[d];
            }
            out[i] = x[off];
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void slicesMatchTheIndexDefinition(DType dtype) {
        // (shape, begin, end): a vector range, leading rows, rows of a rank 3 with a fixed leading index, an
        // inner range under a size-1 extent, and non-contiguous ones (columns, a box)
        int[][][] cases = {
                {{270}, {13}, {200}},
                {{72, 25}, {0, 0}, {8, 25}},
                {{72, 25}, {9, 0}, {71, 25}},
                {{3, 4, 5}, {1, 2, 0}, {2, 4, 5}},
                {{3, 4, 5}, {2, 3, 1}, {3, 4, 4}},
                {{3, 4, 5}, {0, 1, 0}, {3, 3, 5}},
                {{72, 25}, {0, 3}, {72, 7}},
                {{3, 4, 5}, {1, 1, 1}, {3, 3, 4}},
        };
        for (int[][] c : cases) {
            int[] extent = new int[c[0].length];
            for (int d = 0; d < extent.length; d++) {
                extent[d] = c[2][d] - c[1][d];
            }
            double[] x = ramp(Ref.size(c[0]), 1, -7);
            try (NativeArray a = arr(dtype, x, c[0])) {
                assertValues(sliceRef(x, c[0], c[1], extent), extent, dtype, k().slice(a, c[1], c[2]), 0);
            }
        }
    }

    @Test
    void contiguousStartIsTheFirstElementOrMinusOne() {
        assertEquals(13, Dl4jKernels.contiguousStart(Shape.of(270), new int[] {13}, new int[] {187}));
        assertEquals(9 * 25, Dl4jKernels.contiguousStart(Shape.of(72, 25), new int[] {9, 0}, new int[] {62, 25}));
        assertEquals(20 + 10, Dl4jKernels.contiguousStart(Shape.of(3, 4, 5), new int[] {1, 2, 0}, new int[] {1, 2, 5}));
        assertEquals(2 * 20 + 3 * 5 + 1, Dl4jKernels.contiguousStart(Shape.of(3, 4, 5), new int[] {2, 3, 1}, new int[] {1, 1, 3}));
        assertEquals(-1, Dl4jKernels.contiguousStart(Shape.of(72, 25), new int[] {0, 3}, new int[] {72, 4}));
        assertEquals(-1, Dl4jKernels.contiguousStart(Shape.of(3, 4, 5), new int[] {0, 1, 0}, new int[] {3, 2, 5}));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void concatenationsMatchTheIndexDefinition(DType dtype) {
        // (axis, part shapes): along axis 0 (parts end to end), along an axis after size-1 axes, an empty part,
        // and along an inner axis (libnd4j's op)
        int[][][] cases = {
                {{0}, {3, 4}, {5, 4}, {1, 4}},
                {{2}, {1, 1, 3}, {1, 1, 6}},
                {{0}, {2, 3}, {0, 3}, {4, 3}},
                {{1}, {2, 3}, {2, 5}},
        };
        for (int[][] c : cases) {
            int axis = c[0][0];
            List<NativeArray> parts = new ArrayList<>();
            List<double[]> values = new ArrayList<>();
            int total = 0;
            for (int p = 1; p < c.length; p++) {
                double[] v = ramp(Ref.size(c[p]), 1, 100 * p);
                values.add(v);
                parts.add(arr(dtype, v, c[p]));
                total += c[p][axis];
            }
            int[] outShape = c[1].clone();
            outShape[axis] = total;
            double[] expected = new double[Ref.size(outShape)];
            for (int i = 0; i < expected.length; i++) {
                int[] idx = Ref.unravel(i, outShape);
                int p = 0;
                while (idx[axis] >= c[p + 1][axis]) {
                    idx[axis] -= c[p + 1][axis];
                    p++;
                }
                int[] st = Ref.strides(c[p + 1]);
                int off = 0;
                for (int d = 0; d < idx.length; d++) {
                    off += idx[d] * st[d];
                }
                expected[i] = values.get(p)[off];
            }
            try {
                assertValues(expected, outShape, dtype, k().concat(parts, axis), 0);
            } finally {
                parts.forEach(NativeArray::close);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void broadcastsMatchTheIndexDefinition(DType dtype) {
        // MAML's shapes (a middle axis, a leading one, a trailing one), alternating runs, rank growth, a scalar
        int[][][] cases = {
                {{25, 1, 40}, {25, 10, 40}}, {{25, 1, 1}, {25, 10, 1}}, {{1, 40}, {25, 1, 40}}, {{40}, {25, 40}},
                {{40, 40}, {25, 40, 40}}, {{40, 1}, {25, 40, 1}}, {{1}, {25, 1}}, {{3, 1, 4, 1}, {2, 3, 5, 4, 2}},
                {{}, {2, 3}}, {{1, 1}, {1, 1}},
        };
        for (int[][] c : cases) {
            double[] x = ramp(Ref.size(c[0]), 1, -3);
            try (NativeArray a = arr(dtype, x, c[0])) {
                assertValues(Ref.broadcastTo(x, c[0], c[1]), c[1], dtype, k().broadcastTo(a, Shape.of(c[1])), 0);
            }
        }
    }
}
