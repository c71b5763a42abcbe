package dev.metaforge.plugins.hyper;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import java.util.List;
import java.util.Locale;

/** JSON names of weight initializers and activations used by the hypernetwork specs. */
final class Initializers {
    static final List<String> NAMES = List.of("kaiming-fan-out", "kaiming-fan-in", "kaiming-uniform-fan-out", "torch-default", "xavier");

    private Initializers() {
    }

    static Initializer parse(String name) {
        String n = name == null ? "kaiming-fan-out" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "kaiming-fan-out" -> Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT);
            case "kaiming-fan-in" -> Initializer.kaimingNormal(Initializer.FanMode.FAN_IN);
            case "kaiming-uniform-fan-out" -> Initializer.kaimingUniform(Initializer.FanMode.FAN_OUT);
            case "torch-default" -> Initializer.torchDefault();
            case "xavier" -> Initializer.xavierUniform();
            default -> throw new IllegalArgumentException("unknown weight init '" + name + "'; known: " + NAMES);
        };
    }

    static Activation activation(String name) {
        return name == null ? Activation.RELU : Activation.parse(name);
    }

    static List<Integer> hidden(List<Integer> hidden, List<Integer> fallback) {
        return hidden == null ? fallback : List.copyOf(hidden);
    }
}
