package dev.metaforge.plugins.core;

import dev.metaforge.api.nn.Activation;

/** Activation names in specs: the lowercase {@link Activation} names ("relu", "leaky_relu", ...). */
final class Activations {
    private Activations() {
    }

    /** The activation called {@code name}; an unknown one is an error naming the field and the known names. */
    static Activation parse(String name, String field) {
        try {
            return Activation.parse(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("field '" + field + "': " + e.getMessage(), e);
        }
    }

    static String jsonName(Activation a) {
        return a.name().toLowerCase(java.util.Locale.ROOT);
    }
}
