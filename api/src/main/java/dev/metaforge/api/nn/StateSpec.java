package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Shape;

/**
 * A declared piece of a module's non-trainable state (e.g. BatchNorm's running mean), with its
 * unbatched shape and initial value. State travels as a value: a call receives it and returns the
 * new one ({@link ModuleCall}, {@link ModuleOutput}); it is checkpointed beside the parameters.
 *
 * @param name    unique within the module, dot-separated for nested modules
 * @param shape   one network's shape (a weight batch adds a leading axis B)
 * @param initial the value every entry starts with
 */
public record StateSpec(String name, Shape shape, double initial) {
    public StateSpec {
        requireNonNull(name, "name is null");
        requireNonNull(shape, "shape is null");
    }

    public StateSpec prefixed(String prefix) {
        return new StateSpec(prefix + "." + name, shape, initial);
    }
}
