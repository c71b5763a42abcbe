package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.optim.OptimizerSpec;
import dev.metaforge.api.optim.Sgd;
import dev.metaforge.api.spec.Range;

/**
 * {@code {"type": "sgd", "learningRate": 0.1, "momentum": 0.9, "weightDecay": 0}}: SGD as in
 * {@code torch.optim.SGD}.
 *
 * @param learningRate required, > 0
 * @param momentum     default 0
 * @param weightDecay  default 0 (L2, added to the gradient)
 */
public record SgdSpec(
        @Range(min = 0, max = 1000, minExclusive = true, what = "learning rate") double learningRate,
        @Range(min = 0, max = 1, maxExclusive = true, what = "momentum") double momentum,
        @Range(min = 0, max = 1000, what = "weight decay") double weightDecay) implements OptimizerSpec {
    public SgdSpec {
        Fields.positive(learningRate, "learningRate");
        Fields.nonNegative(momentum, "momentum");
        Fields.nonNegative(weightDecay, "weightDecay");
    }

    @JsonCreator
    static SgdSpec fromJson(@JsonProperty("learningRate") Double learningRate, @JsonProperty("momentum") Double momentum,
                            @JsonProperty("weightDecay") Double weightDecay) {
        return new SgdSpec(Fields.required(learningRate, "learningRate", "the step size, e.g. 0.1"),
                Fields.orDefault(momentum, 0.0), Fields.orDefault(weightDecay, 0.0));
    }

    @Override
    public Optimizer build() {
        return new Sgd(learningRate, momentum, weightDecay);
    }
}
