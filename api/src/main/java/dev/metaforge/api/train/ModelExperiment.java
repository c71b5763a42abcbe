package dev.metaforge.api.train;

import dev.metaforge.api.nn.ModuleSpec;
import java.util.List;

/**
 * An experiment that trains one module on inputs: its checkpoint's parameters are that module's
 * parameters (same names) and its objective state is the module's state (e.g. BatchNorm running
 * statistics). Tools that need the trained network itself rather than the whole objective
 * ({@code metaforge predict}, {@code metaforge export --format torch}) read it through this
 * interface, without loading the experiment's data.
 *
 * <p>How raw inputs become the module's input, as the experiment itself does for its evaluation
 * data: each example is laid out as {@link #exampleShape()} (when not empty) and every value
 * becomes {@code (x - inputMean()) / inputStd()}.
 *
 * <p>Experiments that train something else (a hypernetwork, a meta-learner, a mixture of experts
 * with its own objective) do not implement it.
 */
public interface ModelExperiment {
    /** The module trained. */
    ModuleSpec model();

    /**
     * The layout of one example as the module reads it (e.g. [1, 28, 28] or [1]); empty when the
     * experiment takes rows as they are given.
     */
    default List<Integer> exampleShape() {
        return List.of();
    }

    /** Subtracted from every input value before the module runs. */
    default double inputMean() {
        return 0.0;
    }

    /** Every input value is divided by it after subtracting {@link #inputMean()}. */
    default double inputStd() {
        return 1.0;
    }

    /**
     * True when the experiment evaluates the module in eval mode with its checkpointed state
     * ({@code Module.forward} with {@code ModuleCall.eval(state)}: BatchNorm uses its running
     * statistics); false when it evaluates the plain call ({@code Module.apply}, no state).
     */
    default boolean evaluatesWithState() {
        return false;
    }
}
