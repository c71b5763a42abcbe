package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RouterSpec;

/**
 * {@code {"type": "topk", "k": 2, "normalize": true, "capacityFactor": 1.25, "balanceWeight": 0.01, "zLossWeight": 0}}:
 * softmax top-k gating ({@link SoftmaxTopKRouter}).
 *
 * @param k              experts per token (default 2), at most the layer's experts
 * @param normalize      renormalise the k gates to sum to 1 (default true)
 * @param capacityFactor slots per expert as a multiple of the balanced share N·k/E; absent: no
 *                       capacity (dropless)
 * @param balanceWeight  α of the load-balancing loss (default 0.01)
 * @param zLossWeight    β of the router z-loss (default 0)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TopKRouterSpec(
        @Range(min = 1, max = 4096, what = "experts per token") int k,
        boolean normalize,
        @Range(min = 0, max = 4096, minExclusive = true, what = "capacity factor") Double capacityFactor,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "balance-loss weight") double balanceWeight,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "router z-loss weight") double zLossWeight)
        implements RouterSpec {
    public TopKRouterSpec {
        Fields.positive(k, "k");
        Fields.capacityFactor(capacityFactor);
        Fields.nonNegative(balanceWeight, "balanceWeight");
        Fields.nonNegative(zLossWeight, "zLossWeight");
    }

    @JsonCreator
    static TopKRouterSpec fromJson(@JsonProperty("k") Integer k, @JsonProperty("normalize") Boolean normalize,
                                   @JsonProperty("capacityFactor") Double capacityFactor,
                                   @JsonProperty("balanceWeight") Double balanceWeight,
                                   @JsonProperty("zLossWeight") Double zLossWeight) {
        return new TopKRouterSpec(Fields.orDefault(k, 2), Fields.orDefault(normalize, true), capacityFactor,
                Fields.orDefault(balanceWeight, 0.01), Fields.orDefault(zLossWeight, 0.0));
    }

    @Override
    public Router build(int width, int experts) {
        return new SoftmaxTopKRouter(width, experts, k, normalize, capacityFactor == null ? 0 : capacityFactor,
                balanceWeight, zLossWeight, "topk");
    }
}
