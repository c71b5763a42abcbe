package dev.metaforge.api.optim;

import dev.metaforge.api.tensor.Params;

/**
 * Updates parameters from gradients. Results and internal state live outside every scope:
 * a training loop keeps the returned params and closes the previous ones.
 *
 * <pre>{@code
 * Params next;
 * try (Scope s = Scope.open()) {
 *     Params p = params.requiringGrad();
 *     Params g = Grad.of(loss(p)).wrt(p);
 *     next = optimizer.step(params, g);
 * }
 * params.close();
 * params = next;
 * }</pre>
 */
public interface Optimizer {
    /** New parameters (owned by no scope); advances the internal state. */
    Params step(Params params, Params grads);

    /** Number of steps taken. */
    long steps();

    /**
     * The optimizer's state tensors, named {@code "<slot>/<param>"} (for checkpoints). They are the
     * optimizer's own and may be updated in place by the next {@link #step}: copy what must outlive it.
     */
    Params state();

    /** Restores state saved from {@link #state()} and the step count; copies the tensors. */
    void loadState(Params state, long steps);

    /** Frees the state tensors. */
    void close();
}
