package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.ConditionedTask;
import dev.metaforge.api.hyper.ConditionedTaskSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * {@code "loss-weighting"}: {@link LossWeightingTask}, MIP's toy problem.
 *
 * <pre>{@code {"type": "loss-weighting", "evaluationConditions": 11, "evaluationPoints": 128}}</pre>
 *
 * @param evaluationConditions values of γ on the evaluation grid (default 11)
 * @param evaluationPoints     values of x on the evaluation grid (default 128)
 */
public record LossWeightingTaskSpec(
        @Range(min = 2, max = 4096, what = "evaluation conditions") Integer evaluationConditions,
        @Range(min = 2, max = Limits.MAX_BATCH, what = "evaluation points") Integer evaluationPoints) implements ConditionedTaskSpec {
    public LossWeightingTaskSpec {
        evaluationConditions = evaluationConditions == null ? 11 : evaluationConditions;
        evaluationPoints = evaluationPoints == null ? 128 : evaluationPoints;
    }

    @Override
    public ConditionedTask build() {
        return new LossWeightingTask(evaluationConditions, evaluationPoints);
    }
}
