package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/** KERNEL-REDUCE-*, KERNEL-SOFTMAX-*, KERNEL-LSE-*, KERNEL-TOPK-*: reductions against the float64 reference. */
@ExtendWith(TckExtension.class)
class ReductionConformanceTests {
    record ReduceCase(Shape shape, int[] axes) {
        @Override
        public String toString() {
            return shape + " axes " + Arrays.toString(axes);
        }
    }

    static final List<ReduceCase> REDUCE_CASES = List.of(
            new ReduceCase(Shape.of(2, 3, 4), new int[] {}),
            new ReduceCase(Shape.of(2, 3, 4), new int[] {0}),
            new ReduceCase(Shape.of(2, 3, 4), new int[] {1}),
            new ReduceCase(Shape.of(2, 3, 4), new int[] {-1}),
            new ReduceCase(Shape.of(2, 3, 4), new int[] {0, 2}),
            new ReduceCase(Shape.of(2, 3, 4), new int[] {-1, -3}),
            new ReduceCase(Shape.of(2, 3, 4), new int[] {0, 1, 2}),
            new ReduceCase(Shape.of(5), new int[] {0}),
            new ReduceCase(Shape.scalar(), new int[] {}),
            new ReduceCase(Shape.of(1, 1), new int[] {1}),
            new ReduceCase(Shape.of(3, 1, 2), new int[] {1}),
            new ReduceCase(Shape.of(2, 0, 3), new int[] {0}),
            new ReduceCase(Shape.of(40, 30), new int[] {0}));

    @TckRule(id = "KERNEL-REDUCE-1")
    @DisplayName("KERNEL-REDUCE-1 sum/mean/max/min in FLOAT32 over empty axes list (all), single, multiple and negative axes, with and without keepDims, match the reference")
    @TestFactory
    Stream<DynamicTest> reduceFloat32(TckContext tck) {
        return reduceCases(tck, DType.FLOAT32);
    }

    @TckRule(id = "KERNEL-REDUCE-2", capability = Capability.FLOAT64)
    @DisplayName("KERNEL-REDUCE-2 sum/mean/max/min in FLOAT64 match the reference")
    @TestFactory
    Stream<DynamicTest> reduceFloat64(TckContext tck) {
        return reduceCases(tck, DType.FLOAT64);
    }

    static Stream<DynamicTest> reduceCases(TckContext tck, DType dtype) {
        List<DynamicTest> tests = new ArrayList<>();
        for (ReduceOp op : ReduceOp.values()) {
            for (ReduceCase c : REDUCE_CASES) {
                for (boolean keepDims : new boolean[] {false, true}) {
                    String name = op + " " + c + (keepDims ? " keepDims" : "") + " " + dtype;
                    int terms = (int) Math.max(1, c.shape().size());
                    Tolerance tolerance = Tolerance.of(dtype).times(Math.max(1, Math.sqrt(terms) / 2));
                    tests.add(dynamicTest(name, () -> tck.agree(name, dtype, tolerance,
                            (k, dt, in) -> k.reduce(op, in[0], c.axes().clone(), keepDims),
                            Operand.random(c.shape(), Data.seed(name), -2, 2))));
                }
            }
        }
        return tests.stream();
    }

    @TckRule(id = "KERNEL-REDUCE-3")
    @DisplayName("KERNEL-REDUCE-3 reducing an axis of size 0: SUM gives 0, MEAN gives NaN, MAX and MIN throw IllegalArgumentException")
    @TestFactory
    Stream<DynamicTest> reduceEmptyAxis(TckContext tck) {
        Shape shape = Shape.of(2, 0, 3);
        return Stream.of(
                dynamicTest("SUM over the empty axis", () -> tck.agree("SUM [2,0,3] axis 1", DType.FLOAT32,
                        (k, dt, in) -> k.reduce(ReduceOp.SUM, in[0], new int[] {1}, false), Operand.of(shape))),
                dynamicTest("SUM of an empty array over all axes", () -> tck.agree("SUM [2,0,3] all", DType.FLOAT32,
                        (k, dt, in) -> k.reduce(ReduceOp.SUM, in[0], new int[] {}, false), Operand.of(shape))),
                dynamicTest("MEAN over the empty axis", () -> tck.agree("MEAN [2,0,3] axis 1 keepDims", DType.FLOAT32,
                        (k, dt, in) -> k.reduce(ReduceOp.MEAN, in[0], new int[] {1}, true), Operand.of(shape))),
                dynamicTest("MAX over the empty axis", () -> {
                    try (NativeArray x = tck.kernels().zeros(shape, DType.FLOAT32)) {
                        tck.assertThrows(IllegalArgumentException.class, "MAX over an empty axis",
                                () -> tck.kernels().reduce(ReduceOp.MAX, x, new int[] {1}, false));
                    }
                }),
                dynamicTest("MIN over the empty axis", () -> {
                    try (NativeArray x = tck.kernels().zeros(shape, DType.FLOAT32)) {
                        tck.assertThrows(IllegalArgumentException.class, "MIN over an empty axis",
                                () -> tck.kernels().reduce(ReduceOp.MIN, x, new int[] {1}, false));
                    }
                }));
    }

    record AxisCase(Shape shape, int axis) {
        @Override
        public String toString() {
            return shape + " axis " + axis;
        }
    }

    static final List<AxisCase> AXIS_CASES = List.of(
            new AxisCase(Shape.of(5), 0),
            new AxisCase(Shape.of(2, 3), -1),
            new AxisCase(Shape.of(2, 3), 0),
            new AxisCase(Shape.of(2, 3), 1),
            new AxisCase(Shape.of(2, 3, 4), 1),
            new AxisCase(Shape.of(2, 3, 4), -3),
            new AxisCase(Shape.of(1, 4), 0),
            new AxisCase(Shape.of(3, 1), -1),
            new AxisCase(Shape.of(0, 3), 1),
            new AxisCase(Shape.of(4, 100), 1));

    @TckRule(id = "KERNEL-SOFTMAX-1")
    @DisplayName("KERNEL-SOFTMAX-1 softmax in FLOAT32 along first, middle, last and negative axes (size-1 and zero-size included) matches the reference")
    @TestFactory
    Stream<DynamicTest> softmaxFloat32(TckContext tck) {
        return axisCases(tck, DType.FLOAT32, "softmax", false);
    }

    @TckRule(id = "KERNEL-SOFTMAX-2", capability = Capability.FLOAT64)
    @DisplayName("KERNEL-SOFTMAX-2 softmax in FLOAT64 matches the reference")
    @TestFactory
    Stream<DynamicTest> softmaxFloat64(TckContext tck) {
        return axisCases(tck, DType.FLOAT64, "softmax", false);
    }

    @TckRule(id = "KERNEL-LSE-1")
    @DisplayName("KERNEL-LSE-1 logSumExp in FLOAT32 along every kind of axis, with and without keepDims, matches the reference")
    @TestFactory
    Stream<DynamicTest> logSumExpFloat32(TckContext tck) {
        return axisCases(tck, DType.FLOAT32, "logSumExp", true);
    }

    @TckRule(id = "KERNEL-LSE-2", capability = Capability.FLOAT64)
    @DisplayName("KERNEL-LSE-2 logSumExp in FLOAT64 matches the reference")
    @TestFactory
    Stream<DynamicTest> logSumExpFloat64(TckContext tck) {
        return axisCases(tck, DType.FLOAT64, "logSumExp", true);
    }

    static Stream<DynamicTest> axisCases(TckContext tck, DType dtype, String kernel, boolean lse) {
        List<DynamicTest> tests = new ArrayList<>();
        for (AxisCase c : AXIS_CASES) {
            for (boolean keepDims : lse ? new boolean[] {false, true} : new boolean[] {false}) {
                if (lse && c.shape().size() == 0) {
                    continue; // logSumExp of an empty line is -inf; covered by the reference, not required here
                }
                String name = kernel + " " + c + (keepDims ? " keepDims" : "") + " " + dtype;
                KernelCall call = lse
                        ? (k, dt, in) -> k.logSumExp(in[0], c.axis(), keepDims)
                        : (k, dt, in) -> k.softmax(in[0], c.axis());
                tests.add(dynamicTest(name, () -> tck.agree(name, dtype, call,
                        Operand.random(c.shape(), Data.seed(name), -4, 4))));
            }
        }
        return tests.stream();
    }

    /** Rows of huge, tiny and mixed logits; a naive exp overflows or underflows on each. */
    static final double[][] EXTREME_ROWS = {
            {1000, 1001, 1002},
            {-1000, -1000, -1000},
            {1000, -1000, 0},
            {-1000, -999, -1001},
            {88, 89, 90},
            {0, 0, 0}};

    @TckRule(id = "KERNEL-SOFTMAX-3")
    @DisplayName("KERNEL-SOFTMAX-3 softmax is numerically stable: logits near +-1000 give finite probabilities that match the reference (FLOAT32)")
    @TestFactory
    Stream<DynamicTest> softmaxStable(TckContext tck) {
        return extremeCases(tck, false, DType.FLOAT32);
    }

    /** libnd4j's float64 softmax along the last axis of a multi-row array gave NaN for rows below about -745 (all exps underflow). */
    @TckRule(id = "KERNEL-SOFTMAX-4", capability = Capability.FLOAT64)
    @DisplayName("KERNEL-SOFTMAX-4 softmax is numerically stable in FLOAT64 too: logits near +-1000, several rows, give finite probabilities that match the reference")
    @TestFactory
    Stream<DynamicTest> softmaxStableFloat64(TckContext tck) {
        return extremeCases(tck, false, DType.FLOAT64);
    }

    @TckRule(id = "KERNEL-LSE-4", capability = Capability.FLOAT64)
    @DisplayName("KERNEL-LSE-4 logSumExp is numerically stable in FLOAT64 too: logits near +-1000 give 1000 + log(...) not inf")
    @TestFactory
    Stream<DynamicTest> logSumExpStableFloat64(TckContext tck) {
        return extremeCases(tck, true, DType.FLOAT64);
    }

    @TckRule(id = "KERNEL-LSE-3")
    @DisplayName("KERNEL-LSE-3 logSumExp is numerically stable: logits near +-1000 give 1000 + log(...) not inf (FLOAT32)")
    @TestFactory
    Stream<DynamicTest> logSumExpStable(TckContext tck) {
        return extremeCases(tck, true, DType.FLOAT32);
    }

    static Stream<DynamicTest> extremeCases(TckContext tck, boolean lse, DType dtype) {
        List<DynamicTest> tests = new ArrayList<>();
        for (int axis : new int[] {1, 0}) {
            double[] flat = new double[EXTREME_ROWS.length * 3];
            for (int r = 0; r < EXTREME_ROWS.length; r++) {
                System.arraycopy(EXTREME_ROWS[r], 0, flat, r * 3, 3);
            }
            Operand operand = Operand.of(Shape.of(EXTREME_ROWS.length, 3), flat);
            if (axis == 0) {
                // the same lines laid out along axis 0 of a [3, 6] array
                double[] t = new double[flat.length];
                for (int r = 0; r < EXTREME_ROWS.length; r++) {
                    for (int j = 0; j < 3; j++) {
                        t[j * EXTREME_ROWS.length + r] = EXTREME_ROWS[r][j];
                    }
                }
                operand = Operand.of(Shape.of(3, EXTREME_ROWS.length), t);
            }
            String name = (lse ? "logSumExp" : "softmax") + " of extreme logits along axis " + axis + " " + dtype;
            Operand input = operand;
            KernelCall call = lse ? (k, dt, in) -> k.logSumExp(in[0], axis, false) : (k, dt, in) -> k.softmax(in[0], axis);
            tests.add(dynamicTest(name, () -> {
                tck.agree(name, dtype, call, input);
                try (NativeArray x = tck.array(input, dtype);
                     NativeArray y = (NativeArray) call.call(tck.kernels(), dtype, new NativeArray[] {x})) {
                    for (double v : tck.values(y)) {
                        if (!Double.isFinite(v)) {
                            throw new AssertionFailedError(name + ": got a non-finite value " + v);
                        }
                    }
                }
            }));
        }
        return tests.stream();
    }

    record TopKCase(Shape shape, int k, int axis) {
        @Override
        public String toString() {
            return "topK k=" + k + " " + shape + " axis " + axis;
        }
    }

    static final List<TopKCase> TOPK_CASES = List.of(
            new TopKCase(Shape.of(7), 3, 0),
            new TopKCase(Shape.of(7), 1, -1),
            new TopKCase(Shape.of(3, 5), 2, -1),
            new TopKCase(Shape.of(3, 5), 3, 0),
            new TopKCase(Shape.of(2, 3, 4), 4, 2),
            new TopKCase(Shape.of(2, 3, 4), 2, 1),
            new TopKCase(Shape.of(4, 6), 6, 1),
            new TopKCase(Shape.of(1, 1), 1, 0),
            new TopKCase(Shape.of(3, 64), 8, 1));

    @TckRule(id = "KERNEL-TOPK-1", capability = Capability.INT64)
    @DisplayName("KERNEL-TOPK-1 topK in FLOAT32 returns the k largest sorted descending with INT64 indices, on any axis, matching the reference")
    @TestFactory
    Stream<DynamicTest> topKFloat32(TckContext tck) {
        return topKCases(tck, DType.FLOAT32);
    }

    @TckRule(id = "KERNEL-TOPK-2", capability = {Capability.INT64, Capability.FLOAT64})
    @DisplayName("KERNEL-TOPK-2 topK in FLOAT64 matches the reference")
    @TestFactory
    Stream<DynamicTest> topKFloat64(TckContext tck) {
        return topKCases(tck, DType.FLOAT64);
    }

    static Stream<DynamicTest> topKCases(TckContext tck, DType dtype) {
        return TOPK_CASES.stream().map(c -> {
            String name = c + " " + dtype;
            return dynamicTest(name, () -> tck.agree(name, dtype, Tolerance.EXACT, (k, dt, in) -> k.topK(in[0], c.k(), c.axis()),
                    Operand.random(c.shape(), Data.seed(name))));
        });
    }

    @TckRule(id = "KERNEL-TOPK-3", capability = Capability.INT64)
    @DisplayName("KERNEL-TOPK-3 topK breaks ties by the lower index ([1,3,3,2,3], k=3 gives indices [1,2,4])")
    @TestFactory
    Stream<DynamicTest> topKTies(TckContext tck) {
        return Stream.of(
                dynamicTest("ties in a vector", () -> assertTopK(tck, Shape.of(5), new double[] {1, 3, 3, 2, 3}, 3, 0,
                        new double[] {3, 3, 3}, new long[] {1, 2, 4})),
                dynamicTest("all equal", () -> assertTopK(tck, Shape.of(4), new double[] {0.5, 0.5, 0.5, 0.5}, 2, 0,
                        new double[] {0.5, 0.5}, new long[] {0, 1})),
                dynamicTest("ties along axis 0", () -> assertTopK(tck, Shape.of(4, 2),
                        new double[] {1, 5, 2, 5, 2, 4, 0, 5}, 2, 0,
                        new double[] {2, 5, 2, 5}, new long[] {1, 0, 2, 1})),
                dynamicTest("quarter-step ties against the reference", () -> tck.agree("topK of quarter steps", DType.FLOAT32,
                        Tolerance.EXACT, (k, dt, in) -> k.topK(in[0], 5, -1),
                        new Operand(Data.quarterSteps(7, 60, 3), Shape.of(6, 10), null))));
    }

    static void assertTopK(TckContext tck, Shape shape, double[] values, int k, int axis, double[] expectedValues,
                           long[] expectedIndices) {
        Shape out = shape.with(axis, k);
        try (NativeArray x = tck.kernels().fromDoubles(values, shape, DType.FLOAT32);
             TopK top = tck.kernels().topK(x, k, axis)) {
            Compare.assertTypeAndShape("topK values", top.values(), DType.FLOAT32, out);
            Compare.assertTypeAndShape("topK indices", top.indices(), DType.INT64, out);
            Compare.assertIdentical(expectedValues, tck.values(top.values()), "topK values of " + Arrays.toString(values));
            Compare.assertExact(out, expectedIndices, top.indices().shape(), tck.kernels().toLongs(top.indices()),
                    "topK indices of " + Arrays.toString(values));
        }
    }
}
