package dev.metaforge.plugins.hyper;

/** Field checks shared by the spec records: errors name the spec type and the field. */
final class SpecChecks {
    private SpecChecks() {
    }

    static int required(Integer value, String type, String field) {
        if (value == null) {
            throw new IllegalArgumentException("spec '" + type + "': field '" + field + "' is required");
        }
        return positive(value, type, field);
    }

    static int positive(int value, String type, String field) {
        if (value <= 0) {
            throw new IllegalArgumentException("spec '" + type + "': field '" + field + "' must be positive, got " + value);
        }
        return value;
    }

    static <T> T requiredObject(T value, String type, String field) {
        if (value == null) {
            throw new IllegalArgumentException("spec '" + type + "': field '" + field + "' is required");
        }
        return value;
    }
}
