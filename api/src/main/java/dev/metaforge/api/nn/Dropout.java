package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Inverted dropout (PyTorch's {@code nn.Dropout}): in a TRAIN call each entry is kept with
 * probability 1 - p and scaled by 1 / (1 - p), so the expected output equals the input; in EVAL
 * and in {@link #apply} it is the identity.
 *
 * <p>The mask is {@code uniform[0, 1) >= p}, drawn with {@code engine.uniform(shape, 0, 1, seed)}
 * where {@code seed = call.random("dropout").nextSeed()}: the same stream gives the same mask.
 * No parameters; any input shape (a weight batch is just another leading axis).
 *
 * @param p the probability of dropping an entry, in [0, 1)
 */
public record Dropout(double p) implements Module {
    public Dropout {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout needs p in [0, 1), got " + p);
        }
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of();
    }

    @Override
    public String kind() {
        return "dropout";
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        b.layer(prefix, kind(), input, input, Map.of(), Map.of("p", Double.toString(p)));
        return input;
    }

    /** The identity: the plain call is deterministic. */
    @Override
    public Tensor apply(Params params, Tensor input) {
        return input;
    }

    @Override
    public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        if (!call.training() || p == 0) {
            return ModuleOutput.of(input, call.state());
        }
        long seed = call.random("dropout").nextSeed();
        Tensor uniform = input.engine().uniform(input.shape(), 0.0, 1.0, seed);
        if (uniform.dtype() != input.dtype()) {
            uniform = uniform.cast(input.dtype());
        }
        // The kept entries' scale folds into the (constant) mask: one tracked multiply.
        Tensor mask = uniform.ge(p).mul(1.0 / (1.0 - p));
        return ModuleOutput.of(input.mul(mask), call.state());
    }
}
