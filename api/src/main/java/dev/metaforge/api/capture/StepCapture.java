package dev.metaforge.api.capture;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Captures a training step and replays it. The step is a function of the parameters and the step's
 * inputs that returns the logged loss vector and one gradient per parameter (the optimizer update runs
 * after it, eagerly: one foreach kernel call). Per shape signature (names, shapes and dtypes of
 * parameters and inputs):
 * <ol>
 *   <li>the step runs eagerly while {@link CaptureKernels} records it ({@link CapturedProgram});</li>
 *   <li>the next step with that signature is recorded too and compared with the first: equal programs
 *       (same kernels, arguments, operands and outside arrays) show the step does not change from step
 *       to step, and the program becomes ready;</li>
 *   <li>later steps with that signature replay it: kernel calls only, no tensor layer, no autodiff tape,
 *       no scopes, no per-op checks;</li>
 *   <li>a new signature (a shape change) is traced afresh; up to {@value #MAX_PROGRAMS} programs are kept.</li>
 * </ol>
 * The capture refuses, says why once through its notice sink, and leaves every later step eager, when a
 * traced step reads an array back to the host, runs an in-place kernel, gets an operand back as a result,
 * or when {@value #MAX_MISMATCHES} traces in a row differ (random draws or state inside the loss).
 *
 * <pre>{@code
 * Engine engine = StepCapture.engine(Engine.create("djl"));       // before building the objective
 * Objective objective = spec.experiment().build(new BuildContext(engine, specs, dir, seed));
 * TrainingLoop loop = TrainingLoop.start(objective, optimizer, seed).withCapture(StepCapture.on(engine, System.err::println));
 * }</pre>
 */
public final class StepCapture implements AutoCloseable {
    /** Consecutive differing traces of one signature before the capture gives up. */
    public static final int MAX_MISMATCHES = 3;
    /** Programs kept (one per shape signature); the oldest is dropped beyond it. */
    public static final int MAX_PROGRAMS = 8;

    /** What one step hands back: the logged loss vector (owned by no scope), its names, the gradients. */
    public record Result(Tensor pending, List<String> names, Params grads) {
    }

    /** The step itself, run eagerly while it is traced. */
    @FunctionalInterface
    public interface Body {
        Result run(Params params, Params inputs);
    }

    private record Signature(List<String> names, List<Shape> shapes, List<DType> dtypes) {
        static Signature of(Params params, Params inputs) {
            List<String> names = new ArrayList<>();
            List<Shape> shapes = new ArrayList<>();
            List<DType> dtypes = new ArrayList<>();
            for (Params p : new Params[] {params, inputs}) {
                for (String n : p.names()) {
                    names.add(n);
                    shapes.add(p.get(n).shape());
                    dtypes.add(p.get(n).dtype());
                }
                names.add("|");
            }
            return new Signature(names, shapes, dtypes);
        }
    }

    private final Engine engine;
    private final CaptureKernels kernels;
    private final Consumer<String> notices;
    private final UnaryOperator<CapturedProgram> transform;
    private final boolean automatic;
    private final Map<Signature, CapturedProgram> ready = new LinkedHashMap<>();
    private final Map<Signature, CapturedProgram> candidates = new HashMap<>();
    private final Map<Signature, Integer> mismatches = new HashMap<>();
    private String refusal;
    private long traced;
    private long replayed;

    private StepCapture(Engine engine, Consumer<String> notices, UnaryOperator<CapturedProgram> transform, boolean automatic) {
        this.engine = engine;
        if (!(engine.kernels() instanceof CaptureKernels ck)) {
            throw new IllegalArgumentException("step capture needs an engine made by StepCapture.engine(...), and the"
                    + " objective built on it; this engine's kernels are " + engine.kernels().backendName() + "'s own");
        }
        this.kernels = ck;
        this.notices = requireNonNull(notices, "notices is null");
        this.transform = requireNonNull(transform, "transform is null");
        this.automatic = automatic;
    }

    /**
     * An engine over {@code engine}'s backend whose kernels can record (the same backend, dtype and
     * values; closing it closes nothing). Build the objective on it. An engine that records already is
     * returned as it is.
     */
    public static Engine engine(Engine engine) {
        requireNonNull(engine, "engine is null");
        if (engine.kernels() instanceof CaptureKernels) {
            return engine;
        }
        return Engine.of(new CaptureBackend(engine.backend()), engine.defaultDType());
    }

    /** A capture for objectives built on {@code engine} ({@link #engine}); refusals go to {@code notices}. */
    public static StepCapture on(Engine engine, Consumer<String> notices) {
        return new StepCapture(requireNonNull(engine, "engine is null"), notices, UnaryOperator.identity(), false);
    }

    /**
     * The same, for a capture nobody asked for (a training spec without {@code "capture"}): it captures
     * alike, and its refusal note says that the run is fine, only not sped up.
     */
    public static StepCapture automatic(Engine engine, Consumer<String> notices) {
        return new StepCapture(requireNonNull(engine, "engine is null"), notices, UnaryOperator.identity(), true);
    }

    /**
     * The same, with {@code transform} applied to every program before it is replayed. For tests that
     * check a checker: a transform that breaks the program must make replay differ from eager.
     */
    public static StepCapture on(Engine engine, Consumer<String> notices, UnaryOperator<CapturedProgram> transform) {
        return new StepCapture(requireNonNull(engine, "engine is null"), notices, transform, false);
    }

    /**
     * Runs one step: replays its program when one is ready for these shapes, else runs {@code body}
     * eagerly (recording it while the capture has not refused).
     */
    public Result step(Params params, Params inputs, Body body) {
        requireNonNull(params, "params is null");
        requireNonNull(inputs, "inputs is null");
        if (refusal != null) {
            return body.run(params, inputs);
        }
        Signature signature = Signature.of(params, inputs);
        CapturedProgram program = ready.get(signature);
        if (program != null) {
            return replay(program, params, inputs);
        }
        Tape tape = new Tape(arrays(params), arrays(inputs));
        kernels.arm(tape);
        Result result;
        try {
            result = body.run(params, inputs);
        } finally {
            kernels.disarm();
        }
        traced++;
        if (tape.refusal != null) {
            refuse(tape.refusal);
            return result;
        }
        int[] outputs = new int[1 + result.grads().size()];
        outputs[0] = tape.slot(result.pending().nativeArray());
        for (int i = 0; i < params.size(); i++) {
            outputs[i + 1] = tape.slot(result.grads().get(params.names().get(i)).nativeArray());
        }
        CapturedProgram candidate = new CapturedProgram(tape.slots, tape.calls, outputs, result.names());
        CapturedProgram previous = candidates.put(signature, candidate);
        if (previous != null) {
            String difference = previous.differenceFrom(candidate);
            if (difference == null) {
                candidates.remove(signature);
                mismatches.remove(signature);
                keep(signature, requireNonNull(transform.apply(candidate), "transform returned null"));
            } else if (mismatches.merge(signature, 1, Integer::sum) >= MAX_MISMATCHES) {
                refuse("the step's kernel calls change from step to step (" + difference + "); something in the loss"
                        + " draws random numbers, reads state it updates, or branches on values");
            }
        }
        return result;
    }

    private void keep(Signature signature, CapturedProgram program) {
        if (ready.size() >= MAX_PROGRAMS) {
            Signature oldest = ready.keySet().iterator().next();
            ready.remove(oldest).close();
        }
        ready.put(signature, program);
    }

    private Result replay(CapturedProgram program, Params params, Params inputs) {
        NativeArray[] out = program.replay(kernels.delegate(), arrays(params), arrays(inputs));
        replayed++;
        Tensor pending = engine.wrapUnscoped(out[0]);
        Map<String, Tensor> grads = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            grads.put(params.names().get(i), engine.wrap(out[i + 1]));
        }
        return new Result(pending, program.names(), Params.of(grads));
    }

    private void refuse(String reason) {
        refusal = reason;
        candidates.clear();
        ready.values().forEach(CapturedProgram::close);
        ready.clear();
        if (automatic) {
            notices.accept("note: automatic step capture does not fit this run, so it trains eagerly; nothing is wrong and the"
                    + " numbers are the same, the steps are only not sped up by replay (" + reason + "); \"capture\": false"
                    + " in the spec skips the attempt");
        } else {
            notices.accept("note: step capture is off for this run, training goes on eagerly: " + reason);
        }
    }

    private static List<NativeArray> arrays(Params p) {
        List<NativeArray> out = new ArrayList<>(p.size());
        for (Tensor t : p.values()) {
            out.add(t.nativeArray());
        }
        return out;
    }

    /** Why the capture gave up, or null while it captures. */
    public String refusal() {
        return refusal;
    }

    /** Steps run eagerly while recording. */
    public long tracedSteps() {
        return traced;
    }

    /** Steps replayed. */
    public long replayedSteps() {
        return replayed;
    }

    /** The programs ready for replay, one per shape signature. */
    public List<CapturedProgram> programs() {
        return List.copyOf(ready.values());
    }

    /** Frees the programs' constants. */
    @Override
    public void close() {
        ready.values().forEach(CapturedProgram::close);
        ready.clear();
        candidates.clear();
    }
}
