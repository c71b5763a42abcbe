package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Params;

/**
 * What a module call receives besides its input and parameters, as explicit values (Flax/Equinox
 * style, no globals): the mode, a random stream and the module's current state.
 *
 * <pre>{@code
 * ModuleOutput out = net.forward(params, x, ModuleCall.train(state, rng));
 * state = out.state();                       // e.g. updated BatchNorm running statistics
 * Tensor loss = task.add(out.auxLoss());     // e.g. an MoE load-balancing loss
 * }</pre>
 *
 * @param mode  train or eval
 * @param rng   the random stream for dropout and noise; null in a call that draws nothing
 *              (asking for it then is an error naming the module)
 * @param state the module's state (names as declared by {@link Module#stateSpecs()}); empty for
 *              stateless modules
 */
public record ModuleCall(Mode mode, RandomStream rng, Params state) {
    public ModuleCall {
        requireNonNull(mode, "mode is null");
        requireNonNull(state, "state is null");
    }

    /** A training call: dropout active, statistics updated. */
    public static ModuleCall train(Params state, RandomStream rng) {
        return new ModuleCall(Mode.TRAIN, requireNonNull(rng, "rng is null"), state);
    }

    /** An evaluation call: deterministic, state read but not changed. */
    public static ModuleCall eval(Params state) {
        return new ModuleCall(Mode.EVAL, null, state);
    }

    public boolean training() {
        return mode == Mode.TRAIN;
    }

    /** The random stream; fails clearly when the call was made without one. */
    public RandomStream random(String who) {
        if (rng == null) {
            throw new IllegalStateException(who + " needs a random stream in " + mode + " mode; pass one in ModuleCall.train(state, rng)");
        }
        return rng;
    }

    /**
     * The call as seen by the child module under {@code prefix}: its part of the state and, when
     * there is a stream, an independent split of it (children are called in a fixed order, so the
     * draws are reproducible).
     */
    public ModuleCall child(String prefix) {
        return new ModuleCall(mode, rng == null ? null : rng.split(), state.scoped(prefix));
    }
}
