package dev.metaforge.plugins.moe;

import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.Routing;
import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Auxiliary-loss-free load balancing (Wang et al. 2024; DeepSeek-V3, section 2.1.2): affinities
 * {@code s = sigmoid(x W)}; each token's k experts are the top k of {@code s + b}, where the
 * per-expert bias b is <em>module state</em> used only for selection; the gate values are the
 * chosen affinities normalised to sum to 1, {@code g = s_chosen / Σ s_chosen}, so b never enters
 * the output or the gradient. After each training call the bias moves by the sign of the load
 * error, {@code b ← b + u · sign(mean load − load_i)} (overloaded experts become less attractive).
 *
 * <p>Defining properties, tested in {@code RouterTest}: the gate values of the chosen experts do
 * not depend on b ({@code auxFreeGatesIgnoreTheBias}); the update is exactly {@code u · sign(error)}
 * ({@code auxFreeBiasMovesBySignOfLoadError}); and training with it alone, without any auxiliary
 * loss, drives a skewed router towards balance ({@code auxFreeBalancesWithoutAuxiliaryLoss}).
 * Statistic {@code max_violation} is {@code max_i load_i · E − 1} (MaxVio of the paper).
 *
 * @param width          d
 * @param experts        E
 * @param k              experts per token
 * @param updateRate     u (DeepSeek-V3: 0.001)
 * @param capacityFactor > 0, or 0 for no capacity (DeepSeek-V3 drops no tokens)
 * @param balanceWeight  α of an optional (complementary) load-balancing loss; 0 (default) for none
 */
record AuxFreeRouter(int width, int experts, int k, double updateRate, double capacityFactor, double balanceWeight)
        implements Router {
    /** The state entry holding the selection bias [E]. */
    static final String BIAS = "bias";
    /** The statistic {@code max_i load_i · E − 1}. */
    static final String MAX_VIOLATION = "max_violation";

    AuxFreeRouter {
        Fields.positive(width, "width");
        Fields.positive(experts, "experts");
        Fields.kWithin(k, experts);
        Fields.nonNegative(updateRate, "updateRate");
        Fields.nonNegative(capacityFactor, "capacityFactor");
        Fields.nonNegative(balanceWeight, "balanceWeight");
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(SoftmaxTopKRouter.gateSpec(width, experts));
    }

    @Override
    public List<StateSpec> stateSpecs() {
        return List.of(new StateSpec(BIAS, Shape.of(experts), 0.0));
    }

    @Override
    public String kind() {
        return "aux-free";
    }

    @Override
    public Map<String, String> attributes() {
        Map<String, String> a = new LinkedHashMap<>(Router.super.attributes());
        a.put("updateRate", Double.toString(updateRate));
        return a;
    }

    @Override
    public RoutingPlan route(Params params, Tensor tokens, ModuleCall call) {
        if (!call.state().contains(BIAS)) {
            throw new IllegalArgumentException("aux-free router: the call's state has no '" + BIAS + "' (got "
                    + call.state().names() + "); pass the module's state (Module.initState) in the ModuleCall");
        }
        Tensor bias = call.state().get(BIAS).stopGradient();
        Tensor logits = Routing.logits(tokens, params.get("weight"));
        Tensor affinity = logits.sigmoid();
        Tensor chosen = Routing.topK(affinity.stopGradient().add(bias), k).indices();
        Tensor picked = Routing.takeAlongLastAxis(affinity, chosen);
        Tensor gates = picked.div(picked.sum(-1, true));
        Tensor probabilities = affinity.div(affinity.sum(-1, true));
        int n = tokens.dim(0);
        int capacity = capacityFactor > 0 ? Routing.capacity(capacityFactor, n, k, experts) : 0;
        RoutingPlan plan = Routing.tokenChoice(probabilities, chosen, gates, capacity, Map.of(), Map.of(), call.state());
        plan = plan.withStatistic(MAX_VIOLATION, plan.load().max(0, false).mul((double) experts).sub(1.0));
        if (balanceWeight > 0) {
            plan = plan.withLoss(Routing.BALANCE_LOSS, Routing.loadBalancingLoss(probabilities, plan.load(), balanceWeight));
        }
        if (call.training()) {
            Tensor error = plan.load().rsub(1.0 / experts);           // mean load - load_i, as fractions
            Tensor next = bias.add(error.sign().mul(updateRate));
            plan = plan.withState(call.state().with(BIAS, next));
        }
        return plan;
    }
}
