package dev.metaforge.plugins.core;

import dev.metaforge.api.nn.Initializer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Weight initialisations selectable by name in module specs ({@code "init": "xavier"}); biases
 * always use PyTorch's default.
 */
enum InitScheme {
    /** PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
    TORCH(Initializer.torchDefault()),
    /** He et al. 2015: U(-b, b), b = sqrt(6 / fan_in). */
    KAIMING_UNIFORM_FAN_IN(Initializer.kaimingUniform(Initializer.FanMode.FAN_IN)),
    /** He et al. 2015: U(-b, b), b = sqrt(6 / fan_out). */
    KAIMING_UNIFORM_FAN_OUT(Initializer.kaimingUniform(Initializer.FanMode.FAN_OUT)),
    /** Glorot and Bengio 2010: U(-b, b), b = sqrt(6 / (fan_in + fan_out)). */
    XAVIER(Initializer.xavierUniform());

    private final Initializer initializer;

    InitScheme(Initializer initializer) {
        this.initializer = initializer;
    }

    Initializer initializer() {
        return initializer;
    }

    /** The JSON name, e.g. "kaiming_uniform_fan_in". */
    String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    static List<String> names() {
        return Arrays.stream(values()).map(InitScheme::jsonName).toList();
    }

    /** Parses a JSON name; an unknown one is an error naming the field and the known names. */
    static InitScheme parse(String name, String field) {
        for (InitScheme s : values()) {
            if (s.jsonName().equals(Fields.lower(name))) {
                return s;
            }
        }
        throw new IllegalArgumentException("field '" + field + "' is '" + name + "', not a known initialisation; known: " + names());
    }
}
