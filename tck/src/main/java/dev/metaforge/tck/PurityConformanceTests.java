package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnaryOp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/**
 * KERNEL-PURE-*: kernels are functions. They never modify their inputs, their results do not
 * alias inputs that the caller may close, and closing is idempotent.
 */
@ExtendWith(TckExtension.class)
class PurityConformanceTests {

    /** Every kernel that takes arrays, applied to x [3,4], y [3,4], w [4,2], idx [2] (INT64 when declared). */
    static Map<String, Function<NativeArray[], Object>> everyKernel(TckContext tck) {
        Kernels k = tck.kernels();
        Map<String, Function<NativeArray[], Object>> ops = new LinkedHashMap<>();
        ops.put("unary EXP", a -> k.unary(UnaryOp.EXP, a[0]));
        ops.put("unary RELU", a -> k.unary(UnaryOp.RELU, a[0]));
        ops.put("binary ADD", a -> k.binary(BinaryOp.ADD, a[0], a[1]));
        ops.put("binary MUL broadcast", a -> k.binary(BinaryOp.MUL, a[0], a[4]));
        ops.put("binaryScalar SUB", a -> k.binaryScalar(BinaryOp.SUB, a[0], 1.5));
        ops.put("where", a -> k.where(a[1], a[0], a[1]));
        ops.put("cast", a -> k.cast(a[0], DType.FLOAT32));
        ops.put("matmul", a -> k.matmul(a[0], a[2]));
        ops.put("reduce SUM", a -> k.reduce(ReduceOp.SUM, a[0], new int[] {1}, false));
        ops.put("reduce MAX all", a -> k.reduce(ReduceOp.MAX, a[0], new int[] {}, true));
        ops.put("softmax", a -> k.softmax(a[0], -1));
        ops.put("logSumExp", a -> k.logSumExp(a[0], 0, false));
        ops.put("reshape", a -> k.reshape(a[0], Shape.of(4, 3)));
        ops.put("transpose", a -> k.transpose(a[0], new int[] {1, 0}));
        ops.put("broadcastTo", a -> k.broadcastTo(a[4], Shape.of(3, 4)));
        ops.put("slice", a -> k.slice(a[0], new int[] {1, 1}, new int[] {3, 3}));
        ops.put("concat", a -> k.concat(List.of(a[0], a[1]), 0));
        ops.put("linear", a -> k.linear(a[0], a[2], a[5]));
        ops.put("adamUpdate", a -> k.adamUpdate(a[0], a[1], a[1], a[6], new AdamStep(0.1, 0.9, 0.999, 1e-8, 0.01, true, 3)));
        ops.put("softmaxCrossEntropy", a -> k.softmaxCrossEntropy(a[0], a[6], 1));
        ops.put("cumsum", a -> k.cumsum(a[1], 1));
        if (tck.supports(Capability.INT64)) {
            ops.put("topK", a -> k.topK(a[0], 2, 1));
            ops.put("gather", a -> k.gather(a[0], a[3], 0));
            ops.put("scatterAdd", a -> k.scatterAdd(a[0], a[3], a[7], 0));
            ops.put("argmax", a -> k.argmax(a[1], 0, false));
            ops.put("argsort", a -> k.argsort(a[1], 1, false));
            ops.put("sort", a -> k.sort(a[1], 1, true));
            ops.put("segmentSum", a -> k.segmentSum(a[0], a[11], 4));
            ops.put("segmentMax", a -> k.segmentMax(a[1], a[11], 4));
            ops.put("cumsum INT64", a -> k.cumsum(a[11], 0));
        }
        if (tck.supports(Capability.CONVOLUTION)) {
            Conv2dOptions o = new Conv2dOptions(new int[] {1, 1}, new int[] {1, 1}, new int[] {2, 2}, 2);
            ops.put("conv2d with options", a -> k.conv2d(a[8], a[9], o));
            ops.put("conv2dBackwardInput", a -> k.conv2dBackwardInput(a[10], a[9], Shape.of(1, 2, 4, 4), o));
            ops.put("conv2dBackwardWeight", a -> k.conv2dBackwardWeight(a[8], a[10], Shape.of(2, 1, 2, 2), o));
        }
        return ops;
    }

    /**
     * x [3,4], y [3,4], w [4,2], idx [2], row [4], bias [2], positive [3,4], updates [2,4], image
     * [1,2,4,4], kernel [2,1,2,2], image gradient [1,2,4,4] (for 2 groups, padding 1, dilation 2),
     * segment ids [3].
     */
    static List<NativeArray> inputs(TckContext tck) {
        Kernels k = tck.kernels();
        List<NativeArray> in = new ArrayList<>();
        in.add(k.fromDoubles(Data.uniform(1, 12, -2, 2), Shape.of(3, 4), DType.FLOAT32));
        in.add(k.fromDoubles(Data.quarterSteps(2, 12, 4), Shape.of(3, 4), DType.FLOAT32));
        in.add(k.fromDoubles(Data.uniform(3, 8, -1, 1), Shape.of(4, 2), DType.FLOAT32));
        in.add(tck.supports(Capability.INT64) ? k.fromLongs(new long[] {2, 2}, Shape.of(2)) : k.zeros(Shape.of(2), DType.FLOAT32));
        in.add(k.fromDoubles(Data.uniform(5, 4, -1, 1), Shape.of(4), DType.FLOAT32));
        in.add(k.fromDoubles(Data.uniform(6, 2, -1, 1), Shape.of(2), DType.FLOAT32));
        in.add(k.fromDoubles(Data.uniform(7, 12, 0.01, 1), Shape.of(3, 4), DType.FLOAT32));
        in.add(k.fromDoubles(Data.uniform(8, 8, -1, 1), Shape.of(2, 4), DType.FLOAT32));
        in.add(k.fromDoubles(Data.uniform(9, 32, -1, 1), Shape.of(1, 2, 4, 4), DType.FLOAT32));
        in.add(k.fromDoubles(Data.uniform(10, 8, -1, 1), Shape.of(2, 1, 2, 2), DType.FLOAT32));
        in.add(k.fromDoubles(Data.uniform(11, 32, -1, 1), Shape.of(1, 2, 4, 4), DType.FLOAT32));
        in.add(tck.supports(Capability.INT64) ? k.fromLongs(new long[] {3, 0, 3}, Shape.of(3)) : k.zeros(Shape.of(3), DType.FLOAT32));
        return in;
    }

    @TckRule(id = "KERNEL-PURE-1")
    @DisplayName("KERNEL-PURE-1 no kernel modifies its inputs (every kernel, fused ones and scatterAdd's target included)")
    @TestFactory
    Stream<DynamicTest> inputsUnchanged(TckContext tck) {
        return everyKernel(tck).entrySet().stream().map(e -> dynamicTest(e.getKey(), () -> {
            List<NativeArray> in = inputs(tck);
            try {
                List<double[]> before = new ArrayList<>();
                for (NativeArray a : in) {
                    before.add(tck.values(a));
                }
                Object result = e.getValue().apply(in.toArray(NativeArray[]::new));
                TckContext.closeResult(result);
                for (int i = 0; i < in.size(); i++) {
                    Compare.assertIdentical(before.get(i), tck.values(in.get(i)), e.getKey() + " changed input " + i);
                }
            } finally {
                TckContext.closeAll(in, null);
            }
        }));
    }

    @TckRule(id = "KERNEL-PURE-2")
    @DisplayName("KERNEL-PURE-2 results stay valid after their inputs are closed (no views into freed memory)")
    @TestFactory
    Stream<DynamicTest> resultsOutliveInputs(TckContext tck) {
        return everyKernel(tck).entrySet().stream().map(e -> dynamicTest(e.getKey(), () -> {
            NativeArray[] in = inputs(tck).toArray(NativeArray[]::new);
            Object expectedResult = null;
            Object result = null;
            List<NativeArray> fresh = inputs(tck);
            try {
                expectedResult = e.getValue().apply(fresh.toArray(NativeArray[]::new));
                result = e.getValue().apply(in);
                for (NativeArray a : in) {
                    a.close();
                }
                List<NativeArray> expected = arrays(expectedResult);
                List<NativeArray> actual = arrays(result);
                for (int i = 0; i < expected.size(); i++) {
                    Compare.assertIdentical(tck.values(expected.get(i)), tck.values(actual.get(i)),
                            e.getKey() + " result " + i + " after closing its inputs");
                }
            } finally {
                for (NativeArray a : in) {
                    a.close();
                }
                TckContext.closeAll(fresh, null);
                TckContext.closeResult(expectedResult);
                TckContext.closeResult(result);
            }
        }));
    }

    private static List<NativeArray> arrays(Object result) {
        if (result instanceof NativeArray a) {
            return List.of(a);
        }
        if (result instanceof TopK t) {
            return List.of(t.values(), t.indices());
        }
        if (result instanceof dev.metaforge.spi.AdamResult r) {
            return List.of(r.param(), r.m(), r.v());
        }
        throw new IllegalStateException("unexpected result " + result);
    }

    @TckRule(id = "KERNEL-PURE-4")
    @DisplayName("KERNEL-PURE-4 the outputs of one kernel are independent: closing topK values leaves its indices usable (and the reverse), closing Adam's new parameter leaves its moments")
    @TestFactory
    Stream<DynamicTest> outputsAreIndependent(TckContext tck) {
        Kernels k = tck.kernels();
        double[] data = Data.uniform(41, 12, -1, 1);
        List<DynamicTest> tests = new ArrayList<>();
        if (tck.supports(Capability.INT64)) {
            tests.add(dynamicTest("topK values closed, indices feed gather", () -> {
                try (NativeArray x = k.fromDoubles(data, Shape.of(12), DType.FLOAT32);
                     NativeArray expected = k.topK(x, 5, 0).values()) {
                    double[] want = tck.values(expected);
                    TopK top = k.topK(x, 5, 0);
                    top.values().close();
                    try (NativeArray indices = top.indices();
                         NativeArray picked = k.gather(x, indices, 0)) {
                        Compare.assertIdentical(want, tck.values(picked), "gather(x, topK indices) after closing the values");
                        try (NativeArray zeros = k.zeros(Shape.of(12), DType.FLOAT32);
                             NativeArray grad = k.scatterAdd(zeros, indices, picked, 0)) {
                            tck.values(grad);
                        }
                    }
                }
            }));
            tests.add(dynamicTest("topK indices closed, values readable", () -> {
                try (NativeArray x = k.fromDoubles(data, Shape.of(3, 4), DType.FLOAT32)) {
                    TopK top = k.topK(x, 2, 1);
                    top.indices().close();
                    try (NativeArray values = top.values()) {
                        double[] v = tck.values(values);
                        if (v.length != 6) {
                            throw new AssertionFailedError("topK values have " + v.length + " elements, expected 6");
                        }
                    }
                }
            }));
        }
        tests.add(dynamicTest("Adam parameter closed, moments readable", () -> {
            List<NativeArray> in = inputs(tck);
            try {
                dev.metaforge.spi.AdamResult r = k.adamUpdate(in.get(0), in.get(1), in.get(1), in.get(6),
                        new AdamStep(0.1, 0.9, 0.999, 1e-8, 0, false, 1));
                r.param().close();
                try (NativeArray m = r.m(); NativeArray v = r.v()) {
                    tck.values(m);
                    tck.values(v);
                }
            } finally {
                TckContext.closeAll(in, null);
            }
        }));
        return tests.stream();
    }

    @TckRule(id = "KERNEL-PURE-3")
    @DisplayName("KERNEL-PURE-3 closing an array or a TopK twice is harmless")
    @Test
    void closeTwice(TckContext tck) {
        Kernels k = tck.kernels();
        NativeArray a = k.full(Shape.of(2, 2), 1, DType.FLOAT32);
        a.close();
        a.close();
        if (tck.supports(Capability.INT64)) {
            try (NativeArray x = k.fromDoubles(new double[] {1, 2, 3}, Shape.of(3), DType.FLOAT32)) {
                TopK t = k.topK(x, 2, 0);
                t.close();
                t.close();
            }
        }
        NativeArray b = k.full(Shape.of(3), 2, DType.FLOAT32);
        try (NativeArray c = k.unary(UnaryOp.NEG, b)) {
            b.close();
            b.close();
            double[] v = tck.values(c);
            if (v.length != 3 || v[0] != -2) {
                throw new AssertionFailedError("an unrelated array changed after closing another twice");
            }
        }
    }
}
