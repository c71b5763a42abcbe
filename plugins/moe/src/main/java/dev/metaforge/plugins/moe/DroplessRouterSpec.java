package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RouterSpec;

/**
 * {@code {"type": "dropless", "k": 2, "normalize": true, "balanceWeight": 0.01, "zLossWeight": 0}}:
 * softmax top-k with no capacity: every assignment is computed (MegaBlocks, Gale et al. 2022). The
 * layer sorts assignments by expert and runs padded blocks of one expert each as one batched call
 * ({@link dev.metaforge.api.moe.MixtureOfExperts}); its output equals the dense masked computation
 * {@code Σ_j g_j · expert_{e_j}(x)} exactly (TCK rule MOE-DROPLESS-1).
 *
 * @param k             experts per token (default 2)
 * @param normalize     renormalise the k gates (default true)
 * @param balanceWeight α of the load-balancing loss (default 0.01)
 * @param zLossWeight   β of the router z-loss (default 0)
 */
public record DroplessRouterSpec(
        @Range(min = 1, max = 4096, what = "experts per token") int k,
        boolean normalize,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "balance-loss weight") double balanceWeight,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "router z-loss weight") double zLossWeight) implements RouterSpec {
    public DroplessRouterSpec {
        Fields.positive(k, "k");
        Fields.nonNegative(balanceWeight, "balanceWeight");
        Fields.nonNegative(zLossWeight, "zLossWeight");
    }

    @JsonCreator
    static DroplessRouterSpec fromJson(@JsonProperty("k") Integer k, @JsonProperty("normalize") Boolean normalize,
                                       @JsonProperty("balanceWeight") Double balanceWeight,
                                       @JsonProperty("zLossWeight") Double zLossWeight) {
        return new DroplessRouterSpec(Fields.orDefault(k, 2), Fields.orDefault(normalize, true),
                Fields.orDefault(balanceWeight, 0.01), Fields.orDefault(zLossWeight, 0.0));
    }

    @Override
    public Router build(int width, int experts) {
        return new SoftmaxTopKRouter(width, experts, k, normalize, 0, balanceWeight, zLossWeight, "dropless");
    }
}
