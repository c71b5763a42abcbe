package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.List;

/**
 * {@code {"type": "mlp", "sizes": [1, 40, 40, 1], "activation": "relu", "outputActivation": "identity", "init": "torch"}}:
 * a multilayer perceptron with parameters {@code 0.weight}, {@code 0.bias}, {@code 1.weight}, ...
 *
 * @param sizes            layer widths including input and output (at least two, all positive)
 * @param activation       between layers (default "relu"): identity, relu, tanh, sigmoid, leaky_relu, softplus, sin
 * @param outputActivation after the last layer (default "identity")
 * @param init             weight initialisation (default "torch"): torch, kaiming_uniform_fan_in, kaiming_uniform_fan_out, xavier
 */
public record MlpSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "layer width") List<Integer> sizes,
        String activation,
        String outputActivation,
        String init) implements ModuleSpec {
    public MlpSpec {
        Fields.required(sizes, "sizes", "layer widths including input and output, e.g. [1, 40, 40, 1]");
        sizes = List.copyOf(sizes);
        if (sizes.size() < 2) {
            throw new IllegalArgumentException("field 'sizes' needs at least the input and output widths, got " + sizes);
        }
        for (int i = 0; i < sizes.size(); i++) {
            if (sizes.get(i) == null || sizes.get(i) <= 0) {
                throw new IllegalArgumentException("field 'sizes' must hold positive widths, got " + sizes.get(i) + " at index " + i);
            }
        }
        activation = Activations.jsonName(Activations.parse(Fields.required(activation, "activation", ""), "activation"));
        outputActivation = Activations.jsonName(Activations.parse(Fields.required(outputActivation, "outputActivation", ""), "outputActivation"));
        init = InitScheme.parse(Fields.required(init, "init", ""), "init").jsonName();
    }

    @JsonCreator
    static MlpSpec fromJson(@JsonProperty("sizes") List<Integer> sizes, @JsonProperty("activation") String activation,
                            @JsonProperty("outputActivation") String outputActivation, @JsonProperty("init") String init) {
        return new MlpSpec(sizes, Fields.orDefault(activation, "relu"), Fields.orDefault(outputActivation, "identity"),
                Fields.orDefault(init, "torch"));
    }

    @Override
    public Module build() {
        return new Mlp(sizes, Activations.parse(activation, "activation"), Activations.parse(outputActivation, "outputActivation"),
                InitScheme.parse(init, "init").initializer());
    }
}
