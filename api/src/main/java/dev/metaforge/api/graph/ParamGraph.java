package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;

/**
 * The parameter graph of one network or of a weight batch of B networks (B = 1 for one network):
 * node features {@code [B, N, Fn]}, edge features {@code [B, E, Fe]} and the global vector
 * {@code [B, G]} (null when the layout has none). The graph's connectivity lives in its
 * {@link GraphLayout}, shared by every network of the same architecture.
 *
 * @param layout  the layout the features follow
 * @param nodes   node features [B, N, Fn]
 * @param edges   edge features [B, E, Fe]
 * @param globals global features [B, G], or null
 * @param batched whether the parameters it came from carried a weight-batch axis
 */
public record ParamGraph(GraphLayout layout, Tensor nodes, Tensor edges, Tensor globals, boolean batched) {
    public ParamGraph {
        requireNonNull(layout, "layout is null");
        requireNonNull(nodes, "nodes is null");
        requireNonNull(edges, "edges is null");
    }

    /** The graph of {@code params} for {@code module} (builds the layout; reuse a {@link GraphLayout} in loops). */
    public static ParamGraph of(dev.metaforge.api.nn.Module module, Params params) {
        return GraphLayout.of(module).toGraph(params);
    }

    /** Number of networks B. */
    public int batchSize() {
        return nodes.dim(0);
    }

    /** The parameters this graph holds (exactly the ones it was built from, if unchanged). */
    public Params toParams() {
        return layout.toParams(this);
    }

    /** The same graph with new node and edge features (e.g. a metanetwork's output). */
    public ParamGraph withFeatures(Tensor newNodes, Tensor newEdges) {
        return new ParamGraph(layout, newNodes, newEdges, globals, batched);
    }

    /**
     * The graph with its nodes and edges relabelled by a neuron permutation: equal to the graph of
     * the permuted parameters ({@link NeuronSymmetry#apply}).
     */
    public ParamGraph permuted(NeuronPermutation p) {
        Tensor n = nodes.gather(nodes.engine().indices(NeuronSymmetry.toLongs(layout.nodeOrder(p)), layout.nodeCount()), 1);
        Tensor e = edges.gather(edges.engine().indices(NeuronSymmetry.toLongs(layout.edgeOrder(p)), layout.edgeCount()), 1);
        return new ParamGraph(layout, n, e, globals, batched);
    }
}
