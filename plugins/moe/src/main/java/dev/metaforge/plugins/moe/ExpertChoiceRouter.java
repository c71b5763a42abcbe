package dev.metaforge.plugins.moe;

import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.Routing;
import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.tensor.TopKResult;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Expert-choice routing (Zhou et al. 2022, "Mixture-of-Experts with Expert Choice Routing"): the
 * token-to-expert affinities {@code S = softmax(x W)} [N, E]; each expert takes the
 * {@code C = ceil(c · N / E)} tokens with the highest affinity ({@code TopK(Sᵀ, C)}) and weighs
 * its output by that affinity. Load is perfectly balanced by construction — every expert processes
 * exactly C tokens (TCK rule MOE-EC-1) — while a token may be taken by several experts or by none
 * (the statistic {@code drop_rate} is the fraction of tokens no expert took). No auxiliary loss is
 * needed; an optional z-loss keeps the logits small.
 *
 * @param width          d
 * @param experts        E
 * @param capacityFactor c, the average number of experts per token (paper: 2)
 * @param zLossWeight    β of the router z-loss (0: none)
 */
record ExpertChoiceRouter(int width, int experts, double capacityFactor, double zLossWeight) implements Router {
    ExpertChoiceRouter {
        Fields.positive(width, "width");
        Fields.positive(experts, "experts");
        Fields.positive(capacityFactor, "capacityFactor");
        Fields.nonNegative(zLossWeight, "zLossWeight");
    }

    @Override
    public int k() {
        return 0;
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(SoftmaxTopKRouter.gateSpec(width, experts));
    }

    @Override
    public String kind() {
        return "expert-choice";
    }

    @Override
    public Map<String, String> attributes() {
        Map<String, String> a = new LinkedHashMap<>(Router.super.attributes());
        a.put("capacityFactor", Double.toString(capacityFactor));
        return a;
    }

    /** Tokens per expert for a batch of {@code tokens}: {@code ceil(c · N / E)}, between 1 and N. */
    int capacity(int tokens) {
        return Routing.capacity(capacityFactor, tokens, 1, experts);
    }

    @Override
    public RoutingPlan route(Params params, Tensor tokens, ModuleCall call) {
        Engine engine = tokens.engine();
        int n = tokens.dim(0);
        int c = capacity(n);
        int a = experts * c;
        Tensor logits = Routing.logits(tokens, params.get("weight"));
        Tensor probabilities = logits.softmax(-1);
        TopKResult picks = probabilities.transpose(1, 0).topK(c, -1);       // [E, C]
        Tensor token = picks.indices().reshape(a);
        long[] expertIds = new long[a];
        long[] slots = new long[a];
        for (int i = 0; i < a; i++) {
            expertIds[i] = i / c;
            slots[i] = i % c;
        }
        Tensor expert = engine.indices(expertIds, a);
        Tensor weight = picks.values().reshape(a);
        DType dtype = weight.dtype();
        Tensor kept = engine.full(Shape.of(a), 1.0, dtype);
        Tensor load = Routing.counts(expert, experts, dtype).div((double) a);
        Tensor takenBy = engine.zeros(Shape.of(n), dtype).scatterAdd(token, kept, 0);
        Map<String, Tensor> statistics = new LinkedHashMap<>();
        statistics.put(Routing.DROP_RATE, takenBy.eq(0.0).mean());
        statistics.put(Routing.ENTROPY, Routing.entropy(probabilities));
        Map<String, Tensor> losses = new LinkedHashMap<>();
        if (zLossWeight > 0) {
            losses.put(Routing.Z_LOSS, Routing.zLoss(logits, zLossWeight));
        }
        return new RoutingPlan(n, experts, 0, c, token, expert, engine.indices(slots, a), weight, kept, probabilities, load,
                losses, statistics, call.state());
    }
}
