package dev.metaforge.api.metanet;

import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.spec.Spec;

/**
 * JSON description of a {@link MetaNetwork}; plugins register names such as {@code "gnn"} and
 * {@code "nfn"}.
 *
 * <pre>{@code {"type": "gnn", "hidden": 32, "layers": 3} }</pre>
 */
public interface MetaNetworkSpec extends Spec {
    /** A metanetwork reading networks of {@code layout}. */
    MetaNetwork build(GraphLayout layout);
}
