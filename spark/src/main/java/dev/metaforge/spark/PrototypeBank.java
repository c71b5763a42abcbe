package dev.metaforge.spark;

import java.util.Map;
import java.util.TreeMap;

/**
 * The server's prototypes in federated reconnaissance: per class, the count-weighted average of
 * every mean embedding reported for it, {@code μ_c = Σ_k n_k μ_k / Σ_k n_k}, which equals the mean
 * of all the class's examples however they were spread over clients and rounds. Adding a class
 * (or more examples of one) changes nothing else: no retraining. Classification is by the nearest
 * prototype (squared Euclidean distance), as in prototypical networks.
 */
final class PrototypeBank {
    private final Map<Integer, double[]> means = new TreeMap<>();
    private final Map<Integer, Long> counts = new TreeMap<>();

    /** Merges one client's report. */
    void merge(ClientPrototypes report) {
        report.means().forEach((label, mean) -> merge(label, mean, report.counts().get(label)));
    }

    /** Merges {@code count} examples of class {@code label} whose mean embedding is {@code mean}. */
    void merge(int label, double[] mean, long count) {
        if (count <= 0) {
            throw new IllegalArgumentException("class " + label + ": a mean of " + count + " examples");
        }
        double[] old = means.get(label);
        if (old == null) {
            means.put(label, mean.clone());
            counts.put(label, count);
            return;
        }
        if (old.length != mean.length) {
            throw new IllegalArgumentException("class " + label + ": embeddings of " + mean.length + " and " + old.length + " dimensions");
        }
        long n = counts.get(label);
        long total = n + count;
        for (int d = 0; d < old.length; d++) {
            old[d] = (n * old[d] + count * mean[d]) / total;
        }
        counts.put(label, total);
    }

    int classes() {
        return means.size();
    }

    long count(int label) {
        return counts.getOrDefault(label, 0L);
    }

    double[] prototype(int label) {
        double[] p = means.get(label);
        return p == null ? null : p.clone();
    }

    /** The label of the prototype nearest to {@code embedding}. */
    int classify(double[] embedding) {
        int best = -1;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (Map.Entry<Integer, double[]> e : means.entrySet()) {
            double[] p = e.getValue();
            double d = 0;
            for (int i = 0; i < p.length; i++) {
                double diff = embedding[i] - p[i];
                d += diff * diff;
            }
            if (d < bestDistance) {
                bestDistance = d;
                best = e.getKey();
            }
        }
        return best;
    }
}
