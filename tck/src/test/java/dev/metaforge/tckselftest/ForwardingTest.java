package dev.metaforge.tckselftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import dev.metaforge.tck.ComposedKernels;
import dev.metaforge.tck.ForwardingBackend;
import dev.metaforge.tck.ForwardingKernels;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The kit's wrappers forward what they claim to: a kernel added to the SPI later and not forwarded
 * by {@link ForwardingKernels} would make every wrapped backend silently run the composed default.
 */
class ForwardingTest {
    /** Default methods {@link ComposedKernels} forwards although they have defaults: not compositions under test. */
    private static final Set<String> COMPOSED_FORWARDS = Set.of("zeros", "conv2d(4)");

    private static String key(Method m) {
        return m.getName().equals("conv2d") ? "conv2d(" + m.getParameterCount() + ")" : m.getName();
    }

    @Test
    void forwardingKernelsForwardsEveryKernel() throws NoSuchMethodException {
        for (Method m : Kernels.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Method impl = ForwardingKernels.class.getMethod(m.getName(), m.getParameterTypes());
            assertFalse(impl.getDeclaringClass().isInterface(), "ForwardingKernels does not forward " + m);
        }
    }

    @Test
    void composedKernelsForwardsThePrimitivesAndLeavesTheCompositionsToTheSpi() throws NoSuchMethodException {
        for (Method m : Kernels.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            Method impl = ComposedKernels.class.getMethod(m.getName(), m.getParameterTypes());
            boolean forwarded = !impl.getDeclaringClass().isInterface();
            boolean expected = !m.isDefault() || COMPOSED_FORWARDS.contains(key(m));
            assertEquals(expected, forwarded, (expected ? "ComposedKernels must forward " : "ComposedKernels must leave to the SPI ") + m);
        }
    }

    @Test
    void forwardingKernelsRunTheDelegatesKernelNotTheComposition() {
        Kernels reference = new ReferenceBackend().kernels();
        Kernels forwarding = new ForwardingKernels(reference);
        try (NativeArray x = reference.fromDoubles(new double[] {1, Double.POSITIVE_INFINITY, 2}, Shape.of(3),
                dev.metaforge.spi.DType.FLOAT64);
             NativeArray sum = forwarding.cumsum(x, 0)) {
            assertEquals(reference.backendName(), forwarding.backendName());
            double[] v = reference.toDoubles(sum);
            assertEquals(Double.POSITIVE_INFINITY, v[2]);
        }
    }

    @Test
    void forwardingBackendForwardsEverythingButSupportsWhichFollowsTheCapabilities() throws NoSuchMethodException {
        for (Method m : Backend.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.getName().equals("supports")) {
                continue;
            }
            Method impl = ForwardingBackend.class.getMethod(m.getName(), m.getParameterTypes());
            assertFalse(impl.getDeclaringClass().isInterface(), "ForwardingBackend does not forward " + m);
        }
        Backend narrowed = new ForwardingBackend(new ReferenceBackend()) {
            @Override
            public Set<Capability> capabilities() {
                return Set.of(Capability.FLOAT32);
            }
        };
        assertTrue(narrowed.supports(Capability.FLOAT32));
        assertFalse(narrowed.supports(Capability.FLOAT64), "supports() follows the overridden capabilities");
        assertEquals("reference", narrowed.name());
        narrowed.close();
    }
}
