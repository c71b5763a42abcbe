package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * KERNEL-ARANGE-1, KERNEL-CUMSUM-*, KERNEL-ARGMAX-1, KERNEL-SORT-*, KERNEL-SEGMENT-*,
 * COMPOSED-ORDER-1: the index, ordering and segment kernels the SPI added as default methods,
 * against the float64 reference (plain loops) and against the SPI's compositions on the backend's
 * own primitives.
 */
@ExtendWith(TckExtension.class)
class OrderingConformanceTests {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double NAN = Double.NaN;

    /** A shape and an axis (negative axes included). */
    record AxisCase(Shape shape, int axis) {
        @Override
        public String toString() {
            return shape + " axis " + axis;
        }
    }

    static final List<AxisCase> AXIS_CASES = List.of(
            new AxisCase(Shape.of(7), 0),
            new AxisCase(Shape.of(3, 5), 1),
            new AxisCase(Shape.of(3, 5), 0),
            new AxisCase(Shape.of(3, 5), -1),
            new AxisCase(Shape.of(2, 3, 4), 1),
            new AxisCase(Shape.of(2, 3, 4), -3),
            new AxisCase(Shape.of(2, 3, 4), 2),
            new AxisCase(Shape.of(1, 1), 1),
            new AxisCase(Shape.of(4, 1), 1),
            new AxisCase(Shape.of(0, 4), 1),
            new AxisCase(Shape.of(4, 0), 1),
            new AxisCase(Shape.of(3, 50), 1));

    /** Integer-valued data of either dtype: [-9, 9], exact everywhere, with ties. */
    static Operand integers(AxisCase c, String name, DType dtype) {
        long[] v = Data.indices(Data.seed(name), c.shape().sizeAsInt(), 19);
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i] - 9;
        }
        return new Operand(d, c.shape(), dtype == DType.INT64 ? DType.INT64 : null);
    }

    /** The floating dtypes the backend declares, then INT64. */
    static List<DType> everyDType(TckContext tck) {
        List<DType> out = new ArrayList<>(tck.floatingDTypes());
        out.add(DType.INT64);
        return out;
    }

    // ---- arange -----------------------------------------------------------------------------

    @TckRule(id = "KERNEL-ARANGE-1", capability = Capability.INT64)
    @DisplayName("KERNEL-ARANGE-1 arange(n) gives [0, n) in FLOAT32, FLOAT64 (when declared) and INT64, for n = 0, 1, 7 and 70000")
    @TestFactory
    Stream<DynamicTest> arange(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : everyDType(tck)) {
            for (int n : new int[] {0, 1, 7, 70_000}) {
                String name = "arange(" + n + ", " + dtype + ")";
                tests.add(dynamicTest(name, () -> tck.agree(name, dtype, Tolerance.EXACT, (k, dt, in) -> k.arange(n, dtype))));
            }
        }
        return tests.stream();
    }

    // ---- cumsum -----------------------------------------------------------------------------

    @TckRule(id = "KERNEL-CUMSUM-1")
    @DisplayName("KERNEL-CUMSUM-1 cumsum in every declared floating dtype along first, middle, last and negative axes (size-1 and zero-size included, infinities and NaN propagating forward) matches the reference")
    @TestFactory
    Stream<DynamicTest> cumsumFloating(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            for (AxisCase c : AXIS_CASES) {
                String name = "cumsum " + c + " " + dtype;
                tests.add(dynamicTest(name, () -> tck.agree(name, dtype, cumsumTolerance(dtype, c),
                        (k, dt, in) -> k.cumsum(in[0], c.axis()), Operand.random(c.shape(), Data.seed(name)))));
            }
            String special = "cumsum of 1, inf, 2, -inf, 3, NaN, 1 " + dtype;
            tests.add(dynamicTest(special, () -> tck.agree(special, dtype, (k, dt, in) -> k.cumsum(in[0], 0),
                    Operand.of(Shape.of(7), 1, INF, 2, -INF, 3, NAN, 1))));
            String infinite = "cumsum of 1, -inf, 2, 3 along axis 1 of [2, 4] " + dtype;
            tests.add(dynamicTest(infinite, () -> tck.agree(infinite, dtype, (k, dt, in) -> k.cumsum(in[0], 1),
                    Operand.of(Shape.of(2, 4), 1, -INF, 2, 3, INF, 1, 2, 3))));
        }
        return tests.stream();
    }

    /** A running sum in float32 accumulates a rounding error per step: allow it in proportion to the length. */
    static Tolerance cumsumTolerance(DType dtype, AxisCase c) {
        int n = c.shape().rank() == 0 ? 1 : c.shape().dim(c.axis());
        return Tolerance.of(dtype).times(Math.max(1, n));
    }

    @TckRule(id = "KERNEL-CUMSUM-2", capability = Capability.INT64)
    @DisplayName("KERNEL-CUMSUM-2 cumsum of INT64 is exact and stays INT64, on every axis case of KERNEL-CUMSUM-1 and beyond 2^24")
    @TestFactory
    Stream<DynamicTest> cumsumInt64(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (AxisCase c : AXIS_CASES) {
            String name = "cumsum " + c + " INT64";
            tests.add(dynamicTest(name, () -> tck.agree(name, DType.INT64, Tolerance.EXACT,
                    (k, dt, in) -> k.cumsum(in[0], c.axis()), integers(c, name, DType.INT64))));
        }
        String large = "cumsum of values near 2^33 (beyond float32 and float64-by-matmul shortcuts) INT64";
        tests.add(dynamicTest(large, () -> tck.agree(large, DType.INT64, Tolerance.EXACT, (k, dt, in) -> k.cumsum(in[0], 0),
                Operand.indices(Shape.of(5), 8_589_934_593L, 1, 8_589_934_591L, -3, 16_777_217L))));
        return tests.stream();
    }

    // ---- argmax -----------------------------------------------------------------------------

    @TckRule(id = "KERNEL-ARGMAX-1", capability = Capability.INT64)
    @DisplayName("KERNEL-ARGMAX-1 argmax in every declared dtype along any axis, with and without keepDims, gives the reference's INT64 indices: ties to the lower index, NaN counts as the largest")
    @TestFactory
    Stream<DynamicTest> argmax(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : everyDType(tck)) {
            for (AxisCase c : AXIS_CASES) {
                if (c.shape().dim(c.axis()) == 0) {
                    continue; // an empty axis is an error (KERNEL-ERROR-4)
                }
                for (boolean keepDims : new boolean[] {false, true}) {
                    String name = "argmax " + c + (keepDims ? " keepDims " : " ") + dtype;
                    // integer values have many ties; random floats are distinct
                    Operand data = dtype == DType.INT64 || keepDims ? integers(c, name, dtype)
                            : Operand.random(c.shape(), Data.seed(name));
                    tests.add(dynamicTest(name, () -> tck.agree(name, dtype, Tolerance.EXACT,
                            (k, dt, in) -> k.argmax(in[0], c.axis(), keepDims), data)));
                }
            }
        }
        for (DType dtype : tck.floatingDTypes()) {
            String ties = "argmax of rows with ties, infinities and NaN " + dtype;
            tests.add(dynamicTest(ties, () -> assertIndices(tck, ties, dtype, Shape.of(4, 4),
                    new double[] {3, 1, 3, 2, -INF, -INF, -INF, -INF, 1, NAN, INF, NAN, INF, 0, INF, -1},
                    (k, x) -> k.argmax(x, 1, false), new long[] {0, 0, 1, 0})));
        }
        return tests.stream();
    }

    // ---- argsort and sort -------------------------------------------------------------------

    @TckRule(id = "KERNEL-SORT-1", capability = Capability.INT64)
    @DisplayName("KERNEL-SORT-1 argsort (INT64 indices) and sort (values) in every declared floating dtype, ascending and descending, along any axis (size-1 and zero-size included) match the reference")
    @TestFactory
    Stream<DynamicTest> sortDistinct(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            for (AxisCase c : AXIS_CASES) {
                for (boolean descending : new boolean[] {false, true}) {
                    String name = "argsort, sort " + c + (descending ? " descending " : " ascending ") + dtype;
                    tests.add(dynamicTest(name, () -> tck.agree(name, dtype, Tolerance.EXACT,
                            (k, dt, in) -> List.of(k.argsort(in[0], c.axis(), descending), k.sort(in[0], c.axis(), descending)),
                            Operand.random(c.shape(), Data.seed(name)))));
                }
            }
        }
        return tests.stream();
    }

    @TckRule(id = "KERNEL-SORT-2", capability = Capability.INT64)
    @DisplayName("KERNEL-SORT-2 argsort is stable in both directions: equal values (quarter-step ties, INT64 ties, 0.0 and -0.0) keep their index order; NaN sorts last ascending and first descending")
    @TestFactory
    Stream<DynamicTest> sortStable(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (boolean descending : new boolean[] {false, true}) {
            String dir = descending ? " descending" : " ascending";
            tests.add(dynamicTest("[2, 1, 2, 0, 1, 2]" + dir, () -> assertIndices(tck, "argsort [2, 1, 2, 0, 1, 2]" + dir,
                    DType.FLOAT32, Shape.of(6), new double[] {2, 1, 2, 0, 1, 2}, (k, x) -> k.argsort(x, 0, descending),
                    descending ? new long[] {0, 2, 5, 1, 4, 3} : new long[] {3, 1, 4, 0, 2, 5})));
            tests.add(dynamicTest("all equal" + dir, () -> assertIndices(tck, "argsort of equal values" + dir,
                    DType.FLOAT32, Shape.of(5), new double[] {0.5, 0.5, 0.5, 0.5, 0.5}, (k, x) -> k.argsort(x, 0, descending),
                    new long[] {0, 1, 2, 3, 4})));
            tests.add(dynamicTest("NaN and infinities" + dir, () -> assertIndices(tck, "argsort [NaN, 1, -inf, NaN, inf]" + dir,
                    DType.FLOAT32, Shape.of(5), new double[] {NAN, 1, -INF, NAN, INF}, (k, x) -> k.argsort(x, 0, descending),
                    descending ? new long[] {0, 3, 4, 1, 2} : new long[] {2, 1, 4, 0, 3})));
            tests.add(dynamicTest("0.0 and -0.0 are equal" + dir, () -> assertIndices(tck, "argsort [0.0, -0.0, -1, -0.0, 0.0]" + dir,
                    DType.FLOAT32, Shape.of(5), new double[] {0.0, -0.0, -1, -0.0, 0.0}, (k, x) -> k.argsort(x, 0, descending),
                    descending ? new long[] {0, 1, 3, 4, 2} : new long[] {2, 0, 1, 3, 4})));
            for (DType dtype : everyDType(tck)) {
                for (AxisCase c : List.of(new AxisCase(Shape.of(6, 20), 1), new AxisCase(Shape.of(6, 20), 0),
                        new AxisCase(Shape.of(3, 40, 2), -2))) {
                    String name = "argsort, sort with many ties " + c + dir + " " + dtype;
                    Operand data = dtype == DType.INT64 ? integers(c, name, dtype)
                            : new Operand(Data.quarterSteps(Data.seed(name), c.shape().sizeAsInt(), 3), c.shape(), null);
                    tests.add(dynamicTest(name, () -> tck.agree(name, dtype, Tolerance.EXACT,
                            (k, dt, in) -> List.of(k.argsort(in[0], c.axis(), descending), k.sort(in[0], c.axis(), descending)),
                            data)));
                }
            }
        }
        return tests.stream();
    }

    // ---- segments ---------------------------------------------------------------------------

    /** data [N, ...], ids [N] (unsorted, with empty segments), number of segments. */
    record SegmentCase(String what, Shape data, long[] ids, int segments) {
        @Override
        public String toString() {
            return what + ": data " + data + " ids " + Arrays.toString(ids) + " into " + segments;
        }
    }

    static final List<SegmentCase> SEGMENT_CASES = List.of(
            new SegmentCase("unsorted ids, empty segments 1, 3, 4", Shape.of(6, 3), new long[] {2, 0, 2, 5, 0, 2}, 6),
            new SegmentCase("rank 1", Shape.of(5), new long[] {1, 1, 0, 1, 3}, 4),
            new SegmentCase("rank 3", Shape.of(4, 2, 3), new long[] {0, 1, 0, 1}, 2),
            new SegmentCase("one segment", Shape.of(7, 2), new long[] {0, 0, 0, 0, 0, 0, 0}, 1),
            new SegmentCase("each row its own segment, one more empty", Shape.of(3, 4), new long[] {2, 1, 0}, 4),
            new SegmentCase("no rows", Shape.of(0, 3), new long[] {}, 3),
            new SegmentCase("no rows, no segments", Shape.of(0, 2), new long[] {}, 0),
            new SegmentCase("zero-width rows", Shape.of(3, 0), new long[] {1, 0, 1}, 2),
            new SegmentCase("many rows", Shape.of(200, 3), Data.indices(11, 200, 17), 20));

    @TckRule(id = "KERNEL-SEGMENT-1", capability = Capability.INT64)
    @DisplayName("KERNEL-SEGMENT-1 segmentSum in every declared dtype (INT64 data included) with unsorted ids, empty segments, rank 1 to 3 and zero-size data matches the reference (empty segments give 0)")
    @TestFactory
    Stream<DynamicTest> segmentSum(TckContext tck) {
        return segmentCases(tck, false);
    }

    @TckRule(id = "KERNEL-SEGMENT-2", capability = Capability.INT64)
    @DisplayName("KERNEL-SEGMENT-2 segmentMax in every declared dtype on all-negative data (so an empty segment's 0 is visible), with ties and NaN, matches the reference")
    @TestFactory
    Stream<DynamicTest> segmentMax(TckContext tck) {
        List<DynamicTest> tests = segmentCases(tck, true).collect(java.util.stream.Collectors.toCollection(ArrayList::new));
        for (DType dtype : tck.floatingDTypes()) {
            String nan = "segmentMax with NaN in segment 0 and -inf in segment 1 " + dtype;
            tests.add(dynamicTest(nan, () -> tck.agree(nan, dtype, Tolerance.EXACT,
                    (k, dt, in) -> k.segmentMax(in[0], in[1], 3),
                    Operand.of(Shape.of(5), -1, NAN, -INF, -2, -INF), Operand.indices(Shape.of(5), 0, 0, 1, 0, 1))));
        }
        return tests.stream();
    }

    private static Stream<DynamicTest> segmentCases(TckContext tck, boolean max) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : everyDType(tck)) {
            for (SegmentCase c : SEGMENT_CASES) {
                String name = (max ? "segmentMax " : "segmentSum ") + c + " " + dtype;
                long seed = Data.seed(name);
                Operand data = dtype == DType.INT64
                        ? new Operand(negativeIntegers(seed, c.data().sizeAsInt(), max), c.data(), DType.INT64)
                        : max ? negativeQuarterSteps(seed, c.data()) : Operand.random(c.data(), seed);
                Operand ids = Operand.indices(Shape.of(c.ids().length), c.ids());
                Tolerance tolerance = Tolerance.of(dtype).times(Math.max(1, c.data().dim(0) / 4.0));
                tests.add(dynamicTest(name, () -> tck.agree(name, dtype, tolerance,
                        (k, dt, in) -> max ? k.segmentMax(in[0], in[1], c.segments()) : k.segmentSum(in[0], in[1], c.segments()),
                        data, ids)));
            }
        }
        return tests.stream();
    }

    /** Values in {-3.25, ..., -0.25}: all negative, exact in every dtype, with ties. */
    private static Operand negativeQuarterSteps(long seed, Shape shape) {
        double[] v = Data.quarterSteps(seed, shape.sizeAsInt(), 12);
        for (int i = 0; i < v.length; i++) {
            v[i] = -Math.abs(v[i]) - 0.25;
        }
        return new Operand(v, shape, null);
    }

    private static double[] negativeIntegers(long seed, int n, boolean negative) {
        long[] v = Data.indices(seed, n, 50);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = negative ? -1 - v[i] / 2 : v[i] - 25;
        }
        return out;
    }

    // ---- the same kernels against the SPI's compositions ---------------------------------------

    @TckRule(id = "COMPOSED-ORDER-1", capability = Capability.INT64)
    @DisplayName("COMPOSED-ORDER-1 arange, cumsum, argmax, argsort, sort, segmentSum and segmentMax equal the SPI's composed defaults over the backend's own primitives, ties included (an override must compute what the default computes)")
    @TestFactory
    Stream<DynamicTest> composed(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : everyDType(tck)) {
            Tolerance exact = Tolerance.EXACT;
            tests.add(dynamicTest("arange(9, " + dtype + ")", () -> tck.agreeWithComposition("arange(9, " + dtype + ")", dtype,
                    exact, (k, dt, in) -> k.arange(9, dtype))));
            for (AxisCase c : List.of(new AxisCase(Shape.of(3, 17), 1), new AxisCase(Shape.of(5, 2, 3), -3),
                    new AxisCase(Shape.of(4, 0), 0))) {
                String name = c + " " + dtype;
                long seed = Data.seed("composed " + name);
                Operand ties = dtype == DType.INT64 ? integers(c, name, dtype)
                        : new Operand(Data.quarterSteps(seed, c.shape().sizeAsInt(), 4), c.shape(), null);
                Operand distinct = dtype == DType.INT64 ? ties : Operand.random(c.shape(), seed);
                tests.add(dynamicTest("cumsum " + name, () -> tck.agreeWithComposition("cumsum " + name, dtype,
                        cumsumTolerance(dtype, c).times(2), (k, dt, in) -> k.cumsum(in[0], c.axis()), distinct)));
                if (c.shape().dim(c.axis()) > 0) {
                    tests.add(dynamicTest("argmax " + name, () -> tck.agreeWithComposition("argmax " + name, dtype, exact,
                            (k, dt, in) -> k.argmax(in[0], c.axis(), false), ties)));
                }
                for (boolean descending : new boolean[] {false, true}) {
                    String sorted = "argsort, sort " + name + (descending ? " descending" : " ascending");
                    tests.add(dynamicTest(sorted, () -> tck.agreeWithComposition(sorted, dtype, exact,
                            (k, dt, in) -> List.of(k.argsort(in[0], c.axis(), descending), k.sort(in[0], c.axis(), descending)),
                            ties)));
                }
            }
            for (SegmentCase c : List.of(SEGMENT_CASES.get(0), SEGMENT_CASES.get(2), SEGMENT_CASES.get(5))) {
                String name = c + " " + dtype;
                long seed = Data.seed("composed " + name);
                Operand data = dtype == DType.INT64
                        ? new Operand(negativeIntegers(seed, c.data().sizeAsInt(), true), c.data(), DType.INT64)
                        : negativeQuarterSteps(seed, c.data());
                Operand ids = Operand.indices(Shape.of(c.ids().length), c.ids());
                Tolerance tolerance = Tolerance.of(dtype).times(2);
                tests.add(dynamicTest("segmentSum " + name, () -> tck.agreeWithComposition("segmentSum " + name, dtype, tolerance,
                        (k, dt, in) -> k.segmentSum(in[0], in[1], c.segments()), data, ids)));
                tests.add(dynamicTest("segmentMax " + name, () -> tck.agreeWithComposition("segmentMax " + name, dtype, exact,
                        (k, dt, in) -> k.segmentMax(in[0], in[1], c.segments()), data, ids)));
            }
        }
        return tests.stream();
    }

    // ---- helpers ------------------------------------------------------------------------------

    @FunctionalInterface
    interface IndexKernel {
        NativeArray apply(dev.metaforge.spi.Kernels k, NativeArray x);
    }

    /** Runs {@code op} on {@code values} and asserts its INT64 result equals {@code expected} exactly. */
    static void assertIndices(TckContext tck, String what, DType dtype, Shape shape, double[] values, IndexKernel op,
                              long[] expected) {
        try (NativeArray x = tck.kernels().fromDoubles(values, shape, dtype);
             NativeArray indices = op.apply(tck.kernels(), x)) {
            if (indices.dtype() != DType.INT64) {
                throw new org.opentest4j.AssertionFailedError(what + ": indices have dtype " + indices.dtype() + ", not INT64");
            }
            Compare.assertExact(Shape.of(expected.length), expected, Shape.of((int) indices.shape().size()),
                    tck.kernels().toLongs(indices), what + " of " + Arrays.toString(values));
        }
    }
}
