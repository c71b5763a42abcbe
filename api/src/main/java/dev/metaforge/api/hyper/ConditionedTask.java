package dev.metaforge.api.hyper;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;

/**
 * A family of regression problems indexed by a few scalar conditions in [0, 1] (a loss weight, a
 * task's amplitude and phase): the data a scalar-conditioned hypernetwork is trained on. A batch
 * holds B conditions and N points per condition, ready for one weight-batch call.
 *
 * <pre>{@code
 * ConditionedBatch batch = task.sample(engine, rng, 16, 64);           // context [16, k], inputs [16, 64, in]
 * Tensor loss = batch.loss(target.apply(hyper.generate(h, batch.context()), ordinary, batch.inputs()));
 * }</pre>
 */
public interface ConditionedTask {
    /** Scalars per condition (the context width). */
    int conditions();

    int inputSize();

    int outputSize();

    /** A training batch of {@code contexts} conditions × {@code points} inputs, drawn from {@code rng}. */
    ConditionedBatch sample(Engine engine, RandomStream rng, int contexts, int points);

    /** The fixed held-out grid the metrics are reported on. */
    ConditionedBatch evaluation(Engine engine);

    /**
     * True when every batch's loss is the mean over its conditions of per-condition terms (each a
     * mean over the same number of points) and {@link ConditionedBatch#slice} is implemented, so a
     * batch can be split over machines. False by default.
     */
    default boolean splitsOverContexts() {
        return false;
    }

    /**
     * Checks conditions a task made on the host, before they are uploaded: every value in [0, 1] (the contract
     * above, which MIP's encoding relies on without reading the context back). An error names the task, the
     * value and its position.
     */
    static void checkConditions(String task, double[] conditions) {
        for (int i = 0; i < conditions.length; i++) {
            if (!(conditions[i] >= 0.0 && conditions[i] <= 1.0)) {
                throw new IllegalArgumentException("task '" + task + "': condition " + conditions[i] + " at position " + i
                        + " is outside [0, 1]; conditions are scalars in [0, 1] (rescale, e.g. (value - min) / (max - min))");
            }
        }
    }

    /**
     * What the training loss and the evaluation metrics of this task measure, keyed as
     * {@link dev.metaforge.api.train.Objective#metricDescriptions()} keys them ({@code "training loss"},
     * {@code "eval NAME"}). Default: none.
     */
    default java.util.Map<String, String> metricDescriptions() {
        return java.util.Map.of();
    }
}
