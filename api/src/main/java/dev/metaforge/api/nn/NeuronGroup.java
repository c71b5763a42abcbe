package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

/**
 * A set of neurons (features or channels) that layers read or write. Layers that share a group id
 * are tied: permuting the group's neurons must permute every parameter axis attached to it (a
 * residual stream, the channels a BatchNorm scales, the heads of an attention layer).
 *
 * @param id          unique within a structure
 * @param size        number of neurons; -1 while not yet known (a flattened map before the layer
 *                    that reads it)
 * @param blocks      the group splits into this many equal blocks (attention heads) that are
 *                    permuted as wholes, never mixed; 1 for none
 * @param derivedFrom the id of a group this one expands (flatten: neuron {@code c * repeat + r}
 *                    belongs to channel {@code c}), or null
 * @param repeat      neurons per neuron of {@code derivedFrom} (1 when not derived)
 */
public record NeuronGroup(String id, int size, int blocks, String derivedFrom, int repeat) {
    public NeuronGroup {
        requireNonNull(id, "id is null");
        if (blocks < 1 || repeat < 1) {
            throw new IllegalArgumentException("group '" + id + "': blocks and repeat must be >= 1");
        }
        if (size > 0 && size % blocks != 0) {
            throw new IllegalArgumentException("group '" + id + "' of " + size + " neurons cannot split into " + blocks + " blocks");
        }
    }

    public boolean isKnown() {
        return size >= 0;
    }
}
