package dev.metaforge.plugins.moe;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Shared pieces of the MoE tests, and the independent float64 reference they compare with: plain
 * Java loops over host copies, no tensor op involved.
 */
final class MoeFixtures {
    private MoeFixtures() {
    }

    static Engine engine() {
        return Engine.of(new ReferenceBackend(), DType.FLOAT64);
    }

    static Tensor randomTokens(Engine engine, int n, int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble() * 2 - 1;
        }
        return engine.tensor(x, Shape.of(n, d), engine.defaultDType());
    }

    static MixtureOfExperts layer(Router router, int hidden) {
        int d = router.width();
        return MixtureOfExperts.of(router, Mlp.of(List.of(d, hidden, d), Activation.RELU));
    }

    static Params init(MixtureOfExperts moe, Engine engine, long seed) {
        return moe.init(engine, RandomStream.of(seed));
    }

    /** Host copy of a tensor. */
    static double[] host(Tensor t) {
        return t.toDoubles();
    }

    /**
     * Expert e of a two-layer MLP weight batch applied to row x, in float64 Java:
     * {@code act(x W1[e] + b1[e]) W2[e] + b2[e]}.
     */
    static double[] expertMlp(Params experts, int e, double[] x, Activation act) {
        double[] w1 = experts.get("0.weight").toDoubles();
        double[] b1 = experts.get("0.bias").toDoubles();
        double[] w2 = experts.get("1.weight").toDoubles();
        double[] b2 = experts.get("1.bias").toDoubles();
        int d = experts.get("0.weight").dim(1);
        int h = experts.get("0.weight").dim(2);
        int o = experts.get("1.weight").dim(2);
        double[] hidden = new double[h];
        for (int j = 0; j < h; j++) {
            double s = b1[e * h + j];
            for (int i = 0; i < d; i++) {
                s += x[i] * w1[(e * d + i) * h + j];
            }
            hidden[j] = act == Activation.RELU ? Math.max(0, s) : Math.tanh(s);
        }
        double[] out = new double[o];
        for (int j = 0; j < o; j++) {
            double s = b2[e * o + j];
            for (int i = 0; i < h; i++) {
                s += hidden[i] * w2[(e * h + i) * o + j];
            }
            out[j] = s;
        }
        return out;
    }

    /** Row n of an [N, d] host array. */
    static double[] row(double[] x, int n, int d) {
        double[] r = new double[d];
        System.arraycopy(x, n * d, r, 0, d);
        return r;
    }

    /** Softmax of each row of logits [N, E] = x W, float64. */
    static double[][] softmaxLogits(double[] x, double[] w, int n, int d, int e) {
        double[][] p = new double[n][e];
        for (int t = 0; t < n; t++) {
            double max = Double.NEGATIVE_INFINITY;
            double[] l = new double[e];
            for (int j = 0; j < e; j++) {
                double s = 0;
                for (int i = 0; i < d; i++) {
                    s += x[t * d + i] * w[i * e + j];
                }
                l[j] = s;
                max = Math.max(max, s);
            }
            double z = 0;
            for (int j = 0; j < e; j++) {
                p[t][j] = Math.exp(l[j] - max);
                z += p[t][j];
            }
            for (int j = 0; j < e; j++) {
                p[t][j] /= z;
            }
        }
        return p;
    }

    /** Indices of the k largest entries, descending, ties to the lower index. */
    static int[] topK(double[] v, int k) {
        int[] out = new int[k];
        boolean[] used = new boolean[v.length];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < v.length; i++) {
                if (!used[i] && (best < 0 || v[i] > v[best])) {
                    best = i;
                }
            }
            used[best] = true;
            out[j] = best;
        }
        return out;
    }

    static double maxAbsDiff(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
