package dev.metaforge.plugins.metanet;

import dev.metaforge.api.metanet.MetaNetworkSpec;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.train.ExperimentSpec;
import java.util.List;

/**
 * Metanetworks, registered through {@link java.util.ServiceLoader} like any third-party plugin:
 * {@code gnn} (graph metanetwork with PNA aggregation) and {@code nfn} (NFN/DWS-style equivariant
 * weight-space network for MLPs).
 */
public final class MetanetPlugin implements MetaforgePlugin {
    @Override
    public String name() {
        return "metanet";
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(
                new SpecType(MetaNetworkSpec.class, "gnn", GnnSpec.class),
                new SpecType(MetaNetworkSpec.class, "nfn", NfnSpec.class),
                new SpecType(ExperimentSpec.class, "accuracy-prediction", AccuracyPredictionSpec.class),
                new SpecType(ExperimentSpec.class, "meta-pruning", MetaPruningSpec.class));
    }
}
