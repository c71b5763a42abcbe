package dev.metaforge.plugins.metanet;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.metanet.MetaNetworkSpec;

/**
 * {@code {"type": "nfn", "channels": 16, "layers": 2, "outputs": 1, "editScale": 0.01}}: the
 * NFN/DWS-style equivariant weight-space network for MLPs ({@link NeuralFunctionalNetwork}).
 *
 * @param channels  channels per weight and bias entry (default 16)
 * @param layers    equivariant layers (default 2)
 * @param outputs   numbers the invariant head predicts per network (default 1)
 * @param editScale the equivariant head's step (default 0.01)
 */
public record NfnSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "channels") int channels,
        @Range(min = 1, max = 256, what = "layers") int layers,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "outputs per network") int outputs,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "edit step") double editScale) implements MetaNetworkSpec {
    public NfnSpec {
        Checks.positive(channels, "channels");
        Checks.positive(layers, "layers");
        Checks.positive(outputs, "outputs");
        Checks.nonNegative(editScale, "editScale");
    }

    @JsonCreator
    static NfnSpec fromJson(@JsonProperty("channels") Integer channels, @JsonProperty("layers") Integer layers,
                            @JsonProperty("outputs") Integer outputs, @JsonProperty("editScale") Double editScale) {
        return new NfnSpec(Checks.orDefault(channels, 16), Checks.orDefault(layers, 2), Checks.orDefault(outputs, 1),
                Checks.orDefault(editScale, 0.01));
    }

    @Override
    public MetaNetwork build(GraphLayout layout) {
        return new NeuralFunctionalNetwork(layout, channels, layers, outputs, editScale);
    }
}
