package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RouterSpec;

/**
 * {@code {"type": "noisy-topk", "k": 2, "importanceWeight": 0.1, "loadWeight": 0.1, "noiseEpsilon": 0.01}}:
 * noisy top-k gating with importance and load losses (Shazeer et al. 2017; {@link NoisyTopKRouter}).
 *
 * @param k                experts per token (default 2)
 * @param capacityFactor   absent (default): no capacity
 * @param importanceWeight w_importance (default 0.1)
 * @param loadWeight       w_load (default 0.1)
 * @param noiseEpsilon     added to the noise scale (default 0.01)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NoisyTopKRouterSpec(
        @Range(min = 1, max = 4096, what = "experts per token") int k,
        @Range(min = 0, max = 4096, minExclusive = true, what = "capacity factor") Double capacityFactor,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "importance-loss weight") double importanceWeight,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "load-loss weight") double loadWeight,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "noise floor") double noiseEpsilon) implements RouterSpec {
    public NoisyTopKRouterSpec {
        Fields.positive(k, "k");
        Fields.capacityFactor(capacityFactor);
        Fields.nonNegative(importanceWeight, "importanceWeight");
        Fields.nonNegative(loadWeight, "loadWeight");
        Fields.nonNegative(noiseEpsilon, "noiseEpsilon");
    }

    @JsonCreator
    static NoisyTopKRouterSpec fromJson(@JsonProperty("k") Integer k, @JsonProperty("capacityFactor") Double capacityFactor,
                                        @JsonProperty("importanceWeight") Double importanceWeight,
                                        @JsonProperty("loadWeight") Double loadWeight,
                                        @JsonProperty("noiseEpsilon") Double noiseEpsilon) {
        return new NoisyTopKRouterSpec(Fields.orDefault(k, 2), capacityFactor, Fields.orDefault(importanceWeight, 0.1),
                Fields.orDefault(loadWeight, 0.1), Fields.orDefault(noiseEpsilon, 0.01));
    }

    @Override
    public Router build(int width, int experts) {
        return new NoisyTopKRouter(width, experts, k, capacityFactor == null ? 0 : capacityFactor, importanceWeight,
                loadWeight, noiseEpsilon);
    }
}
