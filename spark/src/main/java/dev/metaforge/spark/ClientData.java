package dev.metaforge.spark;

import java.io.Serializable;

/**
 * One client's examples in one round of federated reconnaissance: row-major features
 * {@code [n, dims]} and their class labels.
 *
 * @param client   the client's number
 * @param features {@code n * dims} values
 * @param labels   {@code n} class labels
 * @param dims     features per example
 */
record ClientData(int client, float[] features, int[] labels, int dims) implements Serializable {
    ClientData {
        if (features.length != labels.length * dims) {
            throw new IllegalArgumentException(labels.length + " labels of " + dims + " features need " + labels.length * dims
                    + " values, got " + features.length);
        }
    }

    int size() {
        return labels.length;
    }
}
