package dev.metaforge.plugins.metanet;

import dev.metaforge.api.nn.Module;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;

/**
 * The classification task a model zoo is trained and measured on: the synthetic task
 * ({@link SyntheticClassification}) or labelled examples read from files ({@link DatasetTask}).
 * Every backend sees the same rows, drawn in Java.
 */
interface ZooTask {
    /** Test examples per forward pass when measuring accuracy; it bounds memory for a CNN zoo, and BatchNorm's plain
     *  form normalises with each chunk's statistics, so it is fixed rather than a tuning knob. */
    int EVAL_CHUNK = 500;

    int classes();

    int trainPoints();

    /** Training labels (a copy is not made: do not modify). */
    long[] yTrain();

    /** The training examples at {@code rows}, [rows.length, ...example layout]. */
    Tensor trainInputs(Engine engine, int[] rows);

    int testPoints();

    /** Test labels (do not modify). */
    long[] yTest();

    /** Test examples {@code from} (inclusive) to {@code to} (exclusive). */
    Tensor testInputs(Engine engine, int from, int to);

    /** A short text that changes when the task's data change, for the zoo's cache key. */
    String fingerprint();

    /**
     * Test accuracy of every network of the weight batch {@code batch}: {@code model.apply} on the test
     * set in chunks of {@link #EVAL_CHUNK}, counting argmax hits per network.
     */
    default double[] accuracy(Module model, Params batch, Engine engine) {
        int b = batch.values().iterator().next().dim(0);
        long[] hits = new long[b];
        long[] y = yTest();
        try (NoGrad ng = NoGrad.enter()) {
            for (int from = 0; from < testPoints(); from += EVAL_CHUNK) {
                int to = Math.min(testPoints(), from + EVAL_CHUNK);
                try (Scope s = Scope.open()) {
                    countHits(model.apply(batch, testInputs(engine, from, to)).toDoubles(), b, to - from, classes(), y, from, hits);
                }
            }
        }
        double[] out = new double[b];
        for (int i = 0; i < b; i++) {
            out[i] = hits[i] / (double) testPoints();
        }
        return out;
    }

    /** Adds to {@code hits[g]} the rows of logits {@code v} [groups, n, k] whose argmax is {@code labels[offset + row]}. */
    static void countHits(double[] v, int groups, int n, int k, long[] labels, int offset, long[] hits) {
        for (int g = 0; g < groups; g++) {
            for (int i = 0; i < n; i++) {
                int at = (g * n + i) * k;
                int best = 0;
                for (int c = 1; c < k; c++) {
                    if (v[at + c] > v[at + best]) {
                        best = c;
                    }
                }
                if (best == labels[offset + i]) {
                    hits[g]++;
                }
            }
        }
    }
}
