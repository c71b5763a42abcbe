package dev.metaforge.plugins.metanet;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.metanet.MetaNetworkSpec;

/**
 * {@code {"type": "gnn", "hidden": 32, "layers": 3, "outputs": 1, "editScale": 0.01, "aggregation": "blocks"}}: the graph
 * metanetwork ({@link GraphMetaNetwork}: message passing with edge updates and PNA aggregation over
 * the parameter graph of any module that describes its structure).
 *
 * @param hidden    node and edge state width (default 32)
 * @param layers    message-passing layers (default 3)
 * @param outputs   numbers the invariant head predicts per network (default 1)
 * @param editScale   the equivariant head's step: {@code theta' = theta + editScale * dec(h)} (default 0.01)
 * @param aggregation "blocks" (default): messages of each edge set as a dense block, aggregated by axis
 *                    reductions; "segments": gathers by edge endpoint, segment sums and a padded maximum.
 *                    The same function; blocks is faster (fewer, smaller kernels)
 */
public record GnnSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") int hidden,
        @Range(min = 1, max = 256, what = "message-passing layers") int layers,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "outputs per network") int outputs,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "edit step") double editScale,
        String aggregation) implements MetaNetworkSpec {
    public GnnSpec {
        aggregation = Checks.lower(Checks.required(aggregation, "aggregation", "\"blocks\" or \"segments\""));
        if (!aggregation.equals("blocks") && !aggregation.equals("segments")) {
            throw new IllegalArgumentException("field 'aggregation' must be \"blocks\" or \"segments\", got \"" + aggregation + "\"");
        }
        Checks.positive(hidden, "hidden");
        Checks.positive(layers, "layers");
        Checks.positive(outputs, "outputs");
        Checks.nonNegative(editScale, "editScale");
    }

    @JsonCreator
    static GnnSpec fromJson(@JsonProperty("hidden") Integer hidden, @JsonProperty("layers") Integer layers,
                            @JsonProperty("outputs") Integer outputs, @JsonProperty("editScale") Double editScale,
                            @JsonProperty("aggregation") String aggregation) {
        return new GnnSpec(Checks.orDefault(hidden, 32), Checks.orDefault(layers, 3), Checks.orDefault(outputs, 1),
                Checks.orDefault(editScale, 0.01), Checks.orDefault(aggregation, "blocks"));
    }

    @Override
    public MetaNetwork build(GraphLayout layout) {
        return new GraphMetaNetwork(layout, hidden, layers, outputs, editScale, aggregation.equals("blocks"));
    }
}
