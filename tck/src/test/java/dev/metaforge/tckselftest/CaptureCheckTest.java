package dev.metaforge.tckselftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.capture.CapturedCall;
import dev.metaforge.api.capture.CapturedProgram;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.tck.CaptureCheck;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/**
 * The CAPTURE-* check passes a correct capture and fails broken replays: a program with one kernel
 * dropped (its stale input passed on in its place) must not pass as eager-equal.
 */
class CaptureCheckTest {
    private static final String MAML = "{\"experiment\": {\"type\": \"maml\", \"model\": {\"type\": \"mlp\", \"sizes\": [1, 8, 8, 1],"
            + " \"activation\": \"relu\"}, \"tasks\": {\"type\": \"sinusoid\", \"k\": 5, \"queryK\": 5}, \"innerSteps\": 1,"
            + " \"innerLr\": 0.01, \"firstOrder\": false, \"metaBatch\": 3, \"evalTasks\": 0}, \"optimizer\": {\"type\": \"adam\","
            + " \"learningRate\": 0.001}, \"steps\": 1, \"seed\": 5}";

    @Test
    void aCorrectCaptureReplaysAndEqualsEager() {
        try (ReferenceBackend backend = new ReferenceBackend()) {
            CaptureCheck.Outcome o = CaptureCheck.compare(backend, DType.FLOAT64, CaptureCheck.fromSpec(MAML, "test"), 6,
                    UnaryOperator.identity());
            assertEquals(2, o.traced(), "steps traced before the program is trusted");
            assertEquals(4, o.replayed());
            assertEquals(1, o.programs());
            assertTrue(o.calls() > 50, "a second-order MAML step replays many kernels, got " + o.calls());
        }
    }

    @Test
    void aReplayThatDropsAKernelIsCaught() {
        // The last reluBackward kernel (in the backward pass) is skipped: its cotangent operand is copied through
        // instead. (A kernel of the backward pass by name: the last unary one is in the forward pass since the inner
        // update's VJP needs no negation.)
        UnaryOperator<CapturedProgram> dropOne = p -> p.replacing(lastIndexOf(p.calls(), "reluBackward"),
                (k, in) -> new NativeArray[] {k.cast(in[0], in[0].dtype())});
        try (ReferenceBackend backend = new ReferenceBackend()) {
            AssertionFailedError e = assertThrows(AssertionFailedError.class,
                    () -> CaptureCheck.compare(backend, DType.FLOAT64, CaptureCheck.fromSpec(MAML, "test"), 6, dropOne));
            assertTrue(e.getMessage().contains("differs from eager after step 2 (FLOAT64, replayed)"), e.getMessage());
        }
    }

    @Test
    void aReplayOnAStaleInputIsCaught() {
        // Every replay reads the traced step's first input data again (a constant made from its values)
        // instead of the step's own: the data of the first replayed step, frozen.
        UnaryOperator<CapturedProgram> stale = p -> {
            int call = firstReaderOfInput(p);
            NativeArray[] frozen = new NativeArray[1];
            return p.replacing(call, (k, in) -> {
                NativeArray[] operands = in.clone();
                int which = inputOperand(p, call);
                if (frozen[0] == null) {
                    frozen[0] = k.cast(in[which], in[which].dtype());
                }
                operands[which] = frozen[0];
                return p.calls().get(call).runner().run(k, operands);
            });
        };
        try (ReferenceBackend backend = new ReferenceBackend()) {
            AssertionFailedError e = assertThrows(AssertionFailedError.class,
                    () -> CaptureCheck.compare(backend, DType.FLOAT64, CaptureCheck.fromSpec(MAML, "test"), 6, stale));
            assertTrue(e.getMessage().contains("differs from eager at step 3"), e.getMessage());
        }
    }

    private static int lastIndexOf(List<CapturedCall> calls, String kernel) {
        for (int i = calls.size() - 1; i >= 0; i--) {
            if (calls.get(i).kernel().equals(kernel)) {
                return i;
            }
        }
        throw new AssertionError("no " + kernel + " call");
    }

    private static int firstReaderOfInput(CapturedProgram p) {
        for (int c = 0; c < p.calls().size(); c++) {
            if (inputOperand(p, c) >= 0) {
                return c;
            }
        }
        throw new AssertionError("no call reads an input");
    }

    private static int inputOperand(CapturedProgram p, int call) {
        int[] operands = p.calls().get(call).operands();
        for (int i = 0; i < operands.length; i++) {
            if (operands[i] != CapturedCall.NONE && p.slots().get(operands[i]).kind() == CapturedProgram.SlotKind.INPUT) {
                return i;
            }
        }
        return -1;
    }
}
