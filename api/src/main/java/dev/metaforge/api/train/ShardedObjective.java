package dev.metaforge.api.train;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Params;

/**
 * An {@link Objective} whose step loss is a sum over independent units of the step's batch (the
 * tasks of a meta-batch, the examples of a minibatch), so its gradient can be computed in shards,
 * on separate machines, and summed: data parallelism that gives the single-process gradient, up to
 * the order of floating-point additions.
 *
 * <p>The contract, for every step, parameters and partition of {@code [0, shardUnits(step))}
 * into ranges {@code [from, to)}, each shard called with its own fresh copy of the step's random
 * stream (the one {@link #lossTerms} receives, {@code TrainingLoop.stepRandom(seed, step)}):
 * <ul>
 *   <li>the gradients of {@link #shardLossTerms} over the shards sum to the gradient of
 *       {@code lossTerms(params, step, rng).total()} (exactly, in real arithmetic);</li>
 *   <li>the shard loss values sum to the step's loss value, unless {@link #combinedLoss} says
 *       otherwise; named parts sum the same way;</li>
 *   <li>the whole range {@code [0, shardUnits(step))} gives {@link #lossTerms} itself, bit for bit;</li>
 *   <li>the objective is stateless between steps ({@link #beforeStep} does nothing and
 *       {@link #state} is empty): a shard runs on a fresh copy built from the spec.</li>
 * </ul>
 * A shard draws the step's randomness exactly as the whole step does (the same batch) and keeps
 * its own units, so a unit's data depends only on (seed, step, unit index).
 *
 * <pre>{@code
 * // two shards give the gradient of one step
 * Params a = Grad.of(objective.shardLossTerms(p, step, TrainingLoop.stepRandom(seed, step), 0, 50).total()).wrt(p);
 * Params b = Grad.of(objective.shardLossTerms(p, step, TrainingLoop.stepRandom(seed, step), 50, 100).total()).wrt(p);
 * }</pre>
 */
public interface ShardedObjective extends Objective {
    /** The number of independent units (tasks, examples) in step {@code step}'s batch. */
    int shardUnits(long step);

    /** What a unit is, for messages: "tasks", "examples". */
    String unitName();

    /**
     * True when this objective can actually be split (e.g. a meta-objective whose learner says
     * how its meta-loss splits over tasks); when false, only the whole range is accepted.
     */
    default boolean shardable() {
        return true;
    }

    /**
     * The loss of units {@code [from, to)} of step {@code step}, scaled so that the shards of a
     * partition sum to the step's loss (see the class contract); {@code params} are tracked.
     *
     * @throws IllegalArgumentException when the range is empty or outside {@code [0, shardUnits(step))}
     */
    LossTerms shardLossTerms(Params params, long step, RandomStream rng, int from, int to);

    /**
     * The step's loss value from the sum of the shard loss values and the summed gradient, when
     * the step was split into two or more shards. Default: the sum (losses that are sums or means
     * over units); an objective whose loss is not linear in its units (Reptile's surrogate)
     * recovers it from the gradient.
     */
    default double combinedLoss(double shardLossSum, Params gradient) {
        return shardLossSum;
    }

    /** Checks a shard range against the step's unit count. */
    static void checkRange(ShardedObjective objective, long step, int from, int to) {
        int units = objective.shardUnits(step);
        if (from < 0 || to > units || from >= to) {
            throw new IllegalArgumentException("shard [" + from + ", " + to + ") is not a non-empty range of the step's "
                    + units + " " + objective.unitName());
        }
    }
}
