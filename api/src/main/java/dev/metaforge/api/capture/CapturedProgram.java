package dev.metaforge.api.capture;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One traced training step as a flat list of kernel calls over numbered slots: the step's parameters
 * and inputs, arrays from outside the step (constants the objective keeps), and the calls' results.
 * {@link #outputs()} names the slots the step hands back (the logged loss vector, then one gradient per
 * parameter).
 *
 * <p>Replaying ({@link #replay}) runs the calls in the traced order on new parameter and input arrays,
 * so its results are those of the eager step bit for bit, with three changes that cannot alter a value:
 * <ul>
 *   <li>calls whose results nothing reads are skipped (kernels are pure);</li>
 *   <li>calls that read only constants (creation kernels, and what is computed from them alone) run once,
 *       on the first replay, and their results are kept until {@link #close()};</li>
 *   <li>each intermediate array is freed right after its last reader.</li>
 * </ul>
 * The SPI has no kernels that write into a caller's buffer, so results are not written into reused
 * buffers: each replayed kernel allocates its result as in the eager step.
 */
public final class CapturedProgram implements AutoCloseable {
    /** What a slot holds. */
    public enum SlotKind {
        /** The step's i-th parameter. */
        PARAM,
        /** The step's i-th input. */
        INPUT,
        /** An array from outside the step, the same one in every step (a constant the objective keeps). */
        EXTERNAL,
        /** A result of call {@code index}. */
        RESULT
    }

    /**
     * A slot.
     *
     * @param kind     what it holds
     * @param index    the parameter or input number, or the producing call
     * @param external the array, for {@link SlotKind#EXTERNAL}
     */
    public record Slot(SlotKind kind, int index, NativeArray external) {
    }

    private final List<Slot> slots;
    private final List<CapturedCall> calls;
    private final int[] outputs;
    private final List<String> names;
    // Derived for replay.
    private final boolean[] live;
    private final boolean[] hoisted;
    private final int[] lastUse;
    private final boolean[] isOutput;
    private NativeArray[] constants;

    /**
     * @param slots   every slot, in order of first appearance
     * @param calls   the kernel calls in traced order
     * @param outputs the slots handed back
     * @param names   the names of the logged loss parts and statistics (after the loss itself)
     */
    public CapturedProgram(List<Slot> slots, List<CapturedCall> calls, int[] outputs, List<String> names) {
        this.slots = List.copyOf(slots);
        this.calls = List.copyOf(calls);
        this.outputs = outputs.clone();
        this.names = List.copyOf(names);
        int n = this.slots.size();
        isOutput = new boolean[n];
        for (int o : this.outputs) {
            isOutput[o] = true;
        }
        // Liveness from the outputs backwards: a call is kept when something kept reads one of its results.
        live = new boolean[this.calls.size()];
        boolean[] needed = isOutput.clone();
        for (int c = this.calls.size() - 1; c >= 0; c--) {
            CapturedCall call = this.calls.get(c);
            for (int r : call.results()) {
                live[c] |= needed[r];
            }
            if (live[c]) {
                for (int o : call.operands()) {
                    if (o != CapturedCall.NONE) {
                        needed[o] = true;
                    }
                }
            }
        }
        // Constant calls: every operand is external or itself constant.
        hoisted = new boolean[this.calls.size()];
        boolean[] constantSlot = new boolean[n];
        for (int s = 0; s < n; s++) {
            constantSlot[s] = this.slots.get(s).kind() == SlotKind.EXTERNAL;
        }
        for (int c = 0; c < this.calls.size(); c++) {
            CapturedCall call = this.calls.get(c);
            boolean constant = live[c];
            for (int o : call.operands()) {
                constant &= o == CapturedCall.NONE || constantSlot[o];
            }
            hoisted[c] = constant;
            for (int r : call.results()) {
                constantSlot[r] = constant;
            }
        }
        lastUse = new int[n];
        Arrays.fill(lastUse, -1);
        for (int c = 0; c < this.calls.size(); c++) {
            CapturedCall call = this.calls.get(c);
            if (!live[c] || hoisted[c]) {
                continue;
            }
            for (int r : call.results()) {
                lastUse[r] = c;
            }
            for (int o : call.operands()) {
                if (o != CapturedCall.NONE) {
                    lastUse[o] = c;
                }
            }
        }
    }

    public List<Slot> slots() {
        return slots;
    }

    public List<CapturedCall> calls() {
        return calls;
    }

    public int[] outputs() {
        return outputs.clone();
    }

    public List<String> names() {
        return names;
    }

    /** Calls a replay runs per step (live and not constant). */
    public int replayedCalls() {
        int n = 0;
        for (int c = 0; c < calls.size(); c++) {
            n += live[c] && !hoisted[c] ? 1 : 0;
        }
        return n;
    }

    /** Calls run once and kept (constants). */
    public int constantCalls() {
        int n = 0;
        for (boolean h : hoisted) {
            n += h ? 1 : 0;
        }
        return n;
    }

    /** Calls skipped because nothing reads their results. */
    public int deadCalls() {
        int n = 0;
        for (boolean l : live) {
            n += l ? 0 : 1;
        }
        return n;
    }

    /**
     * A copy of this program with call {@code index} run by {@code runner} instead (a test injects a
     * fault this way: a dropped kernel, a stale operand).
     */
    public CapturedProgram replacing(int index, CapturedCall.Runner runner) {
        List<CapturedCall> changed = new ArrayList<>(calls);
        CapturedCall old = changed.get(index);
        changed.set(index, new CapturedCall(old.kernel(), old.args(), old.operands(), old.results(), requireNonNull(runner, "runner is null")));
        return new CapturedProgram(slots, changed, outputs, names);
    }

    /**
     * Null when {@code other} is the same program (same calls with equal arguments on the same slots,
     * the same outside arrays), else where the two first differ, for a message.
     */
    public String differenceFrom(CapturedProgram other) {
        int n = Math.min(calls.size(), other.calls.size());
        for (int c = 0; c < n; c++) {
            if (!calls.get(c).sameAs(other.calls.get(c))) {
                String a = calls.get(c).describe();
                String b = other.calls.get(c).describe();
                return "call " + c + " was " + a + ", then " + b + (a.equals(b)
                        ? " with other host data (values drawn or computed in Java inside the loss, e.g. a random mask)" : "");
            }
        }
        if (calls.size() != other.calls.size()) {
            return "the step ran " + calls.size() + " kernel calls, then " + other.calls.size();
        }
        if (slots.size() != other.slots.size()) {
            return "the step used " + slots.size() + " arrays, then " + other.slots.size();
        }
        for (int s = 0; s < slots.size(); s++) {
            Slot a = slots.get(s);
            Slot b = other.slots.get(s);
            if (a.kind() != b.kind() || a.index() != b.index() || a.external() != b.external()) {
                return "array " + s + " was " + describe(a) + ", then " + describe(b)
                        + (a.kind() == SlotKind.EXTERNAL && b.kind() == SlotKind.EXTERNAL
                        ? " (the loss reads an array it keeps outside the step, and that array changed between steps: state the step updates)" : "");
            }
        }
        if (!Arrays.equals(outputs, other.outputs) || !names.equals(other.names)) {
            return "the step's results (loss parts " + names + ", gradients) came from other arrays";
        }
        return null;
    }

    private static String describe(Slot s) {
        return switch (s.kind()) {
            case PARAM -> "parameter " + s.index();
            case INPUT -> "input " + s.index();
            case EXTERNAL -> "an array from outside the step";
            case RESULT -> "the result of call " + s.index();
        };
    }

    /**
     * Runs the program on {@code params} and {@code inputs} (in the traced order, same shapes) with
     * {@code kernels}; returns one new array per {@link #outputs()} slot, owned by the caller. The
     * operands are only read.
     */
    public NativeArray[] replay(Kernels kernels, List<NativeArray> params, List<NativeArray> inputs) {
        NativeArray[] v = new NativeArray[slots.size()];
        boolean[] owned = new boolean[slots.size()];
        if (constants == null) {
            constants = computeConstants(kernels);
        }
        for (int s = 0; s < slots.size(); s++) {
            Slot slot = slots.get(s);
            v[s] = switch (slot.kind()) {
                case PARAM -> params.get(slot.index());
                case INPUT -> inputs.get(slot.index());
                case EXTERNAL -> slot.external();
                case RESULT -> constants[s];
            };
        }
        NativeArray[] out = new NativeArray[outputs.length];
        try {
            for (int c = 0; c < calls.size(); c++) {
                if (!live[c] || hoisted[c]) {
                    continue;
                }
                CapturedCall call = calls.get(c);
                run(kernels, call, v, v);
                for (int r : call.results()) {
                    owned[r] = true;
                }
                // Free what this call read (or made) for the last time, unless it is handed back.
                for (int r : call.results()) {
                    free(v, owned, r, c);
                }
                for (int o : call.operands()) {
                    if (o != CapturedCall.NONE) {
                        free(v, owned, o, c);
                    }
                }
            }
            boolean[] handed = new boolean[slots.size()];
            for (int i = 0; i < outputs.length; i++) {
                int s = outputs[i];
                if (owned[s] && !handed[s]) {
                    out[i] = v[s];
                    handed[s] = true;
                } else {
                    // A parameter, input, constant or a slot handed back twice: the caller gets its own copy.
                    out[i] = kernels.cast(v[s], v[s].dtype());
                }
            }
            return out;
        } catch (RuntimeException | Error e) {
            for (int s = 0; s < v.length; s++) {
                if (owned[s] && v[s] != null) {
                    v[s].close();
                }
            }
            for (NativeArray o : out) {
                if (o != null) {
                    o.close();
                }
            }
            throw e;
        }
    }

    /** Runs the constant calls once; only their results are kept (the outside arrays stay their owners'). */
    private NativeArray[] computeConstants(Kernels kernels) {
        NativeArray[] scratch = new NativeArray[slots.size()];
        for (int s = 0; s < slots.size(); s++) {
            if (slots.get(s).kind() == SlotKind.EXTERNAL) {
                scratch[s] = slots.get(s).external();
            }
        }
        NativeArray[] kept = new NativeArray[slots.size()];
        try {
            for (int c = 0; c < calls.size(); c++) {
                if (hoisted[c]) {
                    run(kernels, calls.get(c), scratch, scratch);
                    for (int r : calls.get(c).results()) {
                        kept[r] = scratch[r];
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            for (NativeArray k : kept) {
                if (k != null) {
                    k.close();
                }
            }
            throw e;
        }
        return kept;
    }

    private static void run(Kernels kernels, CapturedCall call, NativeArray[] read, NativeArray[] write) {
        int[] in = call.operands();
        NativeArray[] operands = new NativeArray[in.length];
        for (int i = 0; i < in.length; i++) {
            operands[i] = in[i] == CapturedCall.NONE ? null : read[in[i]];
        }
        NativeArray[] results = call.runner().run(kernels, operands);
        int[] res = call.results();
        if (results.length != res.length) {
            throw new IllegalStateException(call.kernel() + " gave " + results.length + " results on replay, " + res.length + " when traced");
        }
        for (int i = 0; i < res.length; i++) {
            write[res[i]] = results[i];
        }
    }

    private void free(NativeArray[] v, boolean[] owned, int slot, int call) {
        if (owned[slot] && lastUse[slot] == call && !isOutput[slot] && v[slot] != null) {
            v[slot].close();
            v[slot] = null;
            owned[slot] = false;
        }
    }

    /** Frees the constants computed on the first replay. */
    @Override
    public void close() {
        if (constants != null) {
            for (NativeArray c : constants) {
                if (c != null) {
                    c.close();
                }
            }
            constants = null;
        }
    }
}
