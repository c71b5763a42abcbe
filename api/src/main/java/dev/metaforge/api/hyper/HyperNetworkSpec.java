package dev.metaforge.api.hyper;

import dev.metaforge.api.spec.Spec;

/**
 * JSON description of a {@link HyperNetwork}; plugins register names such as {@code "hmlp"},
 * {@code "mip"}, {@code "chunked"}, {@code "task-conditioned"}, {@code "hyperinterval"},
 * {@code "recurrent"}.
 *
 * <pre>{@code {"type": "mip", "inputs": 1, "hidden": [64, 64]} }</pre>
 */
public interface HyperNetworkSpec extends Spec {
    /** A hypernetwork generating {@code target}'s generated parameters. */
    HyperNetwork build(HyperTarget target);
}
