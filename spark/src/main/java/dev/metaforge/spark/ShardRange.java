package dev.metaforge.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Units {@code [from, to)} of a step's batch, shard {@code index} of a partition into contiguous
 * ranges whose sizes differ by at most one.
 *
 * @param index shard number, 0-based
 * @param from  first unit
 * @param to    one past the last unit
 */
record ShardRange(int index, int from, int to) implements Serializable {
    /** {@code shards} contiguous ranges covering {@code [0, units)}, as even as possible. */
    static List<ShardRange> partition(int units, int shards) {
        if (shards < 1 || shards > units) {
            throw new IllegalArgumentException("cannot split " + units + " units into " + shards + " non-empty shards");
        }
        List<ShardRange> out = new ArrayList<>(shards);
        for (int i = 0; i < shards; i++) {
            out.add(new ShardRange(i, (int) ((long) i * units / shards), (int) ((long) (i + 1) * units / shards)));
        }
        return out;
    }
}
