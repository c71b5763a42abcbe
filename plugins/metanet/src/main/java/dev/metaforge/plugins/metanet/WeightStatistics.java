package dev.metaforge.plugins.metanet;

import dev.metaforge.api.tensor.Params;
import java.util.Arrays;

/**
 * The weight-statistics baseline for predicting a network's accuracy from its weights (Unterthiner
 * et al. 2020, "Predicting Neural Network Accuracy from Weights"): per parameter tensor its mean,
 * variance and the 0, 25, 50, 75 and 100% quantiles, standardised, then ridge regression fitted in
 * closed form on the training networks. The paper's point is that such order-free statistics already
 * rank networks by accuracy well; here they are the baseline a metanetwork must beat
 * ({@code baselineKendallTau}). {@code ExperimentsTest} checks the ridge fit against a known linear
 * relation.
 */
final class WeightStatistics {
    static final int PER_TENSOR = 7;

    private final double[] mean;
    private final double[] std;
    private final double[] coefficients;
    private final double intercept;

    private WeightStatistics(double[] mean, double[] std, double[] coefficients, double intercept) {
        this.mean = mean;
        this.std = std;
        this.coefficients = coefficients;
        this.intercept = intercept;
    }

    /** Features [networks][features] of a weight batch. */
    static double[][] features(Params batch) {
        int b = batch.values().iterator().next().dim(0);
        double[][] out = new double[b][PER_TENSOR * batch.size()];
        int t = 0;
        for (var tensor : batch.values()) {
            double[] v = tensor.toDoubles();
            int per = v.length / b;
            for (int i = 0; i < b; i++) {
                double[] x = Arrays.copyOfRange(v, i * per, (i + 1) * per);
                double m = 0;
                for (double e : x) {
                    m += e / per;
                }
                double var = 0;
                for (double e : x) {
                    var += (e - m) * (e - m) / per;
                }
                Arrays.sort(x);
                double[] f = {m, var, quantile(x, 0), quantile(x, 0.25), quantile(x, 0.5), quantile(x, 0.75), quantile(x, 1)};
                System.arraycopy(f, 0, out[i], t * PER_TENSOR, PER_TENSOR);
            }
            t++;
        }
        return out;
    }

    /** Ridge regression of {@code y} on standardised {@code x} with penalty {@code lambda}. */
    static WeightStatistics fit(double[][] x, double[] y, double lambda) {
        int n = x.length;
        int p = x[0].length;
        double[] mean = new double[p];
        double[] std = new double[p];
        for (double[] row : x) {
            for (int j = 0; j < p; j++) {
                mean[j] += row[j] / n;
            }
        }
        for (double[] row : x) {
            for (int j = 0; j < p; j++) {
                std[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / n;
            }
        }
        for (int j = 0; j < p; j++) {
            std[j] = Math.sqrt(std[j]) + 1e-12;
        }
        double yMean = 0;
        for (double v : y) {
            yMean += v / n;
        }
        double[][] a = new double[p][p + 1];
        for (int i = 0; i < n; i++) {
            double[] z = standardise(x[i], mean, std);
            for (int j = 0; j < p; j++) {
                for (int k = 0; k < p; k++) {
                    a[j][k] += z[j] * z[k];
                }
                a[j][p] += z[j] * (y[i] - yMean);
            }
        }
        for (int j = 0; j < p; j++) {
            a[j][j] += lambda * n;
        }
        return new WeightStatistics(mean, std, solve(a), yMean);
    }

    double predict(double[] x) {
        double[] z = standardise(x, mean, std);
        double s = intercept;
        for (int j = 0; j < z.length; j++) {
            s += z[j] * coefficients[j];
        }
        return s;
    }

    private static double[] standardise(double[] x, double[] mean, double[] std) {
        double[] z = new double[x.length];
        for (int j = 0; j < x.length; j++) {
            z[j] = (x[j] - mean[j]) / std[j];
        }
        return z;
    }

    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** Gaussian elimination with partial pivoting on the augmented matrix [A | b]. */
    private static double[] solve(double[][] a) {
        int p = a.length;
        for (int c = 0; c < p; c++) {
            int pivot = c;
            for (int r = c + 1; r < p; r++) {
                if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) {
                    pivot = r;
                }
            }
            double[] tmp = a[c];
            a[c] = a[pivot];
            a[pivot] = tmp;
            for (int r = c + 1; r < p; r++) {
                double f = a[r][c] / a[c][c];
                for (int k = c; k <= p; k++) {
                    a[r][k] -= f * a[c][k];
                }
            }
        }
        double[] w = new double[p];
        for (int c = p - 1; c >= 0; c--) {
            double s = a[c][p];
            for (int k = c + 1; k < p; k++) {
                s -= a[c][k] * w[k];
            }
            w[c] = s / a[c][c];
        }
        return w;
    }
}
