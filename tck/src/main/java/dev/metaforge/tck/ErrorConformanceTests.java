package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * KERNEL-ERROR-*: misuse fails with a plain Java exception of the documented type, never a native
 * crash, a silent broadcast or a garbage result.
 */
@ExtendWith(TckExtension.class)
class ErrorConformanceTests {

    /** Runs {@code op} on fresh FLOAT32 arrays of the given shapes and expects {@code type}. */
    private static DynamicTest expect(TckContext tck, Class<? extends Throwable> type, String name,
                                      Function<NativeArray[], Object> op, Object... shapesAndTypes) {
        return dynamicTest(name, () -> {
            List<NativeArray> owned = new ArrayList<>();
            try {
                Kernels k = tck.kernels();
                List<NativeArray> args = new ArrayList<>();
                for (int i = 0; i < shapesAndTypes.length; i++) {
                    Shape shape = (Shape) shapesAndTypes[i];
                    DType dtype = DType.FLOAT32;
                    if (i + 1 < shapesAndTypes.length && shapesAndTypes[i + 1] instanceof DType d) {
                        dtype = d;
                        i++;
                    }
                    NativeArray a = dtype == DType.INT64 ? k.fromLongs(new long[shape.sizeAsInt()], shape)
                            : k.fromDoubles(Data.uniform(i, shape.sizeAsInt(), 0.5, 1), shape, dtype);
                    owned.add(a);
                    args.add(a);
                }
                tck.assertThrows(type, name, () -> op.apply(args.toArray(NativeArray[]::new)));
            } finally {
                TckContext.closeAll(owned, null);
            }
        });
    }

    @TckRule(id = "KERNEL-ERROR-1")
    @DisplayName("KERNEL-ERROR-1 mixing dtypes (FLOAT32 with FLOAT64 or INT64) in binary, matmul, where, concat or scatterAdd throws IllegalArgumentException")
    @TestFactory
    Stream<DynamicTest> mixedDtypes(TckContext tck) {
        Kernels k = tck.kernels();
        List<DynamicTest> tests = new ArrayList<>();
        List<DType> others = new ArrayList<>();
        if (tck.supports(Capability.FLOAT64)) {
            others.add(DType.FLOAT64);
        }
        if (tck.supports(Capability.INT64)) {
            others.add(DType.INT64);
        }
        for (DType other : others) {
            Class<IllegalArgumentException> iae = IllegalArgumentException.class;
            tests.add(expect(tck, iae, "binary ADD FLOAT32 + " + other, a -> k.binary(BinaryOp.ADD, a[0], a[1]),
                    Shape.of(2, 3), Shape.of(2, 3), other));
            tests.add(expect(tck, iae, "binary MUL " + other + " * FLOAT32 (broadcast)", a -> k.binary(BinaryOp.MUL, a[0], a[1]),
                    Shape.of(3), other, Shape.of(2, 3)));
            tests.add(expect(tck, iae, "binary LT FLOAT32 < " + other, a -> k.binary(BinaryOp.LT, a[0], a[1]),
                    Shape.of(2, 3), Shape.of(2, 3), other));
            tests.add(expect(tck, iae, "matmul FLOAT32 @ " + other, a -> k.matmul(a[0], a[1]),
                    Shape.of(2, 3), Shape.of(3, 4), other));
            tests.add(expect(tck, iae, "where with FLOAT32 and " + other + " branches", a -> k.where(a[0], a[1], a[2]),
                    Shape.of(2, 3), Shape.of(2, 3), Shape.of(2, 3), other));
            tests.add(expect(tck, iae, "concat FLOAT32 with " + other, a -> k.concat(List.of(a[0], a[1]), 0),
                    Shape.of(2, 3), Shape.of(1, 3), other));
            if (other == DType.FLOAT64 && tck.supports(Capability.INT64)) {
                tests.add(expect(tck, iae, "scatterAdd FLOAT32 target with FLOAT64 updates",
                        a -> k.scatterAdd(a[0], a[1], a[2], 0), Shape.of(4, 3), Shape.of(2), DType.INT64, Shape.of(2, 3), other));
            }
        }
        return tests.stream();
    }

    @TckRule(id = "KERNEL-ERROR-2")
    @DisplayName("KERNEL-ERROR-2 incompatible shapes, bad axes and bad arguments throw IllegalArgumentException (binary, matmul, reshape, concat, broadcastTo, slice, transpose, reduce, softmax, topK)")
    @TestFactory
    Stream<DynamicTest> badShapes(TckContext tck) {
        Kernels k = tck.kernels();
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        List<DynamicTest> tests = new ArrayList<>(List.of(
                expect(tck, iae, "binary [2,3] + [4]", a -> k.binary(BinaryOp.ADD, a[0], a[1]), Shape.of(2, 3), Shape.of(4)),
                expect(tck, iae, "binary [2,3] + [3,2]", a -> k.binary(BinaryOp.SUB, a[0], a[1]), Shape.of(2, 3), Shape.of(3, 2)),
                expect(tck, iae, "matmul inner dims [2,3] @ [4,5]", a -> k.matmul(a[0], a[1]), Shape.of(2, 3), Shape.of(4, 5)),
                expect(tck, iae, "matmul batch dims [2,3,4] @ [3,4,5]", a -> k.matmul(a[0], a[1]), Shape.of(2, 3, 4), Shape.of(3, 4, 5)),
                expect(tck, iae, "matmul rank-1 [3] @ [3,2]", a -> k.matmul(a[0], a[1]), Shape.of(3), Shape.of(3, 2)),
                expect(tck, iae, "reshape [2,3] -> [4]", a -> k.reshape(a[0], Shape.of(4)), Shape.of(2, 3)),
                expect(tck, iae, "concat [2,3] + [2,4] on axis 0", a -> k.concat(List.of(a[0], a[1]), 0), Shape.of(2, 3), Shape.of(2, 4)),
                expect(tck, iae, "concat axis 2 of rank 2", a -> k.concat(List.of(a[0], a[1]), 2), Shape.of(2, 3), Shape.of(2, 3)),
                expect(tck, iae, "broadcastTo [2,3] -> [3,3]", a -> k.broadcastTo(a[0], Shape.of(3, 3)), Shape.of(2, 3)),
                expect(tck, iae, "broadcastTo [2,3] -> [3]", a -> k.broadcastTo(a[0], Shape.of(3)), Shape.of(2, 3)),
                expect(tck, iae, "slice end beyond the dimension", a -> k.slice(a[0], new int[] {0, 0}, new int[] {2, 4}), Shape.of(2, 3)),
                expect(tck, iae, "slice begin after end", a -> k.slice(a[0], new int[] {1, 0}, new int[] {0, 3}), Shape.of(2, 3)),
                expect(tck, iae, "transpose with a repeated axis", a -> k.transpose(a[0], new int[] {0, 0}), Shape.of(2, 3)),
                expect(tck, iae, "transpose with the wrong rank", a -> k.transpose(a[0], new int[] {1, 0, 2}), Shape.of(2, 3)),
                expect(tck, iae, "reduce axis 2 of rank 2", a -> k.reduce(ReduceOp.SUM, a[0], new int[] {2}, false), Shape.of(2, 3)),
                expect(tck, iae, "reduce axis -3 of rank 2", a -> k.reduce(ReduceOp.MAX, a[0], new int[] {-3}, false), Shape.of(2, 3)),
                expect(tck, iae, "softmax axis 2 of rank 2", a -> k.softmax(a[0], 2), Shape.of(2, 3)),
                expect(tck, iae, "logSumExp axis -3 of rank 2", a -> k.logSumExp(a[0], -3, false), Shape.of(2, 3)),
                expect(tck, iae, "where with shapes that do not broadcast", a -> k.where(a[0], a[1], a[2]),
                        Shape.of(2, 3), Shape.of(4), Shape.of(2, 3))));
        if (tck.supports(Capability.INT64)) {
            tests.add(expect(tck, iae, "topK with k larger than the axis", a -> k.topK(a[0], 4, 1), Shape.of(2, 3)));
        }
        return tests.stream();
    }

    @TckRule(id = "KERNEL-ERROR-3", capability = Capability.INT64)
    @DisplayName("KERNEL-ERROR-3 gather and scatterAdd with an index out of range throw IndexOutOfBoundsException")
    @TestFactory
    Stream<DynamicTest> indexOutOfRange(TckContext tck) {
        Kernels k = tck.kernels();
        List<DynamicTest> tests = new ArrayList<>();
        for (long bad : new long[] {3, 100}) {
            tests.add(dynamicTest("gather index " + bad + " on an axis of size 3", () -> {
                try (NativeArray x = k.zeros(Shape.of(3, 2), DType.FLOAT32);
                     NativeArray idx = k.fromLongs(new long[] {0, bad}, Shape.of(2))) {
                    tck.assertThrows(IndexOutOfBoundsException.class, "gather index " + bad, () -> k.gather(x, idx, 0));
                }
            }));
            tests.add(dynamicTest("gather index " + bad + " on axis -1 of size 3", () -> {
                try (NativeArray x = k.zeros(Shape.of(2, 3), DType.FLOAT32);
                     NativeArray idx = k.fromLongs(new long[] {bad}, Shape.of(1))) {
                    tck.assertThrows(IndexOutOfBoundsException.class, "gather index " + bad + " axis -1", () -> k.gather(x, idx, -1));
                }
            }));
            tests.add(dynamicTest("scatterAdd index " + bad + " on an axis of size 3", () -> {
                try (NativeArray t = k.zeros(Shape.of(3, 2), DType.FLOAT32);
                     NativeArray idx = k.fromLongs(new long[] {bad, 0}, Shape.of(2));
                     NativeArray u = k.full(Shape.of(2, 2), 1, DType.FLOAT32)) {
                    tck.assertThrows(IndexOutOfBoundsException.class, "scatterAdd index " + bad, () -> k.scatterAdd(t, idx, u, 0));
                }
            }));
        }
        return tests.stream();
    }

    @TckRule(id = "KERNEL-ERROR-4", capability = Capability.INT64)
    @DisplayName("KERNEL-ERROR-4 the kernels added as SPI defaults reject misuse: bad axes, argmax over an empty axis, arange(-1), segment ids of the wrong dtype or shape (IllegalArgumentException) or out of range (IndexOutOfBoundsException), and conv2d geometries that do not fit")
    @TestFactory
    Stream<DynamicTest> newKernels(TckContext tck) {
        Kernels k = tck.kernels();
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        Class<IndexOutOfBoundsException> ioobe = IndexOutOfBoundsException.class;
        List<DynamicTest> tests = new ArrayList<>(List.of(
                expect(tck, iae, "cumsum axis 2 of rank 2", a -> k.cumsum(a[0], 2), Shape.of(2, 3)),
                expect(tck, iae, "cumsum axis -3 of rank 2", a -> k.cumsum(a[0], -3), Shape.of(2, 3)),
                expect(tck, iae, "argmax axis 2 of rank 2", a -> k.argmax(a[0], 2, false), Shape.of(2, 3)),
                expect(tck, iae, "argmax over an empty axis", a -> k.argmax(a[0], 1, false), Shape.of(2, 0)),
                expect(tck, iae, "argsort axis -3 of rank 2", a -> k.argsort(a[0], -3, false), Shape.of(2, 3)),
                expect(tck, iae, "sort axis 5 of rank 2", a -> k.sort(a[0], 5, true), Shape.of(2, 3)),
                expect(tck, iae, "arange(-1)", a -> k.arange(-1, DType.FLOAT32)),
                expect(tck, iae, "segmentSum with FLOAT32 ids", a -> k.segmentSum(a[0], a[1], 3), Shape.of(3, 2), Shape.of(3)),
                expect(tck, iae, "segmentSum with ids [2] for data [3, 2]", a -> k.segmentSum(a[0], a[1], 3),
                        Shape.of(3, 2), Shape.of(2), DType.INT64),
                expect(tck, iae, "segmentMax with ids [3, 1] for data [3, 2]", a -> k.segmentMax(a[0], a[1], 3),
                        Shape.of(3, 2), Shape.of(3, 1), DType.INT64),
                expect(tck, iae, "segmentSum with numSegments -1", a -> k.segmentSum(a[0], a[1], -1),
                        Shape.of(3, 2), Shape.of(3), DType.INT64)));
        for (long bad : new long[] {3, -1, 100}) {
            for (boolean max : new boolean[] {false, true}) {
                String name = (max ? "segmentMax" : "segmentSum") + " with id " + bad + " of 3 segments";
                tests.add(dynamicTest(name, () -> {
                    try (NativeArray data = k.full(Shape.of(4, 2), 1, DType.FLOAT32);
                         NativeArray ids = k.fromLongs(new long[] {0, 2, bad, 1}, Shape.of(4))) {
                        tck.assertThrows(ioobe, name, () -> max ? k.segmentMax(data, ids, 3) : k.segmentSum(data, ids, 3));
                    }
                }));
            }
        }
        if (tck.supports(Capability.CONVOLUTION)) {
            Conv2dOptions twoGroups = new Conv2dOptions(new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, 2);
            Conv2dOptions dilated = new Conv2dOptions(new int[] {1, 1}, new int[] {0, 0}, new int[] {3, 3}, 1);
            tests.add(expect(tck, iae, "conv2d with 2 groups over 3 channels", a -> k.conv2d(a[0], a[1], twoGroups),
                    Shape.of(1, 3, 5, 5), Shape.of(2, 1, 3, 3)));
            tests.add(expect(tck, iae, "conv2d with 2 groups and a weight for 3 channels per group",
                    a -> k.conv2d(a[0], a[1], twoGroups), Shape.of(1, 4, 5, 5), Shape.of(2, 3, 3, 3)));
            tests.add(expect(tck, iae, "conv2d whose dilated kernel (7x7) exceeds the input (5x5)",
                    a -> k.conv2d(a[0], a[1], dilated), Shape.of(1, 1, 5, 5), Shape.of(1, 1, 3, 3)));
            tests.add(expect(tck, iae, "conv2dBackwardInput with a gradient of the wrong shape",
                    a -> k.conv2dBackwardInput(a[0], a[1], Shape.of(1, 4, 5, 5), twoGroups), Shape.of(1, 2, 2, 2), Shape.of(2, 2, 3, 3)));
            tests.add(expect(tck, iae, "conv2dBackwardWeight with a gradient of the wrong shape",
                    a -> k.conv2dBackwardWeight(a[0], a[1], Shape.of(2, 2, 3, 3), twoGroups), Shape.of(1, 4, 5, 5), Shape.of(1, 2, 2, 2)));
        }
        return tests.stream();
    }
}
