package dev.metaforge.plugins.metanet;

import java.util.Locale;

/** Checks shared by the metanet specs; messages name the JSON field. */
final class Checks {
    private Checks() {
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

    static int nonNegative(int value, String field) {
        if (value < 0) {
            throw new IllegalArgumentException("field '" + field + "' must be >= 0, got " + value);
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

    static double fraction(double value, String field) {
        if (!(value > 0 && value < 1)) {
            throw new IllegalArgumentException("field '" + field + "' must be in (0, 1), got " + value);
        }
        return value;
    }

    static String lower(String value) {
        return value.trim().toLowerCase(Locale.ROOT);
    }
}
