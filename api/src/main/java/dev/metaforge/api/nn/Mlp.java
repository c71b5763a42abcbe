package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A multilayer perceptron: Linear layers with {@code hidden} activation between them and
 * {@code output} activation at the end. Parameters are named {@code "0.weight"}, {@code "0.bias"},
 * {@code "1.weight"}, ... (layer index, not Sequential position).
 *
 * @param sizes  layer widths including input and output, e.g. [1, 40, 40, 1]
 * @param hidden activation after every hidden layer
 * @param output activation after the last layer
 * @param weightInit initializer of every weight
 */
public record Mlp(List<Integer> sizes, Activation hidden, Activation output, Initializer weightInit) implements Module {
    public Mlp {
        sizes = List.copyOf(requireNonNull(sizes, "sizes is null"));
        if (sizes.size() < 2) {
            throw new IllegalArgumentException("an MLP needs at least input and output sizes, got " + sizes);
        }
        requireNonNull(hidden, "hidden is null");
        requireNonNull(output, "output is null");
        requireNonNull(weightInit, "weightInit is null");
    }

    /** PyTorch default init, identity output. */
    public static Mlp of(List<Integer> sizes, Activation hidden) {
        return new Mlp(sizes, hidden, Activation.IDENTITY, Initializer.torchDefault());
    }

    public List<Linear> layers() {
        List<Linear> out = new ArrayList<>();
        for (int i = 0; i + 1 < sizes.size(); i++) {
            out.add(new Linear(sizes.get(i), sizes.get(i + 1), true, weightInit));
        }
        return out;
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        List<Linear> layers = layers();
        for (int i = 0; i < layers.size(); i++) {
            for (ParamSpec s : layers.get(i).parameters()) {
                out.add(s.prefixed(Integer.toString(i)));
            }
        }
        return out;
    }

    @Override
    public String kind() {
        return "mlp";
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        List<Linear> layers = layers();
        NeuronGroup g = input;
        for (int i = 0; i < layers.size(); i++) {
            String name = StructureBuilder.join(prefix, Integer.toString(i));
            g = layers.get(i).describe(b, name, g);
            g = (i + 1 < layers.size() ? hidden : output).describe(b, name + ".act", g);
        }
        return g;
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        List<Linear> layers = layers();
        Tensor x = input;
        for (int i = 0; i < layers.size(); i++) {
            x = layers.get(i).apply(params.scoped(Integer.toString(i)), x);
            x = (i + 1 < layers.size() ? hidden : output).apply(x);
        }
        return x;
    }
}
