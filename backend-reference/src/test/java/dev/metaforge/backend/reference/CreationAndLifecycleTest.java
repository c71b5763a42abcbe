package dev.metaforge.backend.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CreationAndLifecycleTest extends KernelTestSupport {

    @Test
    void roundTripsEachDtype() {
        check(f64(d(1.5, -2, 3), 3), DType.FLOAT64, shape(3), 1.5, -2, 3);
        NativeArray ints = i64(l(1, -2, 9_007_199_254_740_992L), 3);
        assertArrayEquals(l(1, -2, 9_007_199_254_740_992L), k.toLongs(ints));
        NativeArray floats = k.fromFloats(new float[] {0.1f, 2f}, Shape.of(2, 1));
        assertArrayEquals(new float[] {0.1f, 2f}, k.toFloats(floats));
        assertEquals(DType.FLOAT32, floats.dtype());
        assertEquals(Device.CPU, floats.device());
    }

    @Test
    void scalarsAndZeroSizedShapes() {
        check(k.full(Shape.scalar(), 7, DType.FLOAT64), DType.FLOAT64, shape(), 7);
        check(k.zeros(Shape.of(2, 0), DType.FLOAT32), DType.FLOAT32, shape(2, 0));
    }

    @Test
    void float32StoresFloatRoundedValuesAndFloatArithmetic() {
        NativeArray a = f32(d(0.1), 1);
        assertEquals((double) 0.1f, k.toDoubles(a)[0], 0.0);
        NativeArray sum = k.binary(BinaryOp.ADD, a, f32(d(0.2), 1));
        assertEquals((double) (0.1f + 0.2f), k.toDoubles(sum)[0], 0.0);
        NativeArray quotient = k.binaryScalar(BinaryOp.DIV, f32(d(1), 1), 3);
        assertEquals((double) (1f / 3f), k.toDoubles(quotient)[0], 0.0);
    }

    @Test
    void int64RejectsWhatFloat64CannotHoldExactly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> i64(l(9_007_199_254_740_993L), 1));
        assertTrue(e.getMessage().contains("fromLongs") && e.getMessage().contains("2^53"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> k.fromDoubles(d(1.5), Shape.of(1), DType.INT64));
        assertThrows(IllegalArgumentException.class, () -> k.full(Shape.of(1), 0.5, DType.INT64));
    }

    @Test
    void lengthMismatchIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f64(d(1, 2, 3), 2, 2));
        assertTrue(e.getMessage().contains("[2, 2]"), e.getMessage());
    }

    @Test
    void closedArrayThrowsNamingTheOperation() {
        NativeArray a = f64(d(1, 2), 2);
        a.close();
        a.close(); // idempotent
        assertTrue(((ReferenceArray) a).isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> k.unary(dev.metaforge.spi.UnaryOp.EXP, a));
        assertTrue(e.getMessage().contains("unary EXP"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> k.matmul(a, a));
        assertTrue(e.getMessage().contains("matmul") || e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> k.toDoubles(a));
        assertEquals(Shape.of(2), a.shape());
    }

    @Test
    void kernelsDoNotModifyInputs() {
        double[] src = d(1, 2, 3);
        NativeArray a = f64(src, 3);
        src[0] = 99;
        NativeArray b = k.unary(dev.metaforge.spi.UnaryOp.NEG, a);
        double[] out = k.toDoubles(a);
        out[1] = 42;
        check(a, DType.FLOAT64, shape(3), 1, 2, 3);
        check(b, DType.FLOAT64, shape(3), -1, -2, -3);
    }

    @Test
    void randomIsDeterministicPerSeedAndInRange() {
        Shape s = Shape.of(1000);
        double[] u1 = k.toDoubles(k.randomUniform(s, DType.FLOAT64, -2, 3, 42));
        double[] u2 = k.toDoubles(k.randomUniform(s, DType.FLOAT64, -2, 3, 42));
        double[] u3 = k.toDoubles(k.randomUniform(s, DType.FLOAT64, -2, 3, 43));
        assertArrayEquals(u1, u2, 0.0);
        assertFalse(java.util.Arrays.equals(u1, u3));
        for (double v : u1) {
            assertTrue(v >= -2 && v < 3, "out of range: " + v);
        }
        for (double v : k.toDoubles(k.randomUniform(s, DType.FLOAT32, 0, 1, 7))) {
            assertTrue(v >= 0 && v < 1 && v == (float) v, "bad float32 sample: " + v);
        }
        double[] n1 = k.toDoubles(k.randomNormal(Shape.of(20_001), DType.FLOAT64, 5, 2, 1));
        assertArrayEquals(n1, k.toDoubles(k.randomNormal(Shape.of(20_001), DType.FLOAT64, 5, 2, 1)), 0.0);
        double mean = 0;
        for (double v : n1) {
            mean += v / n1.length;
        }
        double var = 0;
        for (double v : n1) {
            var += (v - mean) * (v - mean) / n1.length;
        }
        assertEquals(5, mean, 0.1);
        assertEquals(2, Math.sqrt(var), 0.1);
        assertThrows(IllegalArgumentException.class, () -> k.randomUniform(s, DType.INT64, 0, 1, 1));
    }

    @Test
    void backendAndProviderMetadata() {
        ReferenceBackendProvider provider = new ReferenceBackendProvider();
        assertEquals("reference", provider.name());
        assertEquals(0, provider.priority());
        assertTrue(provider.probe().usable());
        try (Backend b = provider.create(BackendConfig.defaults())) {
            assertEquals("reference", b.name());
            assertEquals("metaforge-reference 1 (pure Java float64)", b.version());
            assertEquals(List.of(Device.CPU), b.devices());
            assertEquals(Device.CPU, b.device());
            assertEquals(EnumSet.of(Capability.FLOAT32, Capability.FLOAT64, Capability.INT64, Capability.CONVOLUTION),
                    EnumSet.copyOf(b.capabilities()));
            assertEquals("reference", b.kernels().backendName());
        }
        // No GPU: refused with the capability, like every backend; another CPU index is a plain bad argument.
        assertThrows(dev.metaforge.spi.UnsupportedCapabilityException.class,
                () -> provider.create(new BackendConfig(new Device("gpu", 0), Map.of())));
        assertThrows(IllegalArgumentException.class,
                () -> provider.create(new BackendConfig(new Device("cpu", 1), Map.of())));
    }

    @Test
    void providerIsNotRegisteredForServiceLoader() {
        assertNull(getClass().getClassLoader().getResource("META-INF/services/dev.metaforge.spi.BackendProvider"));
    }
}
