package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Neuron groups that must be permuted together: groups shared by several layers, and groups linked
 * by a layer that acts neuron by neuron (an activation written as a new group, a residual addition,
 * a normalisation). See {@link NeuronSymmetry}.
 *
 * @param id         the class's name: its first group in the structure's order
 * @param groups     the groups of the class (derived groups such as a flattened map are not listed:
 *                   they follow the class of the group they expand)
 * @param size       neurons per group
 * @param blocks     the class splits into this many blocks (attention heads) permuted as wholes
 * @param permutable false when the class holds the module's input or output neurons, which a
 *                   permutation must leave in place
 */
public record TieClass(String id, List<String> groups, int size, int blocks, boolean permutable) {
    public TieClass {
        requireNonNull(id, "id is null");
        groups = List.copyOf(groups);
        if (blocks < 1 || (size > 0 && size % blocks != 0)) {
            throw new IllegalArgumentException("tie class '" + id + "': " + size + " neurons in " + blocks + " blocks");
        }
    }

    /** Neurons per block. */
    public int blockSize() {
        return size / blocks;
    }
}
