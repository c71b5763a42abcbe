package dev.metaforge.api.metanet;


import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.ParamGraph;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;

/**
 * A network that reads other networks' weights, as a {@link ParamGraph} of one {@link GraphLayout}.
 * Like a {@link dev.metaforge.api.nn.Module} it declares its own parameters and holds none.
 *
 * <p>Two heads, both defined on a weight batch of B networks:
 * <ul>
 *   <li>{@link #predict}: {@code [B, outputs]} numbers about each network (its accuracy, say),
 *       which must not depend on the order of its hidden neurons (invariance);</li>
 *   <li>{@link #edit}: a new graph of the same layout, {@code theta' = theta + scale * dec(h)},
 *       whose features must permute with the input's (equivariance).</li>
 * </ul>
 * Both symmetries are checked by {@link dev.metaforge.api.graph.PermutationHarness} (and by the TCK's
 * METANET rules for every built-in metanetwork).
 *
 * <pre>{@code
 * MetaNetwork meta = specs.read(json, MetaNetworkSpec.class, "inline").build(GraphLayout.of(mlp));
 * Params own = meta.init(engine, RandomStream.of(0));
 * Tensor accuracy = meta.predict(own, meta.layout().toGraph(zooBatch));   // [B, 1]
 * Params edited = meta.edit(own, meta.layout().toGraph(weights)).toParams();
 * }</pre>
 */
public interface MetaNetwork {
    /** The layout of the networks it reads. */
    GraphLayout layout();

    /** Its own trainable parameters. */
    List<ParamSpec> parameters();

    /** Numbers {@link #predict} returns per network. */
    int outputs();

    /** The JSON type name of built-in metanetworks ("gnn", "nfn"). */
    default String kind() {
        return "metanetwork";
    }

    /** Invariant head: {@code [B, outputs]} for the B networks of {@code graph}. */
    Tensor predict(Params params, ParamGraph graph);

    /** Equivariant head: the edited networks, as a graph of the same layout. */
    ParamGraph edit(Params params, ParamGraph graph);

    /** Fresh parameters from each spec's initializer, one seed per parameter from {@code rng}. */
    default Params init(Engine engine, RandomStream rng) {
        return ParamSpec.initAll(parameters(), engine, rng);
    }

    /** Scalars in its own parameters. */
    default long parameterCount() {
        return ParamSpec.count(parameters());
    }
}
