package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RouterSpec;

/**
 * {@code {"type": "expert-choice", "capacityFactor": 2, "zLossWeight": 0}}: each expert picks its
 * {@code ceil(c · N / E)} best tokens (Zhou et al. 2022; {@link ExpertChoiceRouter}).
 *
 * @param capacityFactor c, the average number of experts per token (default 2, the paper's)
 * @param zLossWeight    β of the router z-loss (default 0)
 */
public record ExpertChoiceRouterSpec(
        @Range(min = 0, max = 4096, minExclusive = true, what = "capacity factor") double capacityFactor,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "router z-loss weight") double zLossWeight) implements RouterSpec {
    public ExpertChoiceRouterSpec {
        Fields.positive(capacityFactor, "capacityFactor");
        Fields.nonNegative(zLossWeight, "zLossWeight");
    }

    @JsonCreator
    static ExpertChoiceRouterSpec fromJson(@JsonProperty("capacityFactor") Double capacityFactor,
                                           @JsonProperty("zLossWeight") Double zLossWeight) {
        return new ExpertChoiceRouterSpec(Fields.orDefault(capacityFactor, 2.0), Fields.orDefault(zLossWeight, 0.0));
    }

    @Override
    public Router build(int width, int experts) {
        if (capacityFactor > experts) {
            throw new IllegalArgumentException("field 'capacityFactor' is " + capacityFactor + " but there are only " + experts
                    + " experts: each token can be taken by at most every expert once, so c must be <= experts");
        }
        return new ExpertChoiceRouter(width, experts, capacityFactor, zLossWeight);
    }
}
