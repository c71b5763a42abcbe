package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RouterSpec;

/**
 * {@code {"type": "aux-free", "k": 2, "updateRate": 0.001}}: DeepSeek-V3's auxiliary-loss-free
 * balancing, a selection-only bias kept as module state and moved by the sign of the load error
 * ({@link AuxFreeRouter}).
 *
 * @param k              experts per token (default 2)
 * @param updateRate     u, the bias step per training call (default 0.001, DeepSeek-V3's)
 * @param capacityFactor absent (default): no capacity
 * @param balanceWeight  α of an optional complementary load-balancing loss (default 0)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AuxFreeRouterSpec(
        @Range(min = 1, max = 4096, what = "experts per token") int k,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "bias update rate") double updateRate,
        @Range(min = 0, max = 4096, minExclusive = true, what = "capacity factor") Double capacityFactor,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "balance-loss weight") double balanceWeight) implements RouterSpec {
    public AuxFreeRouterSpec {
        Fields.positive(k, "k");
        Fields.nonNegative(updateRate, "updateRate");
        Fields.capacityFactor(capacityFactor);
        Fields.nonNegative(balanceWeight, "balanceWeight");
    }

    @JsonCreator
    static AuxFreeRouterSpec fromJson(@JsonProperty("k") Integer k, @JsonProperty("updateRate") Double updateRate,
                                      @JsonProperty("capacityFactor") Double capacityFactor,
                                      @JsonProperty("balanceWeight") Double balanceWeight) {
        return new AuxFreeRouterSpec(Fields.orDefault(k, 2), Fields.orDefault(updateRate, 0.001), capacityFactor,
                Fields.orDefault(balanceWeight, 0.0));
    }

    @Override
    public Router build(int width, int experts) {
        return new AuxFreeRouter(width, experts, k, updateRate, capacityFactor == null ? 0 : capacityFactor, balanceWeight);
    }
}
