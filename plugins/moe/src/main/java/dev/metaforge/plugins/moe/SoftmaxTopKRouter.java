package dev.metaforge.plugins.moe;

import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.Routing;
import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.tensor.TopKResult;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Softmax top-k gating: {@code p = softmax(x W)}, each token goes to its k most probable experts
 * with gate values {@code p} there (renormalised to sum to 1 when {@code normalize}). With a capacity
 * factor, each expert takes at most {@code ceil(factor · N · k / E)} assignments and the rest are
 * dropped (GShard priority: all first choices before second choices); without one nothing is
 * dropped (dropless, MegaBlocks-style grouped dispatch).
 *
 * <p>This one class serves three JSON types: {@code topk}, {@code switch} (Fedus et al. 2021: k = 1,
 * gate = the top probability, not renormalised, capacity factor 1.25, load-balancing loss
 * α·E·Σ fᵢPᵢ) and {@code dropless}. The load-balancing loss equals α exactly when routing is
 * balanced and the z-loss equals β(ln E)² for all-zero logits (TCK rules MOE-AUX-1 and MOE-AUX-2;
 * {@code RouterTest} in this module).
 *
 * @param width          d
 * @param experts        E
 * @param k              experts per token, 1..E
 * @param normalize      renormalise the k gate values to sum to 1
 * @param capacityFactor > 0, or 0 for no capacity (dropless)
 * @param balanceWeight  α of the load-balancing loss (0: none)
 * @param zLossWeight    β of the router z-loss (0: none)
 * @param kind           the JSON type name it was built from ("topk", "switch", "dropless")
 */
record SoftmaxTopKRouter(int width, int experts, int k, boolean normalize, double capacityFactor, double balanceWeight,
                         double zLossWeight, String kind) implements Router {
    SoftmaxTopKRouter {
        Fields.positive(width, "width");
        Fields.positive(experts, "experts");
        Fields.kWithin(k, experts);
        Fields.nonNegative(capacityFactor, "capacityFactor");
        Fields.nonNegative(balanceWeight, "balanceWeight");
        Fields.nonNegative(zLossWeight, "zLossWeight");
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(gateSpec(width, experts));
    }

    /** The gate weight [d, E] with PyTorch's Linear initialisation. */
    static ParamSpec gateSpec(int width, int experts) {
        return new ParamSpec("weight", Shape.of(width, experts), ParamKind.WEIGHT, width, experts, Initializer.torchDefault());
    }

    @Override
    public Map<String, String> attributes() {
        Map<String, String> a = new LinkedHashMap<>(Router.super.attributes());
        a.put("normalize", Boolean.toString(normalize));
        a.put("capacityFactor", capacityFactor == 0 ? "none" : Double.toString(capacityFactor));
        return a;
    }

    @Override
    public RoutingPlan route(Params params, Tensor tokens, ModuleCall call) {
        Tensor logits = Routing.logits(tokens, params.get("weight"));
        Tensor probabilities = logits.softmax(-1);
        TopKResult top = Routing.topK(probabilities, k);
        // Renormalised with k = 1 the gate is exactly 1 and the router learns from its auxiliary losses only.
        Tensor gates = normalize ? top.values().div(top.values().sum(-1, true)) : top.values();
        int n = tokens.dim(0);
        int capacity = capacityFactor > 0 ? Routing.capacity(capacityFactor, n, k, experts) : 0;
        RoutingPlan plan = Routing.tokenChoice(probabilities, top.indices(), gates, capacity, Map.of(), Map.of(), call.state());
        if (balanceWeight > 0) {
            plan = plan.withLoss(Routing.BALANCE_LOSS, Routing.loadBalancingLoss(probabilities, plan.load(), balanceWeight));
        }
        if (zLossWeight > 0) {
            plan = plan.withLoss(Routing.Z_LOSS, Routing.zLoss(logits, zLossWeight));
        }
        return plan;
    }
}
