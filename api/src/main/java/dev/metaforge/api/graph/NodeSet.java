package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

/**
 * The nodes of the parameter graph that stand for one version of a neuron group: a layer that
 * writes a group creates a new version (so a residual stream is several node sets joined by identity
 * edges), per-neuron parameters become these nodes' features.
 *
 * @param index      position in {@link GraphLayout#nodeSets()}
 * @param group      the neuron group (or {@code "<layer>#index"} for an embedding's vocabulary)
 * @param tieClass   the {@link TieClass} id the nodes are permuted with, or null for vocabulary nodes
 * @param size       number of nodes
 * @param firstNode  the first node's index; the set holds {@code firstNode .. firstNode + size - 1}
 * @param depth      longest path from the input (input sets: 0)
 * @param role       input, hidden or output
 * @param permutable whether a neuron permutation may reorder these nodes (false for nodes tied to
 *                   the module's input or output, whose position is meaningful)
 * @param layer      the layer that created the set ("" for the module input)
 */
public record NodeSet(int index, String group, String tieClass, int size, int firstNode, int depth, NodeRole role,
                      boolean permutable, String layer) {
    public NodeSet {
        requireNonNull(group, "group is null");
        requireNonNull(role, "role is null");
        requireNonNull(layer, "layer is null");
    }
}
