package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Merges axes {@code startAxis..endAxis} (inclusive) into one (PyTorch's {@code nn.Flatten}); the
 * default, {@link #of()}, flattens everything after the sample axis: [N, C, H, W] to [N, C*H*W].
 *
 * <p>A weight batch: having no parameters, a flatten cannot see one, so the axes say it. Use
 * {@link #afterWeightBatch()} (axes 2..-1) for inputs [B, N, C, H, W], or count from the end, e.g.
 * {@code new Flatten(-3, -1)}, which turns [N, C, H, W] into [N, C*H*W] and [B, N, C, H, W] into
 * [B, N, C*H*W]: the same module then serves both forms.
 *
 * <p>Structure: the output is a {@code derived} group of the input's channels (flattened neuron
 * {@code c * repeat + r} belongs to channel {@code c}; the repeat is fixed by the layer that reads it).
 *
 * @param startAxis first axis merged; negative counts from the end
 * @param endAxis   last axis merged; negative counts from the end
 */
public record Flatten(int startAxis, int endAxis) implements Module {
    public Flatten {
        if ((startAxis >= 0) == (endAxis >= 0) && startAxis > endAxis) {
            throw new IllegalArgumentException("Flatten needs startAxis <= endAxis, got " + startAxis + " and " + endAxis);
        }
    }

    /** Axes 1..-1: everything after the sample axis. */
    public static Flatten of() {
        return new Flatten(1, -1);
    }

    /** Axes 2..-1: everything after the weight-batch and sample axes of [B, N, ...]. */
    public static Flatten afterWeightBatch() {
        return new Flatten(2, -1);
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of();
    }

    @Override
    public String kind() {
        return "flatten";
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup out = b.derived(StructureBuilder.join(prefix, "out"), input);
        b.layer(prefix, kind(), input, out, Map.of(), Map.of("startAxis", Integer.toString(startAxis), "endAxis",
                Integer.toString(endAxis)));
        return out;
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        int rank = input.rank();
        int from = startAxis < 0 ? startAxis + rank : startAxis;
        int to = endAxis < 0 ? endAxis + rank : endAxis;
        if (from < 0 || to >= rank || from > to) {
            throw new IllegalArgumentException(this + ": axes " + startAxis + ".." + endAxis + " do not fit input shape "
                    + input.shape());
        }
        return input.flatten(from, to);
    }

    @Override
    public String toString() {
        return "Flatten(" + startAxis + ", " + endAxis + ")";
    }
}
