package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import java.util.Locale;

/** Elementwise activations; each is also a parameter-free {@link Module}. JSON names are lowercase. */
public enum Activation implements Module {
    IDENTITY, RELU, TANH, SIGMOID, LEAKY_RELU, SOFTPLUS, SIN;

    public Tensor apply(Tensor x) {
        return switch (this) {
            case IDENTITY -> x;
            case RELU -> x.relu();
            case TANH -> x.tanh();
            case SIGMOID -> x.sigmoid();
            case LEAKY_RELU -> x.leakyRelu(0.01);
            case SOFTPLUS -> x.softplus();
            case SIN -> x.sin();
        };
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of();
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        return apply(input);
    }

    @Override
    public String kind() {
        return "activation";
    }

    /** The JSON name ("relu", "leaky_relu"). */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** True for activations that never decrease (interval bounds map end points to end points). */
    public boolean isMonotone() {
        return this != SIN;
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        b.layer(prefix, kind(), input, input, java.util.Map.of(), java.util.Map.of("activation", jsonName()));
        return input;
    }

    /** Parses "relu", "leaky_relu", ... naming the known values on error. */
    public static Activation parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown activation '" + name + "'; known: "
                    + java.util.Arrays.stream(values()).map(a -> a.name().toLowerCase(Locale.ROOT)).toList(), e);
        }
    }
}
