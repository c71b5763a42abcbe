package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;

/**
 * {@code {"type": "activation", "function": "tanh"}}: an elementwise activation as a layer of a
 * {@code sequential} (no parameters).
 *
 * @param function identity, relu, tanh, sigmoid, leaky_relu, softplus or sin
 */
public record ActivationSpec(String function) implements ModuleSpec {
    public ActivationSpec {
        function = Activations.jsonName(Activations.parse(Fields.required(function, "function", "e.g. \"relu\""), "function"));
    }

    @JsonCreator
    static ActivationSpec fromJson(@JsonProperty("function") String function) {
        return new ActivationSpec(function);
    }

    @Override
    public Module build() {
        return Activations.parse(function, "function");
    }
}
