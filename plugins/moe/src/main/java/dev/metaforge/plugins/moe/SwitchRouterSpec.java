package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RouterSpec;

/**
 * {@code {"type": "switch", "capacityFactor": 1.25, "balanceWeight": 0.01, "zLossWeight": 0.001}}:
 * Switch Transformer routing (Fedus et al. 2021): top-1, the gate is the chosen expert's softmax
 * probability, each expert holds {@code ceil(capacityFactor · N / E)} tokens and overflowing tokens
 * are dropped (they contribute 0; in a residual block they pass through unchanged), with the
 * load-balancing loss {@code α · E · Σ fᵢ · Pᵢ} and the ST-MoE router z-loss
 * {@code β · mean(logsumexp(logits)²)}.
 *
 * @param capacityFactor > 0 (default 1.25, the paper's training setting)
 * @param balanceWeight  α (default 0.01, the paper's)
 * @param zLossWeight    β (default 0.001, ST-MoE's)
 */
public record SwitchRouterSpec(
        @Range(min = 0, max = 4096, minExclusive = true, what = "capacity factor") double capacityFactor,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "balance-loss weight") double balanceWeight,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "router z-loss weight") double zLossWeight) implements RouterSpec {
    public SwitchRouterSpec {
        Fields.positive(capacityFactor, "capacityFactor");
        Fields.nonNegative(balanceWeight, "balanceWeight");
        Fields.nonNegative(zLossWeight, "zLossWeight");
    }

    @JsonCreator
    static SwitchRouterSpec fromJson(@JsonProperty("capacityFactor") Double capacityFactor,
                                     @JsonProperty("balanceWeight") Double balanceWeight,
                                     @JsonProperty("zLossWeight") Double zLossWeight) {
        return new SwitchRouterSpec(Fields.orDefault(capacityFactor, 1.25), Fields.orDefault(balanceWeight, 0.01),
                Fields.orDefault(zLossWeight, 0.001));
    }

    @Override
    public Router build(int width, int experts) {
        return new SoftmaxTopKRouter(width, experts, 1, false, capacityFactor, balanceWeight, zLossWeight, "switch");
    }
}
