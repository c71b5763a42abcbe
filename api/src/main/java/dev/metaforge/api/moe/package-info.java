/**
 * Mixture-of-experts as values: a {@link dev.metaforge.api.moe.Router} turns token representations
 * into a {@link dev.metaforge.api.moe.RoutingPlan} (which expert each token goes to, with which combine
 * weight, in which buffer slot, and whether it was dropped, together with the router's auxiliary
 * losses and statistics), and {@link dev.metaforge.api.moe.MixtureOfExperts} runs the E experts as one
 * weight batch over that plan. Nothing is hidden in global state: the plan can be inspected, tested
 * and logged, and the router's balancing state travels through {@link dev.metaforge.api.nn.ModuleCall}
 * like any module state.
 *
 * <p>Routing stays on the backend: plans are built with {@code topK}, {@code argsort},
 * {@code cumsum}, {@code gather} and {@code scatterAdd} on tensors, never with a copy to the host, so
 * a training step through an MoE layer makes no {@code toDoubles}/{@code toLongs} call.
 *
 * <pre>{@code
 * MixtureOfExperts moe = new MixtureOfExperts(router, Mlp.of(List.of(d, 4 * d, d), Activation.RELU), 8, null, 0);
 * ModuleOutput out = moe.forward(params, tokens, ModuleCall.train(state, rng));
 * Tensor loss = task.add(out.auxLoss());               // load-balancing and z-loss, already weighted
 * RoutingPlan plan = moe.route(params, tokens, call);   // the same plan, for inspection
 * }</pre>
 */
package dev.metaforge.api.moe;
