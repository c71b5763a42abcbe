package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.optim.OptimizerSpec;
import dev.metaforge.api.spec.Range;

/**
 * {@code {"type": "adamw", "learningRate": 0.001, "weightDecay": 0.01, ...}}: AdamW as in
 * {@code torch.optim.AdamW} (decoupled weight decay: {@code p *= 1 - lr * weightDecay} before the Adam step).
 *
 * @param learningRate required, > 0
 * @param beta1        default 0.9
 * @param beta2        default 0.999
 * @param epsilon      default 1e-8
 * @param weightDecay  default 0.01 (PyTorch's)
 */
public record AdamWSpec(
        @Range(min = 0, max = 1000, minExclusive = true, what = "learning rate") double learningRate,
        @Range(min = 0, max = 1, maxExclusive = true, what = "first-moment decay") double beta1,
        @Range(min = 0, max = 1, maxExclusive = true, what = "second-moment decay") double beta2,
        @Range(min = 0, max = 1, what = "epsilon") double epsilon,
        @Range(min = 0, max = 1000, what = "weight decay") double weightDecay) implements OptimizerSpec {
    public AdamWSpec {
        Fields.positive(learningRate, "learningRate");
        Fields.inUnitInterval(beta1, "beta1");
        Fields.inUnitInterval(beta2, "beta2");
        Fields.nonNegative(epsilon, "epsilon");
        Fields.nonNegative(weightDecay, "weightDecay");
    }

    @JsonCreator
    static AdamWSpec fromJson(@JsonProperty("learningRate") Double learningRate, @JsonProperty("beta1") Double beta1,
                              @JsonProperty("beta2") Double beta2, @JsonProperty("epsilon") Double epsilon,
                              @JsonProperty("weightDecay") Double weightDecay) {
        return new AdamWSpec(Fields.required(learningRate, "learningRate", "the step size, e.g. 0.001"),
                Fields.orDefault(beta1, 0.9), Fields.orDefault(beta2, 0.999), Fields.orDefault(epsilon, 1e-8),
                Fields.orDefault(weightDecay, 0.01));
    }

    @Override
    public Optimizer build() {
        return new Adam(learningRate, beta1, beta2, epsilon, weightDecay, true);
    }
}
