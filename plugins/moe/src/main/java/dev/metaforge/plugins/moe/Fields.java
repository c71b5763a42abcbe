package dev.metaforge.plugins.moe;

/** Checks shared by the MoE specs; messages name the JSON field. */
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

    /** A capacity factor given in JSON: absent is allowed (null), present must be > 0. */
    static Double capacityFactor(Double value) {
        if (value != null && (!(value > 0) || value.isInfinite())) {
            throw new IllegalArgumentException("field 'capacityFactor' must be a finite number > 0 (or absent for no capacity), got "
                    + value);
        }
        return value;
    }

    static int kWithin(int k, int experts) {
        if (k <= 0) {
            throw new IllegalArgumentException("field 'k' must be > 0, got " + k);
        }
        if (k > experts) {
            throw new IllegalArgumentException("field 'k' is " + k + " but the layer has only " + experts
                    + " experts; k must be <= experts");
        }
        return k;
    }
}
