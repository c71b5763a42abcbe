package dev.metaforge.api.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import dev.metaforge.api.tensor.TopKResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pieces routers share, all computed on the backend with tensor ops (no host copies): expert
 * counts, ranks within experts (the capacity slots), the auxiliary losses and statistics, and the
 * assembly of a token-choice {@link RoutingPlan}.
 *
 * <p>Formulas (N tokens, E experts, router probabilities p [N, E], assignment fractions f [E]):
 * <ul>
 *   <li>load-balancing loss (Switch Transformer, Fedus et al. 2021, eq. 4, generalised to top-k):
 *       {@code α · E · Σᵢ fᵢ · Pᵢ} with {@code Pᵢ = mean over tokens of p[:, i]} and {@code fᵢ} the
 *       fraction of the N·k assignments that chose expert i (before capacity drops). With
 *       perfectly balanced routing (fᵢ = Pᵢ = 1/E) it equals α.</li>
 *   <li>router z-loss (ST-MoE, Zoph et al. 2022, eq. 5): {@code β · mean over tokens of
 *       logsumexp(logits)²}; all-zero logits give {@code β (ln E)²}.</li>
 *   <li>squared coefficient of variation (Shazeer et al. 2017): {@code var(v) / mean(v)²}
 *       (population variance).</li>
 * </ul>
 */
public final class Routing {
    /** Name of the load-balancing loss in plans and module outputs. */
    public static final String BALANCE_LOSS = "balance_loss";
    /** Name of the router z-loss. */
    public static final String Z_LOSS = "z_loss";
    /** Name of the statistic: fraction of assignments dropped for lack of capacity. */
    public static final String DROP_RATE = "drop_rate";
    /** Name of the statistic: mean entropy of the router's probabilities, in nats. */
    public static final String ENTROPY = "router_entropy";

    private Routing() {
    }

    /**
     * Slots per expert for a capacity factor: {@code ceil(factor · N · k / E)}, at least 1 and at
     * most N (a token never picks one expert twice).
     */
    public static int capacity(double factor, int tokens, int k, int experts) {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("capacity factor must be a finite number > 0, got " + factor);
        }
        long c = (long) Math.ceil(factor * tokens * (double) k / experts - 1e-9);
        return (int) Math.max(1, Math.min(tokens, c));
    }

    /** The router logits {@code tokens @ weight}: [N, d] x [d, E] to [N, E]. */
    public static Tensor logits(Tensor tokens, Tensor weight) {
        if (tokens.rank() != 2 || weight.rank() != 2 || tokens.dim(1) != weight.dim(0)) {
            throw new IllegalArgumentException("router: tokens " + tokens.shape() + " and gate weight " + weight.shape()
                    + " do not fit ([N, d] and [d, E])");
        }
        return tokens.matmul(weight);
    }

    /** [E] counts, in {@code dtype}, of the INT64 expert ids {@code expert} [A] (a segment sum). */
    public static Tensor counts(Tensor expert, int experts, DType dtype) {
        Tensor ones = expert.engine().full(Shape.of(expert.dim(0)), 1.0, dtype);
        return ones.segmentSum(expert, experts);
    }

    /**
     * For assignments listed in priority order, each one's rank among the assignments of the same
     * expert (0 for the first), in {@code dtype}: a stable sort by expert, minus the start of the
     * expert's run (an exclusive cumulative sum of the counts), scattered back to the original order.
     */
    public static Tensor ranks(Tensor expert, int experts, DType dtype) {
        requireNonNull(expert, "expert is null");
        if (expert.rank() != 1 || expert.dtype() != DType.INT64) {
            throw new IllegalArgumentException("ranks: expert ids must be INT64 [A], got " + expert.dtype() + " " + expert.shape());
        }
        Engine engine = expert.engine();
        int a = expert.dim(0);
        Tensor order = expert.argsort(0, false);
        Tensor sortedExpert = expert.gather(order, 0);
        Tensor counts = counts(expert, experts, dtype);
        Tensor starts = counts.cumsum(0).sub(counts);
        Tensor rankSorted = engine.arange(a).cast(dtype).sub(starts.gather(sortedExpert, 0));
        return engine.zeros(Shape.of(a), dtype).scatterAdd(order, rankSorted, 0);
    }

    /**
     * The k largest entries of each row of {@code scores} [N, E], descending, ties to the lower
     * index (the contract of {@link Tensor#topK}); the values carry gradients. For k up to 4 this
     * runs k passes of argmax with the chosen entries masked, which costs O(k·N·E) on every backend,
     * where a general topK may sort whole rows; larger k use {@link Tensor#topK}.
     */
    public static TopKResult topK(Tensor scores, int k) {
        int e = scores.dim(1);
        if (scores.rank() != 2 || k < 1 || k > e) {
            throw new IllegalArgumentException("topK: need scores [N, E] and 1 <= k <= E, got " + scores.shape() + " and k = " + k);
        }
        if (k > 4) {
            return scores.topK(k, -1);
        }
        Engine engine = scores.engine();
        Tensor masked = scores.stopGradient();
        Tensor columns = engine.arange(e).reshape(1, e);
        Tensor lowest = engine.full(Shape.scalar(), Double.NEGATIVE_INFINITY, scores.dtype());
        List<Tensor> picks = new ArrayList<>(k);
        for (int j = 0; j < k; j++) {
            Tensor pick = masked.argmax(-1, true);
            picks.add(pick);
            if (j + 1 < k) {
                masked = Tensor.where(pick.eq(columns).cast(scores.dtype()), lowest, masked);
            }
        }
        Tensor indices = k == 1 ? picks.get(0) : Tensor.concat(picks, 1);
        return new TopKResult(takeAlongLastAxis(scores, indices), indices);
    }

    /**
     * {@code out[n, j] = x[n, indices[n, j]]} for x [N, E] and INT64 indices [N, k] known to be in
     * range; differentiable with respect to x. One gather on the flattened x (the row offsets depend
     * on shapes only).
     */
    public static Tensor takeAlongLastAxis(Tensor x, Tensor indices) {
        int n = x.dim(0);
        int e = x.dim(1);
        if (x.rank() != 2 || indices.rank() != 2 || indices.dim(0) != n) {
            throw new IllegalArgumentException("takeAlongLastAxis: x " + x.shape() + " and indices " + indices.shape()
                    + " must be [N, E] and [N, k]");
        }
        long[] offsets = new long[n];
        for (int i = 0; i < n; i++) {
            offsets[i] = (long) i * e;
        }
        Tensor flat = indices.add(x.engine().indices(offsets, n, 1));
        return x.reshape(n * e).gather(flat, 0);
    }

    /** [N·k] INT64 {@code 0,..,0, 1,..,1, ...}: the token of each token-major assignment. */
    public static Tensor repeatTokens(Engine engine, int tokens, int k) {
        long[] ids = new long[tokens * k];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i / k;
        }
        return engine.indices(ids, ids.length);
    }

    /** {@code α · E · Σᵢ fᵢ · mean(p[:, i])}; {@code load} are the fractions fᵢ (no gradient flows through them). */
    public static Tensor loadBalancingLoss(Tensor probabilities, Tensor load, double alpha) {
        int e = probabilities.dim(1);
        Tensor meanProbability = probabilities.mean(0, false);
        return meanProbability.mul(load.stopGradient()).sum().mul(alpha * e);
    }

    /** {@code β · mean(logsumexp(logits, -1)²)}. */
    public static Tensor zLoss(Tensor logits, double beta) {
        return logits.logSumExp(-1, false).square().mean().mul(beta);
    }

    /** Mean over rows of {@code -Σ p log p} (rows of {@code probabilities} sum to 1); a statistic, no gradient. */
    public static Tensor entropy(Tensor probabilities) {
        Tensor p = probabilities.stopGradient();
        return p.mul(p.maximum(1e-30).log()).sum(-1, false).mean().neg();
    }

    /** {@code var(v) / mean(v)²} over all entries (population variance); 0 for a single entry. */
    public static Tensor cvSquared(Tensor v) {
        if (v.size() <= 1) {
            return v.engine().zeros(Shape.scalar(), v.dtype());
        }
        Tensor mean = v.mean();
        Tensor variance = v.sub(mean).square().mean();
        return variance.div(mean.square().add(1e-10));
    }

    /**
     * The standard normal CDF Φ(x) = (1 + erf(x/√2)) / 2, with erf from Abramowitz and Stegun 7.1.26
     * (absolute error below 1.5e-7), built from differentiable ops.
     */
    public static Tensor normalCdf(Tensor x) {
        Tensor z = x.mul(1 / Math.sqrt(2.0));
        Tensor az = z.abs();
        Tensor t = az.mul(0.3275911).add(1.0).reciprocal();
        Tensor poly = t.mul(1.061405429).add(-1.453152027).mul(t).add(1.421413741).mul(t).add(-0.284496736).mul(t)
                .add(0.254829592).mul(t);
        Tensor erfAbs = poly.mul(az.square().neg().exp()).rsub(1.0);
        return z.sign().mul(erfAbs).add(1.0).mul(0.5);
    }

    /**
     * A token-choice plan from each token's chosen experts {@code topExperts} [N, k] (INT64) and
     * their gate values {@code gates} [N, k] (differentiable). With {@code capacity > 0} slots are
     * given in priority order choice-major (every token's first choice before any second choice,
     * earlier tokens first, as in GShard) and assignments past the capacity are dropped (weight 0);
     * with {@code capacity == 0} nothing is dropped and slots are ranks in token order. Adds the
     * statistics {@value #DROP_RATE} and {@value #ENTROPY} to {@code statistics}.
     *
     * @param probabilities [N, E] the router's probabilities, for the load statistic and entropy
     */
    public static RoutingPlan tokenChoice(Tensor probabilities, Tensor topExperts, Tensor gates, int capacity,
                                          Map<String, Tensor> losses, Map<String, Tensor> statistics, Params state) {
        int n = topExperts.dim(0);
        int k = topExperts.dim(1);
        int e = probabilities.dim(1);
        int a = n * k;
        Engine engine = probabilities.engine();
        DType dtype = gates.dtype();
        Tensor expert = topExperts.reshape(a);
        Tensor slotF;
        Tensor kept;
        if (capacity > 0) {
            Tensor choiceMajor = topExperts.transpose(1, 0).reshape(a);
            Tensor rank = ranks(choiceMajor, e, dtype);
            slotF = rank.reshape(k, n).transpose(1, 0).reshape(a);
            kept = slotF.lt((double) capacity);
        } else {
            slotF = ranks(expert, e, dtype);
            kept = engine.full(Shape.of(a), 1.0, dtype);
        }
        Tensor weight = capacity > 0 ? gates.reshape(a).mul(kept) : gates.reshape(a);
        Tensor load = counts(expert, e, dtype).div((double) a);
        Map<String, Tensor> stats = new LinkedHashMap<>(statistics);
        stats.put(DROP_RATE, kept.mean().rsub(1.0));
        stats.put(ENTROPY, entropy(probabilities));
        return new RoutingPlan(n, e, k, capacity, repeatTokens(engine, n, k), expert, slotF.cast(DType.INT64), weight, kept,
                probabilities, load, losses, stats, state);
    }
}
