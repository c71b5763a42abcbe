package dev.metaforge.plugins.core;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The built-in one-dimensional functions a {@code regression} experiment fits. */
public enum TargetFunction {
    SIN, COS, TANH, SQUARE, CUBE, ABS, GAUSSIAN, SINC;

    /** The value at {@code x}, in float64. */
    public double apply(double x) {
        return switch (this) {
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TANH -> Math.tanh(x);
            case SQUARE -> x * x;
            case CUBE -> x * x * x;
            case ABS -> Math.abs(x);
            case GAUSSIAN -> Math.exp(-x * x);
            case SINC -> x == 0 ? 1.0 : Math.sin(x) / x;
        };
    }

    /** The JSON name ("sin", "gaussian", ...). */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(TargetFunction::jsonName).toList();
    }

    /** Parses a JSON name; an unknown one is an error naming the known names. */
    public static TargetFunction parse(String name) {
        for (TargetFunction f : values()) {
            if (f.jsonName().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        throw new IllegalArgumentException("field 'function' is '" + name + "', not a known function; known: " + names());
    }
}
