package dev.metaforge.plugins.core;

import java.util.List;
import java.util.Locale;

/** Checks shared by the core specs; messages name the JSON field. */
final class Fields {
    private Fields() {
    }

    static <T> T required(T value, String field, String hint) {
        if (value == null) {
            throw new IllegalArgumentException("field '" + field + "' is required" + (hint.isEmpty() ? "" : ": " + hint));
        }
        return value;
    }

    static <T> T orDefault(T value, T fallback) {
        return value == null ? fallback : value;
    }

    static int positive(int value, String field) {
        if (value <= 0) {
            throw new IllegalArgumentException("field '" + field + "' must be > 0, got " + value);
        }
        return value;
    }

    static double positive(double value, String field) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("field '" + field + "' must be a finite number > 0, got " + value);
        }
        return value;
    }

    static double nonNegative(double value, String field) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("field '" + field + "' must be a finite number >= 0, got " + value);
        }
        return value;
    }

    static double inUnitInterval(double value, String field) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException("field '" + field + "' must be in [0, 1), got " + value);
        }
        return value;
    }

    /**
     * A height-width pair given as one number (square) or two, each at least {@code min}: [h, w].
     */
    static List<Integer> pair(List<Integer> values, String field, int min) {
        if (values == null || values.isEmpty() || values.size() > 2) {
            throw new IllegalArgumentException("field '" + field + "' must be one integer or two [height, width], got " + values);
        }
        for (Integer v : values) {
            if (v == null || v < min) {
                throw new IllegalArgumentException("field '" + field + "' must hold integers >= " + min + ", got " + values);
            }
        }
        return values.size() == 1 ? List.of(values.get(0), values.get(0)) : List.copyOf(values);
    }

    /** Checks that {@code divisor} (the value of {@code field}) divides {@code value}, named {@code what}. */
    static void divides(int divisor, String field, int value, String what) {
        if (value % divisor != 0) {
            throw new IllegalArgumentException("field '" + field + "': " + divisor + " does not divide " + what + " = " + value);
        }
    }

    static String lower(String value) {
        return value.trim().toLowerCase(Locale.ROOT);
    }
}
