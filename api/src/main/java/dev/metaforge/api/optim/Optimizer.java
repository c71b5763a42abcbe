package dev.metaforge.api.optim;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;

/**
 * Updates parameters from gradients. Results and internal state live outside every scope
 * (except a tensor {@link #stepInPlace} hands back, which keeps its owner): a training loop keeps
 * the returned params and drops the previous ones, best by handing them over:
 *
 * <pre>{@code
 * Params next;
 * try (Scope s = Scope.open()) {
 *     Params p = params.requiringGrad();
 *     Params g = Grad.of(loss(p)).wrt(p);
 *     next = optimizer.stepInPlace(params, g); // or step(params, g), then params.close()
 * }
 * params = next;
 * }</pre>
 */
public interface Optimizer {
    /** New parameters (owned by no scope); advances the internal state. */
    Params step(Params params, Params grads);

    /**
     * {@link #step} with {@code params} handed over: the optimizer may write the new values into
     * their memory and return some of the same tensors, and it closes those it does not return.
     * The caller must not use or close {@code params} afterwards (only the returned params), and
     * nothing else may read their memory: use it where the old parameters would be closed right
     * after the step anyway, as {@link dev.metaforge.api.train.TrainingLoop} does. Values are those
     * of {@link #step}, bit for bit. A tensor that does not own its array ({@link Tensor#ownsArray})
     * is never written. The default is {@code step} followed by closing {@code params}.
     */
    default Params stepInPlace(Params params, Params grads) {
        Params next = step(params, grads);
        params.close();
        return next;
    }

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
