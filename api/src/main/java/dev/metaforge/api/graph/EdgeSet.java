package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

/**
 * The edges of the parameter graph that stand for one parameter (or one identity connection).
 * A {@link EdgeKind#WEIGHT} set is dense: edge {@code firstEdge + i * to.size + o} joins node
 * {@code i} of set {@code from} to node {@code o} of set {@code to}. An {@link EdgeKind#IDENTITY}
 * set joins node {@code j} to node {@code j}: edge {@code firstEdge + j}.
 *
 * @param index         position in {@link GraphLayout#edgeSets()}
 * @param layer         the layer's name
 * @param layerKind     the layer's kind ("linear", "conv2d", "residual", ...)
 * @param param         the parameter stored on the edges, or null for an identity set
 * @param kind          weight or identity
 * @param from          source node set index
 * @param to            target node set index
 * @param firstEdge     index of the first edge
 * @param count         number of edges
 * @param featureLength features used per edge: kernel taps times the repeat of a flattened input
 *                      (1 for a dense weight); the rest of the edge's feature vector is 0
 */
public record EdgeSet(int index, String layer, String layerKind, String param, EdgeKind kind, int from, int to, int firstEdge,
                      int count, int featureLength) {
    public EdgeSet {
        requireNonNull(layer, "layer is null");
        requireNonNull(layerKind, "layerKind is null");
        requireNonNull(kind, "kind is null");
    }
}
