package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/**
 * CAPABILITY-*: every capability a backend does not declare fails cleanly, with
 * {@link UnsupportedCapabilityException} naming the backend and the capability, never with a native
 * error or a silent fallback. (Declared capabilities are exercised by the KERNEL-* rules.)
 */
@ExtendWith(TckExtension.class)
class CapabilityConformanceTests {

    @TckRule(id = "CAPABILITY-1")
    @DisplayName("CAPABILITY-1 every undeclared dtype (FLOAT64, INT64, FLOAT32) is rejected with UnsupportedCapabilityException by creation, random and cast kernels")
    @TestFactory
    Stream<DynamicTest> undeclaredDtypes(TckContext tck) {
        return undeclared(tck, List.of(Capability.FLOAT64, Capability.INT64, Capability.FLOAT32));
    }

    @TckRule(id = "CAPABILITY-2")
    @DisplayName("CAPABILITY-2 without the CONVOLUTION capability, conv2d throws UnsupportedCapabilityException")
    @TestFactory
    Stream<DynamicTest> undeclaredConvolution(TckContext tck) {
        return undeclared(tck, List.of(Capability.CONVOLUTION));
    }

    private static Stream<DynamicTest> undeclared(TckContext tck, List<Capability> capabilities) {
        List<DynamicTest> tests = new ArrayList<>();
        for (Capability c : capabilities) {
            if (tck.supports(c)) {
                tests.add(dynamicTest(c + " is declared", () -> { }));
                continue;
            }
            for (Map.Entry<String, Supplier<?>> probe : tck.probes(c).entrySet()) {
                tests.add(dynamicTest(probe.getKey() + " without " + c,
                        () -> tck.assertUnsupported(c, probe.getKey(), probe.getValue())));
            }
        }
        return tests.stream();
    }

    @TckRule(id = "CAPABILITY-3")
    @DisplayName("CAPABILITY-3 a backend declaring GPU creates on gpu:0 a backend that computes there and agrees with the reference;"
            + " without the GPU capability, creating it on a GPU fails with a Java exception (UnsupportedCapabilityException or"
            + " IllegalArgumentException), never a silent CPU fallback")
    @TestFactory
    Stream<DynamicTest> gpuAsDeclared(TckContext tck) {
        if (tck.supports(Capability.GPU)) {
            return Stream.of(dynamicTest("GPU is declared: create on gpu:0, compute there", () -> declaredGpu(tck)));
        }
        return Stream.of(dynamicTest("create on gpu:0", () -> {
            Backend created;
            try {
                created = tck.provider().create(new BackendConfig(new Device("gpu", 0), Map.of()));
            } catch (UnsupportedCapabilityException | IllegalArgumentException expected) {
                return;
            } catch (RuntimeException | LinkageError e) {
                throw new AssertionFailedError("creating '" + tck.provider().name() + "' on gpu:0 threw "
                        + e.getClass().getName() + " (" + e.getMessage() + "); expected UnsupportedCapabilityException"
                        + " or IllegalArgumentException", e);
            }
            Device device = created.device();
            created.close();
            throw new AssertionFailedError("backend '" + tck.provider().name() + "' does not declare GPU but create() on gpu:0"
                    + " returned a backend computing on " + device);
        }));
    }

    /**
     * The backend declares GPU: it must list a GPU device, create a backend on gpu:0 that says it
     * computes there, whose arrays live there, and whose matmul agrees with the reference.
     */
    private static void declaredGpu(TckContext tck) {
        if (tck.backend().devices().stream().noneMatch(Device::isGpu)) {
            throw new AssertionFailedError("backend '" + tck.provider().name() + "' declares GPU but devices() lists none: "
                    + tck.backend().devices());
        }
        Backend gpu;
        try {
            gpu = tck.provider().create(new BackendConfig(new Device("gpu", 0), Map.of()));
        } catch (RuntimeException | LinkageError e) {
            throw new AssertionFailedError("backend '" + tck.provider().name() + "' declares GPU but cannot be created on gpu:0: "
                    + e, e);
        }
        try (gpu) {
            if (!gpu.device().isGpu()) {
                throw new AssertionFailedError("backend '" + tck.provider().name() + "' declares GPU but create() on gpu:0 returned a"
                        + " backend computing on " + gpu.device() + " (a silent CPU fallback)");
            }
            tck.compare("matmul [3,4]@[4,2] on " + gpu.device(), tck.referenceKernels(), dev.metaforge.spi.DType.FLOAT64,
                    new DeviceChecked(gpu.kernels(), gpu.device()), dev.metaforge.spi.DType.FLOAT32,
                    Tolerance.of(dev.metaforge.spi.DType.FLOAT32), (k, dt, in) -> k.matmul(in[0], in[1]),
                    Operand.random(dev.metaforge.spi.Shape.of(3, 4), 1), Operand.random(dev.metaforge.spi.Shape.of(4, 2), 2));
        }
    }

    /** Kernels whose every result must live on {@code device}. */
    private static final class DeviceChecked extends ForwardingKernels {
        private final Device device;

        DeviceChecked(dev.metaforge.spi.Kernels delegate, Device device) {
            super(delegate);
            this.device = device;
        }

        @Override
        public dev.metaforge.spi.NativeArray matmul(dev.metaforge.spi.NativeArray a, dev.metaforge.spi.NativeArray b) {
            dev.metaforge.spi.NativeArray out = super.matmul(a, b);
            if (!out.device().equals(device)) {
                out.close();
                throw new AssertionFailedError("matmul on the gpu:0 backend returned an array on " + out.device());
            }
            return out;
        }
    }
}
