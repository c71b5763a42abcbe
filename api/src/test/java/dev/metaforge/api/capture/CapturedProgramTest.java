package dev.metaforge.api.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replay's bookkeeping on a hand-made program whose kernels make labelled arrays: which calls run, in
 * what order, which results are freed and when, and that constants are made once.
 */
class CapturedProgramTest {
    /** An array that remembers its label and whether it was closed. */
    static final class Fake implements NativeArray {
        final String label;
        boolean closed;

        Fake(String label) {
            this.label = label;
        }

        @Override
        public Shape shape() {
            return Shape.of(1);
        }

        @Override
        public DType dtype() {
            return DType.FLOAT64;
        }

        @Override
        public Device device() {
            return Device.CPU;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final List<String> log = new ArrayList<>();
    private final List<Fake> made = new ArrayList<>();

    private CapturedCall call(String name, int[] operands, int result) {
        return new CapturedCall(name, new Object[0], operands, new int[] {result}, (k, in) -> {
            StringBuilder line = new StringBuilder(name).append('(');
            for (NativeArray a : in) {
                Fake f = (Fake) a;
                assertFalse(f.closed, name + " reads " + f.label + " after it was freed");
                line.append(f.label).append(' ');
            }
            log.add(line.toString().trim() + ")");
            Fake out = new Fake(name);
            made.add(out);
            return new NativeArray[] {out};
        });
    }

    @Test
    void replayRunsLiveCallsInOrderFreesAfterLastUseAndMakesConstantsOnce() {
        // slot 0: param p; 1: input x; then results: 2 = a(p, x), 3 = b(a), 4 = dead(a), 5 = c(), 6 = d(b, c)
        List<CapturedProgram.Slot> slots = List.of(
                new CapturedProgram.Slot(CapturedProgram.SlotKind.PARAM, 0, null),
                new CapturedProgram.Slot(CapturedProgram.SlotKind.INPUT, 0, null),
                new CapturedProgram.Slot(CapturedProgram.SlotKind.RESULT, 0, null),
                new CapturedProgram.Slot(CapturedProgram.SlotKind.RESULT, 1, null),
                new CapturedProgram.Slot(CapturedProgram.SlotKind.RESULT, 2, null),
                new CapturedProgram.Slot(CapturedProgram.SlotKind.RESULT, 3, null),
                new CapturedProgram.Slot(CapturedProgram.SlotKind.RESULT, 4, null));
        List<CapturedCall> calls = List.of(call("a", new int[] {0, 1}, 2), call("b", new int[] {2}, 3),
                call("dead", new int[] {2}, 4), call("c", new int[] {}, 5), call("d", new int[] {3, 5}, 6));
        CapturedProgram program = new CapturedProgram(slots, calls, new int[] {6, 3}, List.of());
        assertEquals(3, program.replayedCalls());
        assertEquals(1, program.constantCalls());
        assertEquals(1, program.deadCalls());

        Fake p = new Fake("p");
        Fake x = new Fake("x");
        NativeArray[] first = program.replay(null, List.of(p), List.of(x));
        assertEquals(List.of("c()", "a(p x)", "b(a)", "d(b c)"), log);
        Fake a = made.get(1);
        assertTrue(a.closed, "a's result is freed after its last live reader");
        assertFalse(p.closed || x.closed, "parameters and inputs are the caller's");
        assertEquals("d", ((Fake) first[0]).label);
        assertEquals("b", ((Fake) first[1]).label);
        assertFalse(((Fake) first[0]).closed || ((Fake) first[1]).closed, "outputs are handed over open");

        log.clear();
        program.replay(null, List.of(new Fake("p2")), List.of(new Fake("x2")));
        assertEquals(List.of("a(p2 x2)", "b(a)", "d(b c)"), log, "the constant is made on the first replay only");
        Fake constant = made.get(0);
        assertEquals("c", constant.label);
        assertFalse(constant.closed);
        program.close();
        assertTrue(constant.closed, "closing the program frees its constants");
    }
}
