package dev.metaforge.plugins.metanet;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.SplittableRandom;

/**
 * A classification task drawn in Java from a seed (so every backend sees the same data): Gaussian
 * inputs labelled by a random tanh "teacher" network, {@code argmax(tanh(x A) B)}. Learnable, but
 * not linearly separable, so the accuracy a student reaches depends on how it was trained.
 *
 * @param inputs  input features d
 * @param classes classes k
 * @param xTrain  [trainPoints * d]
 * @param yTrain  [trainPoints]
 * @param xTest   [testPoints * d]
 * @param yTest   [testPoints]
 */
record SyntheticClassification(int inputs, int classes, double[] xTrain, long[] yTrain, double[] xTest, long[] yTest) implements ZooTask {
    private static final int TEACHER_HIDDEN = 32;

    static SyntheticClassification generate(int inputs, int classes, int trainPoints, int testPoints, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] a = new double[inputs * TEACHER_HIDDEN];
        double[] b = new double[TEACHER_HIDDEN * classes];
        for (int i = 0; i < a.length; i++) {
            a[i] = gaussian(r) * 1.5 / Math.sqrt(inputs);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = gaussian(r);
        }
        double[] xTrain = new double[trainPoints * inputs];
        long[] yTrain = new long[trainPoints];
        draw(r, a, b, inputs, classes, xTrain, yTrain);
        double[] xTest = new double[testPoints * inputs];
        long[] yTest = new long[testPoints];
        draw(r, a, b, inputs, classes, xTest, yTest);
        return new SyntheticClassification(inputs, classes, xTrain, yTrain, xTest, yTest);
    }

    @Override
    public int trainPoints() {
        return yTrain.length;
    }

    @Override
    public int testPoints() {
        return yTest.length;
    }

    @Override
    public Tensor trainInputs(Engine engine, int[] rows) {
        double[] x = new double[rows.length * inputs];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(xTrain, rows[i] * inputs, x, i * inputs, inputs);
        }
        return engine.tensor(x, Shape.of(rows.length, inputs), engine.defaultDType());
    }

    @Override
    public Tensor testInputs(Engine engine, int from, int to) {
        return engine.tensor(java.util.Arrays.copyOfRange(xTest, from * inputs, to * inputs), Shape.of(to - from, inputs),
                engine.defaultDType());
    }

    /** The task follows from its spec's seed and sizes, which are already in the cache key. */
    @Override
    public String fingerprint() {
        return "synthetic";
    }

    /** One-hot rows [n, k] of {@code labels} in {@code dtype}. */
    static Tensor oneHot(Engine engine, long[] labels, int classes, DType dtype, int... leading) {
        double[] v = new double[labels.length * classes];
        for (int i = 0; i < labels.length; i++) {
            v[i * classes + (int) labels[i]] = 1;
        }
        int[] dims = new int[leading.length + 2];
        System.arraycopy(leading, 0, dims, 0, leading.length);
        int prod = 1;
        for (int l : leading) {
            prod *= l;
        }
        dims[leading.length] = labels.length / prod;
        dims[leading.length + 1] = classes;
        return engine.tensor(v, Shape.of(dims), dtype);
    }

    private static void draw(SplittableRandom r, double[] a, double[] b, int d, int k, double[] x, long[] y) {
        int n = y.length;
        double[] h = new double[TEACHER_HIDDEN];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x[i * d + j] = gaussian(r);
            }
            for (int u = 0; u < TEACHER_HIDDEN; u++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    s += x[i * d + j] * a[j * TEACHER_HIDDEN + u];
                }
                h[u] = Math.tanh(s);
            }
            int best = 0;
            double bestValue = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                double s = 0;
                for (int u = 0; u < TEACHER_HIDDEN; u++) {
                    s += h[u] * b[u * k + c];
                }
                if (s > bestValue) {
                    bestValue = s;
                    best = c;
                }
            }
            y[i] = best;
        }
    }

    static double gaussian(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
