package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.optim.OptimizerSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.spi.DType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A training run as JSON, read strictly by {@link SpecRegistry}:
 *
 * <pre>{@code
 * {
 *   "experiment": {"type": "regression", ...},       // required: what is trained, builds the Objective
 *   "optimizer": {"type": "adam", "learningRate": 0.01},  // required
 *   "steps": 2000,                                    // required, > 0
 *   "seed": 0,                                        // default 0
 *   "dtype": "float32",                               // "float32" (default) or "float64"
 *   "logEvery": 100,                                  // default 100: metrics line and progress every N steps
 *   "evalEvery": 0,                                   // default 0: evaluate only at the end; N: also every N steps
 *   "checkpointEvery": 0,                             // default 0: checkpoint only at the end; N: also every N steps
 *   "capture": true                                   // default absent (automatic): see below
 * }
 * }</pre>
 *
 * @param experiment      what is trained
 * @param optimizer       how parameters are updated
 * @param steps           number of training steps
 * @param seed            every random draw of the run follows from it
 * @param dtype           "float32" or "float64": the engine's default dtype for the run
 * @param logEvery        steps between metrics lines
 * @param evalEvery       steps between evaluations (0: only at the end)
 * @param checkpointEvery steps between checkpoints (0: only at the end)
 * @param capture         step capture: trace one training step and replay it for later steps with the
 *                        same shapes ({@link dev.metaforge.api.capture.StepCapture}). {@code null} (absent
 *                        in JSON, the default): automatic, {@link Trainer} captures when the experiment's
 *                        objective can be captured ({@link CapturableObjective}, no training cluster) and
 *                        trains eagerly otherwise; {@code true}: required, an objective that cannot be
 *                        captured is a spec error at {@code $.capture}; {@code false}: always eager. The
 *                        values are those of eager training bit for bit, so it is not part of
 *                        {@link #trajectoryHash} (a checkpoint resumes in any mode)
 */
public record TrainSpec(ExperimentSpec experiment, OptimizerSpec optimizer,
                        @Range(min = 1, max = Limits.MAX_STEPS, what = "number of training steps") int steps,
                        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed (an integer)") long seed,
                        String dtype,
                        @Range(min = 1, max = Limits.MAX_STEPS, what = "steps between metrics lines") int logEvery,
                        @Range(min = 0, max = Limits.MAX_STEPS, what = "steps between evaluations (0: only at the end)") int evalEvery,
                        @Range(min = 0, max = Limits.MAX_STEPS, what = "steps between checkpoints (0: only at the end)") int checkpointEvery,
                        @JsonInclude(JsonInclude.Include.NON_NULL) Boolean capture) {
    /** Default of {@code logEvery}. */
    public static final int DEFAULT_LOG_EVERY = 100;

    public TrainSpec {
        if (experiment == null) {
            throw new IllegalArgumentException("field 'experiment' is required: the model and task to train, e.g. {\"type\": \"regression\", ...}");
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("field 'optimizer' is required, e.g. {\"type\": \"adam\", \"learningRate\": 0.001}");
        }
        if (steps <= 0) {
            throw new IllegalArgumentException("field 'steps' must be a positive number of training steps, got " + steps);
        }
        requireNonNull(dtype, "dtype is null");
        String normalized = dtype.trim().toLowerCase(Locale.ROOT);
        if (!normalized.equals("float32") && !normalized.equals("float64")) {
            throw new IllegalArgumentException("field 'dtype' must be \"float32\" or \"float64\", got \"" + dtype + "\"");
        }
        dtype = normalized;
        if (logEvery <= 0) {
            throw new IllegalArgumentException("field 'logEvery' must be > 0, got " + logEvery);
        }
        if (evalEvery < 0) {
            throw new IllegalArgumentException("field 'evalEvery' must be >= 0 (0: evaluate only at the end), got " + evalEvery);
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("field 'checkpointEvery' must be >= 0 (0: checkpoint only at the end), got " + checkpointEvery);
        }
    }

    /** A spec without {@code capture}: step capture is automatic ({@code capture} is null). */
    public TrainSpec(ExperimentSpec experiment, OptimizerSpec optimizer, int steps, long seed, String dtype, int logEvery,
                     int evalEvery, int checkpointEvery) {
        this(experiment, optimizer, steps, seed, dtype, logEvery, evalEvery, checkpointEvery, null);
    }

    /** The JSON creator: absent optional fields take their defaults; absent required ones are errors naming them. */
    @JsonCreator
    static TrainSpec fromJson(@JsonProperty("experiment") ExperimentSpec experiment,
                              @JsonProperty("optimizer") OptimizerSpec optimizer,
                              @JsonProperty("steps") Integer steps,
                              @JsonProperty("seed") Long seed,
                              @JsonProperty("dtype") String dtype,
                              @JsonProperty("logEvery") Integer logEvery,
                              @JsonProperty("evalEvery") Integer evalEvery,
                              @JsonProperty("checkpointEvery") Integer checkpointEvery,
                              @JsonProperty("capture") Boolean capture) {
        if (steps == null) {
            throw new IllegalArgumentException("field 'steps' is required: the number of training steps");
        }
        return new TrainSpec(experiment, optimizer, steps, seed == null ? 0L : seed, dtype == null ? "float32" : dtype,
                logEvery == null ? DEFAULT_LOG_EVERY : logEvery, evalEvery == null ? 0 : evalEvery,
                checkpointEvery == null ? 0 : checkpointEvery, capture);
    }

    /** A spec with defaults for everything but the experiment, optimizer and steps. */
    public static TrainSpec of(ExperimentSpec experiment, OptimizerSpec optimizer, int steps) {
        return new TrainSpec(experiment, optimizer, steps, 0L, "float32", DEFAULT_LOG_EVERY, 0, 0);
    }

    /** The engine dtype of the run. */
    public DType engineDType() {
        return dtype.equals("float64") ? DType.FLOAT64 : DType.FLOAT32;
    }

    public TrainSpec withSteps(int newSteps) {
        return new TrainSpec(experiment, optimizer, newSteps, seed, dtype, logEvery, evalEvery, checkpointEvery, capture);
    }

    public TrainSpec withSeed(long newSeed) {
        return new TrainSpec(experiment, optimizer, steps, newSeed, dtype, logEvery, evalEvery, checkpointEvery, capture);
    }

    public TrainSpec withDtype(String newDtype) {
        return new TrainSpec(experiment, optimizer, steps, seed, newDtype, logEvery, evalEvery, checkpointEvery, capture);
    }

    /** The same run with another logging, evaluation and checkpoint schedule. */
    public TrainSpec withSchedule(int newLogEvery, int newEvalEvery, int newCheckpointEvery) {
        return new TrainSpec(experiment, optimizer, steps, seed, dtype, newLogEvery, newEvalEvery, newCheckpointEvery, capture);
    }

    /** The same run with step capture required ({@code true}), off ({@code false}) or automatic ({@code null}). */
    public TrainSpec withCapture(Boolean mode) {
        return new TrainSpec(experiment, optimizer, steps, seed, dtype, logEvery, evalEvery, checkpointEvery, mode);
    }

    /** Whether the spec requires step capture ({@code "capture": true}): an objective that cannot be captured is a spec error. */
    public boolean captureRequired() {
        return Boolean.TRUE.equals(capture);
    }

    /** Whether step capture may run: {@code "capture"} is absent (automatic) or true; false for {@code "capture": false}. */
    public boolean captureAllowed() {
        return !Boolean.FALSE.equals(capture);
    }

    /**
     * SHA-256 (hex) of what determines the run's trajectory: experiment, optimizer, seed and dtype.
     * Steps and the schedules are left out, so a run can be resumed with more steps.
     */
    public String trajectoryHash(SpecRegistry specs) {
        requireNonNull(specs, "specs is null");
        String canonical = specs.write(new TrainSpec(experiment, optimizer, 1, seed, dtype, 1, 0, 0));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
