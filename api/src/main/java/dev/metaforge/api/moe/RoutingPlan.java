package dev.metaforge.api.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where every token of a batch goes, as tensors on the backend: a list of A <em>assignments</em>
 * (token, expert, slot, combine weight, kept), plus the router's auxiliary losses, statistics and
 * new state.
 *
 * <p>Two layouts:
 * <ul>
 *   <li><b>Token choice</b> ({@code k > 0}): A = N·k and assignment {@code n·k + j} is token n's j-th
 *       choice (descending gate). {@link #expertsPerToken()}, {@link #weightsPerToken()} and
 *       {@link #droppedPerToken()} view the plan as [N, k].</li>
 *   <li><b>Expert choice</b> ({@code k == 0}, Zhou et al. 2022): A = E·C and assignment {@code e·C + c}
 *       is expert e's c-th pick; a token may be picked by several experts or by none.</li>
 * </ul>
 *
 * <p>Invariants (TCK rule MOE-PLAN-1 checks them on every backend): {@code slot} is the assignment's
 * rank among the assignments of the same expert in priority order (so slots of one expert are
 * distinct); with a capacity C > 0 an assignment is kept exactly when its slot is below C, so no
 * expert receives more than C; a dropped assignment has weight 0 (it contributes nothing);
 * {@code capacity == 0} means no capacity (dropless: every assignment is kept).
 *
 * @param tokens        N, tokens routed
 * @param experts       E
 * @param k             assignments per token (token choice), or 0 (expert choice)
 * @param capacity      slots per expert, or 0 for none (dropless)
 * @param token         [A] INT64: the token of each assignment
 * @param expert        [A] INT64: the expert of each assignment
 * @param slot          [A] INT64: the assignment's position in its expert's buffer (its rank among
 *                      that expert's assignments, in priority order); {@code >= capacity} when dropped
 * @param weight        [A] floating: the combine weight, 0 where dropped; differentiable with respect
 *                      to the router's parameters
 * @param kept          [A] floating 1/0: whether the assignment is computed
 * @param probabilities [N, E] floating: the router's gate probabilities (softmax, or normalised
 *                      affinities), from which losses and statistics are computed
 * @param load          [E] floating: the fraction of assignments each expert received, before drops
 * @param losses        auxiliary losses, already weighted, to be added to the objective
 * @param statistics    scalar statistics for logs ("drop_rate", "router_entropy", ...)
 * @param state         the router's state after this call (empty for stateless routers)
 */
public record RoutingPlan(int tokens, int experts, int k, int capacity, Tensor token, Tensor expert, Tensor slot,
                          Tensor weight, Tensor kept, Tensor probabilities, Tensor load, Map<String, Tensor> losses,
                          Map<String, Tensor> statistics, Params state) {
    public RoutingPlan {
        requireNonNull(token, "token is null");
        requireNonNull(expert, "expert is null");
        requireNonNull(slot, "slot is null");
        requireNonNull(weight, "weight is null");
        requireNonNull(kept, "kept is null");
        requireNonNull(probabilities, "probabilities is null");
        requireNonNull(load, "load is null");
        requireNonNull(state, "state is null");
        losses = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(losses, "losses is null")));
        statistics = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(statistics, "statistics is null")));
        if (tokens < 0 || experts <= 0 || k < 0 || capacity < 0) {
            throw new IllegalArgumentException("routing plan: tokens " + tokens + ", experts " + experts + ", k " + k
                    + ", capacity " + capacity + " (need tokens >= 0, experts > 0, k >= 0, capacity >= 0)");
        }
        if (k == 0 && capacity == 0) {
            throw new IllegalArgumentException("an expert-choice plan (k = 0) needs a capacity > 0");
        }
        int a = k > 0 ? tokens * k : experts * capacity;
        Shape flat = Shape.of(a);
        check("token", token, flat, true);
        check("expert", expert, flat, true);
        check("slot", slot, flat, true);
        check("weight", weight, flat, false);
        check("kept", kept, flat, false);
        check("probabilities", probabilities, Shape.of(tokens, experts), false);
        check("load", load, Shape.of(experts), false);
    }

    private static void check(String name, Tensor t, Shape shape, boolean indices) {
        if (!t.shape().equals(shape)) {
            throw new IllegalArgumentException("routing plan: '" + name + "' has shape " + t.shape() + ", expected " + shape);
        }
        if (indices != (t.dtype() == DType.INT64)) {
            throw new IllegalArgumentException("routing plan: '" + name + "' has dtype " + t.dtype() + ", expected "
                    + (indices ? "INT64" : "a floating dtype"));
        }
    }

    /** The number of assignments A. */
    public int assignments() {
        return k > 0 ? tokens * k : experts * capacity;
    }

    /** True for token-choice plans (each token picks k experts). */
    public boolean isTokenChoice() {
        return k > 0;
    }

    /** True when there is no capacity: every assignment is computed (sorted, grouped dispatch). */
    public boolean isDropless() {
        return capacity == 0;
    }

    /** [N, k] INT64: the experts of each token (token choice only). */
    public Tensor expertsPerToken() {
        requireTokenChoice("expertsPerToken");
        return expert.reshape(tokens, k);
    }

    /** [N, k]: the combine weights of each token (token choice only); 0 where dropped. */
    public Tensor weightsPerToken() {
        requireTokenChoice("weightsPerToken");
        return weight.reshape(tokens, k);
    }

    /** [N, k] 1/0: whether each of a token's assignments was dropped (token choice only). */
    public Tensor droppedPerToken() {
        requireTokenChoice("droppedPerToken");
        return kept.rsub(1.0).reshape(tokens, k);
    }

    /** [N, k] INT64: the buffer slots of each token's assignments (token choice only). */
    public Tensor slotsPerToken() {
        requireTokenChoice("slotsPerToken");
        return slot.reshape(tokens, k);
    }

    /** The sum of the auxiliary losses, or null when there are none. */
    public Tensor auxLoss() {
        Tensor sum = null;
        for (Tensor t : losses.values()) {
            sum = sum == null ? t : sum.add(t);
        }
        return sum;
    }

    /** This plan with one more auxiliary loss. */
    public RoutingPlan withLoss(String name, Tensor loss) {
        Map<String, Tensor> l = new LinkedHashMap<>(losses);
        l.put(name, loss);
        return new RoutingPlan(tokens, experts, k, capacity, token, expert, slot, weight, kept, probabilities, load, l,
                statistics, state);
    }

    /** This plan with one more statistic. */
    public RoutingPlan withStatistic(String name, Tensor value) {
        Map<String, Tensor> s = new LinkedHashMap<>(statistics);
        s.put(name, value);
        return new RoutingPlan(tokens, experts, k, capacity, token, expert, slot, weight, kept, probabilities, load, losses, s,
                state);
    }

    /** This plan with another router state. */
    public RoutingPlan withState(Params newState) {
        return new RoutingPlan(tokens, experts, k, capacity, token, expert, slot, weight, kept, probabilities, load, losses,
                statistics, newState);
    }

    private void requireTokenChoice(String what) {
        if (k == 0) {
            throw new IllegalStateException(what + " is defined for token-choice plans; this is an expert-choice plan "
                    + "(read token, expert, slot and weight per assignment instead)");
        }
    }
}
