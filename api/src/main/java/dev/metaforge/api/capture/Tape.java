package dev.metaforge.api.capture;

import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recording of one traced step: every array the step touches mapped to a slot by identity
 * (parameters and inputs first, then arrays from outside the step, then kernel results), and the
 * calls in order. The first thing that makes the step unreplayable is kept as the refusal.
 */
final class Tape {
    final Thread thread = Thread.currentThread();
    private final Map<NativeArray, Integer> slotOf = new IdentityHashMap<>();
    final List<CapturedProgram.Slot> slots = new ArrayList<>();
    final List<CapturedCall> calls = new ArrayList<>();
    String refusal;

    Tape(List<NativeArray> params, List<NativeArray> inputs) {
        for (int i = 0; i < params.size(); i++) {
            bind(params.get(i), new CapturedProgram.Slot(CapturedProgram.SlotKind.PARAM, i, null));
        }
        for (int i = 0; i < inputs.size(); i++) {
            bind(inputs.get(i), new CapturedProgram.Slot(CapturedProgram.SlotKind.INPUT, i, null));
        }
    }

    private void bind(NativeArray array, CapturedProgram.Slot slot) {
        if (slotOf.containsKey(array)) {
            refuse("two parameters or inputs share one array; replay binds each to its own");
        }
        slotOf.put(array, slots.size());
        slots.add(slot);
    }

    /** The slot of {@code array}; an array not seen before comes from outside the step (a constant the objective keeps). */
    int slot(NativeArray array) {
        if (array == null) {
            return CapturedCall.NONE;
        }
        Integer s = slotOf.get(array);
        if (s != null) {
            return s;
        }
        bind(array, new CapturedProgram.Slot(CapturedProgram.SlotKind.EXTERNAL, -1, array));
        return slots.size() - 1;
    }

    /** Runs the kernel on {@code delegate} and records it. */
    NativeArray[] record(Kernels delegate, String kernel, Object[] args, NativeArray[] operands, CapturedCall.Runner runner) {
        int[] in = new int[operands.length];
        for (int i = 0; i < operands.length; i++) {
            in[i] = slot(operands[i]);
        }
        NativeArray[] out = runner.run(delegate, operands);
        int[] res = new int[out.length];
        for (int i = 0; i < out.length; i++) {
            if (slotOf.containsKey(out[i])) {
                refuse("kernel " + kernel + " returned an array the step already held (an operand or an earlier result);"
                        + " replay needs a new array from every kernel");
            }
            slotOf.put(out[i], slots.size());
            res[i] = slots.size();
            slots.add(new CapturedProgram.Slot(CapturedProgram.SlotKind.RESULT, calls.size(), null));
        }
        calls.add(new CapturedCall(kernel, args, in, res, runner));
        return out;
    }

    void refuse(String reason) {
        if (refusal == null) {
            refusal = reason;
        }
    }
}
