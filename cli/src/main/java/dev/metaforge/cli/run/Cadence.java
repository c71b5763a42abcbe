package dev.metaforge.cli.run;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.train.TrainSpec;
import java.util.Optional;

/**
 * How often a run logs and evaluates when {@code --steps} changes its length: a spec's
 * {@code logEvery}/{@code evalEvery} suit its own {@code steps}, but {@code --steps 500} with
 * {@code logEvery: 100} would leave a plot of five points. When the spec's cadence would give fewer
 * than {@value #MIN_POINTS} points over the new length, it is shortened to give about that many.
 * An {@code evalEvery} of 0 (evaluate only at the end) is kept. The schedules are not part of the
 * run's trajectory ({@link TrainSpec#trajectoryHash}), so results do not change, only how often they
 * are recorded.
 */
public final class Cadence {
    /** Points a curve should have at least. */
    public static final int MIN_POINTS = 20;

    private Cadence() {
    }

    /**
     * The spec with {@code steps} steps and, if needed, a denser cadence.
     *
     * @return the new spec and, when the cadence changed, a sentence saying so
     */
    public static Rescaled withSteps(TrainSpec spec, int steps) {
        requireNonNull(spec, "spec is null");
        TrainSpec longer = spec.withSteps(steps);
        int logEvery = denser(spec.logEvery(), steps);
        int evalEvery = spec.evalEvery() == 0 ? 0 : denser(spec.evalEvery(), steps);
        if (logEvery == spec.logEvery() && evalEvery == spec.evalEvery()) {
            return new Rescaled(longer, Optional.empty());
        }
        StringBuilder note = new StringBuilder("--steps ").append(steps).append(": ");
        if (logEvery != spec.logEvery()) {
            note.append("logging every ").append(logEvery).append(" steps instead of ").append(spec.logEvery());
        }
        if (evalEvery != spec.evalEvery()) {
            note.append(logEvery != spec.logEvery() ? ", " : "").append("evaluating every ").append(evalEvery)
                    .append(" steps instead of ").append(spec.evalEvery());
        }
        note.append(" (the spec's cadence would give fewer than ").append(MIN_POINTS).append(" points)");
        return new Rescaled(longer.withSchedule(logEvery, evalEvery, spec.checkpointEvery()), Optional.of(note.toString()));
    }

    private static int denser(int every, int steps) {
        if (steps / every >= MIN_POINTS) {
            return every;
        }
        return Math.max(1, Math.min(every, steps / MIN_POINTS));
    }

    /**
     * @param spec the spec to run
     * @param note what changed, when the cadence did
     */
    public record Rescaled(TrainSpec spec, Optional<String> note) {
        public Rescaled {
            requireNonNull(spec, "spec is null");
            requireNonNull(note, "note is null");
        }
    }
}
