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
 * Noisy top-k gating (Shazeer et al. 2017, "Outrageously Large Neural Networks", section 2.1 and
 * appendix A): {@code H = x W_g + ε · softplus(x W_noise)} with standard normal ε in training,
 * {@code G = softmax(KeepTopK(H, k))}. Auxiliary losses:
 * <ul>
 *   <li>importance loss {@code w_importance · CV(Importance)²} with {@code Importance = Σ_x G(x)};</li>
 *   <li>load loss {@code w_load · CV(Load)²} with the smooth load estimator
 *       {@code Load_i = Σ_x Φ((x W_g)_i − kth_excluding(H, k, i)) / softplus((x W_noise)_i))}, where
 *       the threshold is the k-th largest noisy logit when expert i is outside the top k and the
 *       (k+1)-th when it is inside (Φ: the standard normal CDF). In eval mode (no noise) the load
 *       is the count of tokens per expert.</li>
 * </ul>
 * Both weights start at zero, as in the paper ("no signal and some noise"). Defining property
 * tested in {@code RouterTest.noisyTopKLoadEstimatorIsTheProbabilityOfStayingInTheTopK}: the smooth
 * load equals a float64 Monte-Carlo estimate of the expected count under resampled noise.
 *
 * @param width            d
 * @param experts          E
 * @param k                experts per token
 * @param capacityFactor   > 0, or 0 for no capacity
 * @param importanceWeight w_importance (paper: 0.1)
 * @param loadWeight       w_load (paper: 0.1)
 * @param noiseEpsilon     added to the noise scale (the authors' code: 0.01)
 */
record NoisyTopKRouter(int width, int experts, int k, double capacityFactor, double importanceWeight, double loadWeight,
                       double noiseEpsilon) implements Router {
    /** Names of the two auxiliary losses. */
    static final String IMPORTANCE_LOSS = "importance_loss";
    static final String LOAD_LOSS = "load_loss";

    NoisyTopKRouter {
        Fields.positive(width, "width");
        Fields.positive(experts, "experts");
        Fields.kWithin(k, experts);
        Fields.nonNegative(capacityFactor, "capacityFactor");
        Fields.nonNegative(importanceWeight, "importanceWeight");
        Fields.nonNegative(loadWeight, "loadWeight");
        Fields.nonNegative(noiseEpsilon, "noiseEpsilon");
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(
                new ParamSpec("weight", Shape.of(width, experts), ParamKind.WEIGHT, width, experts, Initializer.zeros()),
                new ParamSpec("noise_weight", Shape.of(width, experts), ParamKind.WEIGHT, width, experts, Initializer.zeros()));
    }

    @Override
    public String kind() {
        return "noisy-topk";
    }

    @Override
    public Map<String, String> attributes() {
        Map<String, String> a = new LinkedHashMap<>(Router.super.attributes());
        a.put("capacityFactor", capacityFactor == 0 ? "none" : Double.toString(capacityFactor));
        return a;
    }

    /** The noise scale {@code softplus(x W_noise) + ε} [N, E]. */
    Tensor noiseScale(Params params, Tensor tokens) {
        return Routing.logits(tokens, params.get("noise_weight")).softplus().add(noiseEpsilon);
    }

    @Override
    public RoutingPlan route(Params params, Tensor tokens, ModuleCall call) {
        int n = tokens.dim(0);
        Tensor clean = Routing.logits(tokens, params.get("weight"));
        Tensor scale = null;
        Tensor noisy = clean;
        if (call.training()) {
            scale = noiseScale(params, tokens);
            Tensor eps = tokens.engine().normal(Shape.of(n, experts), 0.0, 1.0, call.random("noisy-topk router").nextSeed());
            noisy = clean.add(eps.mul(scale));
        }
        return plan(clean, noisy, scale, call);
    }

    /** The plan for given clean and noisy logits ({@code scale} null in eval mode); visible for tests. */
    RoutingPlan plan(Tensor clean, Tensor noisy, Tensor scale, ModuleCall call) {
        int n = clean.dim(0);
        int m = Math.min(k + 1, experts);
        TopKResult top = Routing.topK(noisy, m);
        Tensor topValues = top.values().slice(1, 0, k);
        Tensor topExperts = top.indices().slice(1, 0, k);
        Tensor gates = topValues.softmax(-1);
        // The full gate matrix G [N, E]: zero outside each token's top k.
        Tensor rowOffsets = tokensOffsets(clean, n);
        Tensor dense = clean.engine().zeros(Shape.of(n * experts), gates.dtype())
                .scatterAdd(topExperts.add(rowOffsets).reshape(n * k), gates.reshape(n * k), 0).reshape(n, experts);
        int capacity = capacityFactor > 0 ? Routing.capacity(capacityFactor, n, k, experts) : 0;
        RoutingPlan plan = Routing.tokenChoice(dense, topExperts, gates, capacity, Map.of(), Map.of(), call.state());
        if (importanceWeight > 0) {
            plan = plan.withLoss(IMPORTANCE_LOSS, Routing.cvSquared(dense.sum(0, false)).mul(importanceWeight));
        }
        if (loadWeight > 0) {
            Tensor load = scale != null && k < experts ? smoothLoad(clean, noisy, scale, top)
                    : plan.load().mul((double) n * k);
            plan = plan.withLoss(LOAD_LOSS, Routing.cvSquared(load).mul(loadWeight));
        }
        return plan;
    }

    /** Σ_x P(expert i stays in x's top k when only its own noise is resampled), [E]. */
    Tensor smoothLoad(Tensor clean, Tensor noisy, Tensor scale, TopKResult top) {
        Tensor thresholdIfIn = top.values().slice(1, k, k + 1);     // (k+1)-th largest: what i must beat when inside
        Tensor thresholdIfOut = top.values().slice(1, k - 1, k);    // k-th largest: what i must beat when outside
        Tensor isIn = noisy.gt(thresholdIfIn);
        Tensor probIfIn = Routing.normalCdf(clean.sub(thresholdIfIn).div(scale));
        Tensor probIfOut = Routing.normalCdf(clean.sub(thresholdIfOut).div(scale));
        return Tensor.where(isIn, probIfIn, probIfOut).sum(0, false);
    }

    private Tensor tokensOffsets(Tensor like, int n) {
        long[] offsets = new long[n];
        for (int i = 0; i < n; i++) {
            offsets[i] = (long) i * experts;
        }
        return like.engine().indices(offsets, n, 1);
    }
}
