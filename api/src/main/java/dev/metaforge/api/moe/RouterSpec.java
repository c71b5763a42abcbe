package dev.metaforge.api.moe;

import dev.metaforge.api.spec.Spec;

/**
 * JSON description of a {@link Router}, e.g. {@code {"type": "switch", "capacityFactor": 1.25}}.
 * The width and the number of experts come from the enclosing layer's spec, which calls
 * {@link #build} once while it is read, so a router that cannot serve that layer (k larger than the
 * number of experts, a capacity that cannot hold a token) is rejected with the JSON path.
 * Plugins register implementations under a type name.
 */
public interface RouterSpec extends Spec {
    /**
     * The router for tokens of width {@code width} and {@code experts} experts.
     *
     * @throws IllegalArgumentException naming the offending field when the router cannot serve them
     */
    Router build(int width, int experts);
}
