package dev.metaforge.backend.dl4j;

/**
 * The positions of the first k entries, in order, of every line of a row-major array along one
 * axis, in Java: the k largest for topK, the whole line for argsort and sort. libnd4j's
 * {@code top_k} cannot be used: in 1.0.0-M2.1 it returns repeated indices when values tie (e.g.
 * [1,3,3,2,3,0] with k=4 gives indices 4,4,3,0), and the SPI wants ties in ascending index order
 * (a stable order) both ways.
 *
 * <p>Order, descending: larger value first; ascending: smaller value first. Equal values (0.0 and
 * -0.0 included) by lower index either way; NaN counts as larger than every number (NumPy sorts NaN
 * last, so a descending order puts it first).
 */
final class TopKSelector {
    /** Above this k a full stable sort of the line beats insertion into a sorted buffer. */
    private static final int INSERTION_MAX_K = 32;

    /** Whether the entry at position {@code i} of the current line comes before the one at {@code j}. */
    private interface Order {
        boolean before(int i, int j);
    }

    private TopKSelector() {
    }

    /**
     * Selects along the middle axis of an array viewed as [outer, n, inner].
     *
     * @return positions along the axis, laid out as [outer, k, inner]
     */
    static int[] select(double[] values, int outer, int n, int inner, int k) {
        return select(values, outer, n, inner, k, true);
    }

    /** As {@link #select(double[], int, int, int, int)}, in either direction. */
    static int[] select(double[] values, int outer, int n, int inner, int k, boolean descending) {
        int[] out = new int[outer * k * inner];
        int[] line = new int[Math.max(n, 1)];
        int[] scratch = new int[Math.max(n, 1)];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                int base = o * n * inner + j;
                Order order = (a, b) -> {
                    double va = values[base + a * inner];
                    double vb = values[base + b * inner];
                    if (va > vb) {
                        return descending;
                    }
                    if (va < vb) {
                        return !descending;
                    }
                    boolean nanA = va != va;
                    boolean nanB = vb != vb;
                    if (nanA != nanB) {
                        return descending ? nanA : nanB;
                    }
                    return a < b;
                };
                selectLine(order, n, k, line, scratch);
                for (int r = 0; r < k; r++) {
                    out[(o * k + r) * inner + j] = line[r];
                }
            }
        }
        return out;
    }

    /** As {@link #select(double[], int, int, int, int)} for INT64 data, compared exactly. */
    static int[] select(long[] values, int outer, int n, int inner, int k) {
        return select(values, outer, n, inner, k, true);
    }

    /** As {@link #select(long[], int, int, int, int)}, in either direction. */
    static int[] select(long[] values, int outer, int n, int inner, int k, boolean descending) {
        int[] out = new int[outer * k * inner];
        int[] line = new int[Math.max(n, 1)];
        int[] scratch = new int[Math.max(n, 1)];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                int base = o * n * inner + j;
                Order order = (a, b) -> {
                    long va = values[base + a * inner];
                    long vb = values[base + b * inner];
                    return (descending ? va > vb : va < vb) || (va == vb && a < b);
                };
                selectLine(order, n, k, line, scratch);
                for (int r = 0; r < k; r++) {
                    out[(o * k + r) * inner + j] = line[r];
                }
            }
        }
        return out;
    }

    /** Leaves the first k positions of the line, in order, in {@code line[0..k)}. */
    private static void selectLine(Order order, int n, int k, int[] line, int[] scratch) {
        if (k == 0) {
            return;
        }
        if (k <= INSERTION_MAX_K) {
            int count = 0;
            for (int i = 0; i < n; i++) {
                if (count == k && !order.before(i, line[k - 1])) {
                    continue;
                }
                int p = count < k ? count++ : k - 1;
                while (p > 0 && order.before(i, line[p - 1])) {
                    line[p] = line[p - 1];
                    p--;
                }
                line[p] = i;
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            line[i] = i;
        }
        mergeSort(order, line, scratch, 0, n);
    }

    /** Stable merge sort of {@code a[from, to)}; stability keeps equal values in index order. */
    private static void mergeSort(Order order, int[] a, int[] tmp, int from, int to) {
        if (to - from < 2) {
            return;
        }
        int mid = (from + to) >>> 1;
        mergeSort(order, a, tmp, from, mid);
        mergeSort(order, a, tmp, mid, to);
        if (!order.before(a[mid], a[mid - 1])) {
            return;
        }
        System.arraycopy(a, from, tmp, from, to - from);
        int i = from;
        int j = mid;
        for (int p = from; p < to; p++) {
            if (j >= to || (i < mid && !order.before(tmp[j], tmp[i]))) {
                a[p] = tmp[i++];
            } else {
                a[p] = tmp[j++];
            }
        }
    }
}
