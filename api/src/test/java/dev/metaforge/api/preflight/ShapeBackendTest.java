package dev.metaforge.api.preflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The shape-only backend gives the reference backend's shapes, dtypes and argument errors, and meters memory. */
@SuppressWarnings("try")
class ShapeBackendTest {
    private static final long GIB = 1L << 30;

    /** Programs run on both backends: every result's shape and dtype must agree. */
    private static Map<String, Function<Engine, List<Tensor>>> programs() {
        Map<String, Function<Engine, List<Tensor>>> p = new LinkedHashMap<>();
        p.put("elementwise and broadcasting", e -> {
            Tensor a = e.uniform(Shape.of(3, 1, 4), -1, 1, 1);
            Tensor b = e.uniform(Shape.of(5, 1), -1, 1, 2);
            return List.of(a.add(b), a.mul(b).tanh(), a.sub(2.0).relu(), a.lt(b), Tensor.where(a.gt(0.0), a, b.reshape(5, 1)),
                    a.cast(DType.FLOAT32), a.maximum(b).sigmoid());
        });
        p.put("matmul, linear, batched", e -> {
            Tensor x = e.uniform(Shape.of(7, 3), -1, 1, 1);
            Tensor w = e.uniform(Shape.of(3, 5), -1, 1, 2);
            Tensor bw = e.uniform(Shape.of(4, 3, 5), -1, 1, 3);
            return List.of(x.matmul(w), x.linear(w, e.zeros(5)), x.matmul(bw), bw.mT());
        });
        p.put("reductions", e -> {
            Tensor x = e.uniform(Shape.of(2, 3, 4), -1, 1, 1);
            return List.of(x.sum(), x.sum(1, true), x.mean(new int[] {0, 2}, false), x.max(-1, false), x.softmax(1),
                    x.logSumExp(2, true), x.logSoftmax(-1), x.argmax(1, false), x.cumsum(2), x.sort(2, true), x.argsort(0, false));
        });
        p.put("shape and indexing", e -> {
            Tensor x = e.uniform(Shape.of(4, 6), -1, 1, 1);
            Tensor idx = e.indices(new long[] {0, 3, 1}, 3);
            return List.of(x.reshape(2, 12), x.transpose(1, 0), x.slice(1, 1, 4), Tensor.concat(List.of(x, x), 0),
                    Tensor.stack(List.of(x, x), 1), x.gather(idx, 0), x.scatterAdd(idx, x.gather(idx, 0), 0), x.expandDims(0),
                    x.broadcastTo(Shape.of(3, 4, 6)), x.flatten(0, 1), x.topK(2, 1).values(), x.topK(2, 1).indices(),
                    x.segmentSum(e.indices(new long[] {0, 1, 1, 0}, 4), 3));
        });
        p.put("convolution", e -> {
            Tensor x = e.uniform(Shape.of(2, 4, 9, 9), -1, 1, 1).requiresGrad();
            Tensor w = e.uniform(Shape.of(6, 2, 3, 3), -1, 1, 2).requiresGrad();
            Tensor y = x.conv2d(w, new Conv2dOptions(new int[] {2, 1}, new int[] {1, 0}, new int[] {1, 2}, 2));
            Params g = Grad.of(y.square().sum()).wrt(Params.of(Map.of("x", x, "w", w)));
            return List.of(y, g.get("x"), g.get("w"));
        });
        p.put("second-order gradients of an MLP", e -> {
            Tensor x = e.uniform(Shape.of(16, 3), -1, 1, 1);
            Tensor w1 = e.uniform(Shape.of(3, 8), -1, 1, 2).requiresGrad();
            Tensor w2 = e.uniform(Shape.of(8, 1), -1, 1, 3).requiresGrad();
            Tensor loss = x.matmul(w1).tanh().matmul(w2).square().mean();
            Tensor g1 = Grad.of(loss).withGraph().wrt(w1);
            Tensor hv = Grad.of(g1.mul(g1).sum()).wrt(w2);
            return List.of(loss, g1, hv);
        });
        return p;
    }

    @Test
    void shapesAndDtypesAgreeWithTheReferenceBackend() {
        for (var program : programs().entrySet()) {
            List<String> reference = describe(Engine.of(new ReferenceBackend(), DType.FLOAT64), program.getValue());
            MemoryMeter meter = new MemoryMeter(GIB, 1_000_000);
            List<String> shapes = describe(Engine.of(ShapeBackend.of(meter), DType.FLOAT64), program.getValue());
            assertEquals(reference, shapes, program.getKey());
            assertEquals(0, meter.liveBytes(), program.getKey() + ": every array was freed with its scope");
            assertTrue(meter.peakBytes() > 0 && meter.kernelCalls() > 0, program.getKey());
        }
    }

    private static List<String> describe(Engine engine, Function<Engine, List<Tensor>> program) {
        List<String> out = new ArrayList<>();
        try (Scope scope = Scope.open()) {
            for (Tensor t : program.apply(engine)) {
                out.add(t.shape() + " " + t.dtype());
            }
        }
        return out;
    }

    @Test
    void argumentErrorsAreTheReferenceBackendsErrors() {
        List<Function<Engine, Object>> wrong = List.of(
                e -> e.zeros(2, 3).matmul(e.zeros(4, 5)),
                e -> e.zeros(2, 3).add(e.zeros(4, 5)),
                e -> e.zeros(2, 3).reshape(5),
                e -> e.zeros(2, 3).sum(2, false),
                e -> e.zeros(2, 3).slice(1, 2, 5),
                e -> e.zeros(2, 3).add(e.zeros(Shape.of(2, 3), DType.FLOAT32)),
                e -> e.zeros(3).matmul(e.zeros(3, 1)),
                e -> e.zeros(2, 3).topK(4, 1));
        for (int i = 0; i < wrong.size(); i++) {
            Function<Engine, Object> op = wrong.get(i);
            Class<?> expected = thrown(Engine.of(new ReferenceBackend(), DType.FLOAT64), op);
            Class<?> actual = thrown(Engine.of(ShapeBackend.of(new MemoryMeter(GIB, 1000)), DType.FLOAT64), op);
            assertEquals(expected, actual, "case " + i);
        }
    }

    private static Class<?> thrown(Engine engine, Function<Engine, Object> op) {
        try (Scope scope = Scope.open()) {
            op.apply(engine);
            return null;
        } catch (RuntimeException e) {
            return e.getClass();
        }
    }

    @Test
    void valuesReadBackAreZerosOfTheRightLength() {
        try (Scope scope = Scope.open()) {
            Engine e = Engine.of(ShapeBackend.of(new MemoryMeter(GIB, 1000)), DType.FLOAT32);
            Tensor t = e.uniform(Shape.of(3, 4), 1, 2, 7).exp();
            assertEquals(12, t.toDoubles().length);
            assertEquals(0.0, t.sum().item());
        }
    }

    @Test
    void theMeterStopsAtTheBudgetWithoutAllocating() {
        MemoryMeter meter = new MemoryMeter(GIB, 1000);
        try (Scope scope = Scope.open()) {
            Engine e = Engine.of(ShapeBackend.of(meter), DType.FLOAT32);
            Tensor small = e.zeros(1024, 1024);
            assertEquals(4L << 20, meter.largestBytes());
            MemoryMeter.LimitExceededException big = assertThrows(MemoryMeter.LimitExceededException.class,
                    () -> e.zeros(65536, 65536));
            assertEquals(Shape.of(65536, 65536), big.shape());
            assertTrue(big.getMessage().contains("[65536, 65536] FLOAT32 (16.0 GiB)"), big.getMessage());
            assertTrue(small.size() > 0);
            // sizes beyond a long saturate instead of overflowing into a small number
            assertEquals(Long.MAX_VALUE, MemoryMeter.bytesOf(Shape.of(1 << 30, 1 << 30, 1 << 30), DType.FLOAT64));
        }
        MemoryMeter calls = new MemoryMeter(GIB, 50);
        try (Scope scope = Scope.open()) {
            Engine e = Engine.of(ShapeBackend.of(calls), DType.FLOAT32);
            Tensor x = e.zeros(2);
            assertThrows(MemoryMeter.LimitExceededException.class, () -> {
                Tensor y = x;
                for (int i = 0; i < 100; i++) {
                    y = y.add(1.0);
                }
            });
        }
    }

    @Test
    void capabilitiesOfTheMirroredBackendAreEnforced() {
        ReferenceBackend reference = new ReferenceBackend();
        ShapeBackend mirror = ShapeBackend.mirroring(reference, new MemoryMeter(GIB, 1000));
        assertEquals(reference.capabilities(), mirror.capabilities());
        assertEquals(reference.name(), mirror.name());
        ShapeBackend floatOnly = ShapeBackend.of(new MemoryMeter(GIB, 1000));
        ShapeBackend noConv = ShapeBackend.mirroring(new dev.metaforge.spi.Backend() {
            @Override
            public String name() {
                return "float32-only";
            }

            @Override
            public String version() {
                return "test";
            }

            @Override
            public List<dev.metaforge.spi.Device> devices() {
                return List.of(dev.metaforge.spi.Device.CPU);
            }

            @Override
            public dev.metaforge.spi.Device device() {
                return dev.metaforge.spi.Device.CPU;
            }

            @Override
            public java.util.Set<Capability> capabilities() {
                return java.util.EnumSet.of(Capability.FLOAT32, Capability.INT64);
            }

            @Override
            public dev.metaforge.spi.Kernels kernels() {
                return floatOnly.kernels();
            }

            @Override
            public void close() {
            }
        }, new MemoryMeter(GIB, 1000));
        try (Scope scope = Scope.open()) {
            Engine e = Engine.of(noConv, DType.FLOAT32);
            assertThrows(UnsupportedCapabilityException.class, () -> e.zeros(1, 1, 3, 3).conv2d(e.zeros(1, 1, 2, 2), Conv2dOptions.defaults()));
            assertThrows(UnsupportedCapabilityException.class, () -> e.zeros(Shape.of(2), DType.FLOAT64));
        }
    }
}
