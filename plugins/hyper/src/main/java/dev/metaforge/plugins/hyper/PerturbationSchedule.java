package dev.metaforge.plugins.hyper;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.spec.Range;

/**
 * HyperInterval's schedule of the embedding interval radius ε over each task's training
 * (Krukowski et al. 2024, as their training loop does it): over the first {@code warmup} fraction
 * of a task's N steps, A = ⌊N·warmup⌋ steps, ε grows linearly from 0 to its final value,
 * {@code ε(i) = ε · i / (A − 1)} for step i &lt; A of the task, then stays at ε. Their default is
 * the first half (warmup 0.5). With warmup 0, or A ≤ 1, ε is constant.
 *
 * <p>JSON: a number is the old constant form ({@code "perturbation": 1.0}); an object gives the
 * schedule ({@code "perturbation": {"epsilon": 1.0, "warmup": 0.5}}, warmup defaulting to 0.5).
 * The value at a step is a function of the step number alone, computed on the host from the
 * step counter: no device value is read back.
 *
 * @param epsilon the final ε (≥ 0)
 * @param warmup  the fraction of each task's steps over which ε grows, in [0, 1]
 */
public record PerturbationSchedule(@Range(min = 0, max = 1e6, what = "final interval radius") Double epsilon,
                                   @Range(min = 0, max = 1, what = "warm-up fraction of each task") Double warmup) {
    /** The paper's warm-up: the first half of each task. */
    public static final double PAPER_WARMUP = 0.5;

    public PerturbationSchedule {
        if (epsilon == null) {
            throw new IllegalArgumentException("spec 'hyperinterval': field 'perturbation' needs 'epsilon' (the final radius ε)");
        }
        warmup = warmup == null ? PAPER_WARMUP : warmup;
        if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
            throw new IllegalArgumentException("spec 'hyperinterval': field 'perturbation.epsilon' must be a finite number >= 0, got "
                    + epsilon);
        }
        if (!(warmup >= 0 && warmup <= 1)) {
            throw new IllegalArgumentException("spec 'hyperinterval': field 'perturbation.warmup' must be in [0, 1] (a fraction of each"
                    + " task's steps), got " + warmup);
        }
    }

    /** The old constant form: ε at every step. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static PerturbationSchedule constant(double epsilon) {
        return new PerturbationSchedule(epsilon, 0.0);
    }

    /** The object form. */
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    static PerturbationSchedule fromJson(@JsonProperty("epsilon") Double epsilon, @JsonProperty("warmup") Double warmup) {
        return new PerturbationSchedule(epsilon, warmup);
    }

    /** ε at step {@code stepInTask} (0-based) of a task trained for {@code stepsPerTask} steps. */
    public double at(long stepInTask, long stepsPerTask) {
        long rampSteps = (long) Math.floor(stepsPerTask * warmup);
        if (rampSteps <= 1 || stepInTask >= rampSteps) {
            return epsilon;
        }
        return epsilon * stepInTask / (rampSteps - 1);
    }
}
