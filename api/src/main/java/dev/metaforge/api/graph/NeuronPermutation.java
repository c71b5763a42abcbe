package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One permutation per {@link TieClass} (by class id): position {@code i} of the permuted network
 * holds neuron {@code order[i]} of the original. Classes not listed stay in place.
 *
 * @param orders class id to order; arrays are copied in and out
 */
public record NeuronPermutation(Map<String, int[]> orders) {
    public NeuronPermutation {
        Map<String, int[]> copy = new LinkedHashMap<>();
        requireNonNull(orders, "orders is null").forEach((id, order) -> copy.put(requireNonNull(id, "id is null"), check(id, order)));
        orders = Collections.unmodifiableMap(copy);
    }

    /** The permutation that moves nothing. */
    public static NeuronPermutation identity() {
        return new NeuronPermutation(Map.of());
    }

    /** The order of class {@code id}, or null when the class stays in place. */
    public int[] order(String id) {
        int[] o = orders.get(id);
        return o == null ? null : o.clone();
    }

    /** True when some class is really reordered. */
    public boolean movesSomething() {
        for (int[] o : orders.values()) {
            for (int i = 0; i < o.length; i++) {
                if (o[i] != i) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The permutation that undoes this one. */
    public NeuronPermutation inverse() {
        Map<String, int[]> out = new LinkedHashMap<>();
        orders.forEach((id, o) -> {
            int[] inv = new int[o.length];
            for (int i = 0; i < o.length; i++) {
                inv[o[i]] = i;
            }
            out.put(id, inv);
        });
        return new NeuronPermutation(out);
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof NeuronPermutation p) || !p.orders.keySet().equals(orders.keySet())) {
            return false;
        }
        for (Map.Entry<String, int[]> e : orders.entrySet()) {
            if (!Arrays.equals(e.getValue(), p.orders.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (Map.Entry<String, int[]> e : orders.entrySet()) {
            h += e.getKey().hashCode() ^ Arrays.hashCode(e.getValue());
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NeuronPermutation{");
        orders.forEach((id, o) -> sb.append(sb.length() > 18 ? ", " : "").append(id).append('=').append(Arrays.toString(o)));
        return sb.append('}').toString();
    }

    private static int[] check(String id, int[] order) {
        requireNonNull(order, "order of '" + id + "' is null");
        boolean[] seen = new boolean[order.length];
        for (int v : order) {
            if (v < 0 || v >= order.length || seen[v]) {
                throw new IllegalArgumentException("order of class '" + id + "' is no permutation: " + Arrays.toString(order));
            }
            seen[v] = true;
        }
        return order.clone();
    }
}
