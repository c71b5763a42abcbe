package dev.metaforge.api.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.UnaryOp;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The recording kernels forward every SPI method, record what a step runs, and refuse what replay cannot repeat. */
class CaptureKernelsTest {
    @Test
    void everyKernelOfTheSpiIsForwardedNotLeftToItsDefault() {
        // A default left to run on the wrapper would record its composition, not the backend's own kernel.
        List<String> missing = new ArrayList<>();
        for (Method m : Kernels.class.getDeclaredMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || Modifier.isPrivate(m.getModifiers())) {
                continue;
            }
            try {
                CaptureKernels.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
            } catch (NoSuchMethodException e) {
                missing.add(m.toString());
            }
        }
        assertEquals(List.of(), missing, "Kernels methods CaptureKernels does not forward (add them there)");
    }

    @Test
    void aTracedStepRecordsItsCallsOverSlots() {
        try (ReferenceBackend backend = new ReferenceBackend()) {
            CaptureKernels k = new CaptureKernels(backend.kernels());
            NativeArray p = k.fromDoubles(new double[] {1, 2}, Shape.of(2), DType.FLOAT64);
            NativeArray x = k.fromDoubles(new double[] {3, 4}, Shape.of(2), DType.FLOAT64);
            Tape tape = new Tape(List.of(p), List.of(x));
            k.arm(tape);
            NativeArray y = k.binary(BinaryOp.MUL, p, x);
            NativeArray z = k.unary(UnaryOp.EXP, y);
            assertEquals(tape, k.disarm());
            NativeArray untraced = k.unary(UnaryOp.NEG, z);   // after disarming: not recorded
            assertEquals(2, tape.calls.size());
            assertEquals("binary", tape.calls.get(0).kernel());
            assertEquals(List.of(0, 1), List.of(tape.calls.get(0).operands()[0], tape.calls.get(0).operands()[1]));
            assertEquals(2, tape.calls.get(1).operands()[0], "exp reads the product's slot");
            assertNull(tape.refusal);
            for (NativeArray a : new NativeArray[] {p, x, y, z, untraced}) {
                a.close();
            }
        }
    }

    @Test
    void aHostReadOrAnInPlaceKernelMakesTheStepUnreplayable() {
        try (ReferenceBackend backend = new ReferenceBackend()) {
            CaptureKernels k = new CaptureKernels(backend.kernels());
            NativeArray p = k.fromDoubles(new double[] {1, 2}, Shape.of(2), DType.FLOAT64);
            Tape read = new Tape(List.of(p), List.of());
            k.arm(read);
            k.toDoubles(p);
            k.disarm();
            assertNotNull(read.refusal);
            assertTrue(read.refusal.contains("reads an array back to the host (toDoubles)"), read.refusal);

            Tape inPlace = new Tape(List.of(p), List.of());
            k.arm(inPlace);
            NativeArray m = k.zeros(Shape.of(2), DType.FLOAT64);
            NativeArray v = k.zeros(Shape.of(2), DType.FLOAT64);
            var results = k.adamUpdateForeach(List.of(p), List.of(p), List.of(m), List.of(v),
                    new dev.metaforge.spi.AdamStep(0.1, 0.9, 0.999, 1e-8, 0, false, 1));
            k.disarm();
            assertTrue(inPlace.refusal.contains("adamUpdateForeach"), inPlace.refusal);
            results.forEach(r -> {
                r.param().close();
                r.m().close();
                r.v().close();
            });
            m.close();
            v.close();
            p.close();
        }
    }

    @Test
    void twoTracesWithOtherHostDataDiffer() {
        try (ReferenceBackend backend = new ReferenceBackend()) {
            CaptureKernels k = new CaptureKernels(backend.kernels());
            CapturedProgram a = traceConstant(k, 1.0);
            CapturedProgram b = traceConstant(k, 1.0);
            CapturedProgram c = traceConstant(k, 2.0);
            assertNull(a.differenceFrom(b));
            String difference = a.differenceFrom(c);
            assertTrue(difference != null && difference.contains("with other host data"), difference);
        }
    }

    private static CapturedProgram traceConstant(CaptureKernels k, double value) {
        Tape tape = new Tape(List.of(), List.of());
        k.arm(tape);
        NativeArray c = k.fromDoubles(new double[] {value}, Shape.of(1), DType.FLOAT64);
        k.disarm();
        c.close();
        return new CapturedProgram(tape.slots, tape.calls, new int[] {0}, List.of());
    }

}
