package dev.metaforge.api.data;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.random.RandomStream;
import java.util.HashMap;
import java.util.Map;

/**
 * Index draws for samplers, made in Java from a {@link RandomStream} so that one seed gives the
 * same batches and episodes on every backend.
 */
public final class Sampling {
    private Sampling() {
    }

    /**
     * {@code count} distinct indices of {@code 0..n-1} in random order: the first {@code count}
     * entries of a Fisher-Yates shuffle of {@code 0..n-1} (draw {@code i} is
     * {@code i + rng.nextInt(n - i)}), computed in O(count) time and memory, however large n is.
     */
    public static int[] distinct(int n, int count, RandomStream rng) {
        requireNonNull(rng, "rng is null");
        if (count < 0 || count > n) {
            throw new IllegalArgumentException("cannot draw " + count + " distinct indices from " + n);
        }
        // The virtual permutation is the identity except where an entry was swapped away.
        Map<Integer, Integer> moved = new HashMap<>();
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            int j = i + rng.nextInt(n - i);
            int atJ = moved.getOrDefault(j, j);
            int atI = moved.getOrDefault(i, i);
            moved.put(j, atI);
            out[i] = atJ;
        }
        return out;
    }

    /** {@code count} distinct entries of {@code values} in random order, drawn as by {@link #distinct}. */
    public static int[] distinct(int[] values, int count, RandomStream rng) {
        requireNonNull(values, "values is null");
        int[] picks = distinct(values.length, count, rng);
        for (int i = 0; i < picks.length; i++) {
            picks[i] = values[picks[i]];
        }
        return picks;
    }
}
