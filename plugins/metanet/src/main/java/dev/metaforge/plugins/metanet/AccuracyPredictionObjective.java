package dev.metaforge.plugins.metanet;

import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.metanet.MetaNetworkSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Trains a metanetwork's invariant head to predict zoo networks' test accuracy (see {@link AccuracyPredictionSpec}). */
final class AccuracyPredictionObjective implements dev.metaforge.api.train.Objective {
    private final Engine engine;
    private final ModelZoo zoo;
    private final MetaNetwork meta;
    private final int batch;
    private final int[] train;
    private final int[] test;
    private final double mean;
    private final double std;
    private Map<String, Double> baseline;

    AccuracyPredictionObjective(Engine engine, ModelZoo zoo, MetaNetworkSpec spec, int batch, double holdout) {
        this.engine = engine;
        this.zoo = zoo;
        this.meta = spec.build(GraphLayout.of(zoo.model));
        if (meta.outputs() != 1) {
            throw new IllegalArgumentException("accuracy prediction needs a metanetwork with \"outputs\": 1, got " + meta.outputs());
        }
        this.batch = batch;
        int n = zoo.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(zoo.spec.seed() + 101);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int held = Math.max(2, (int) Math.round(n * holdout));
        if (held >= n - 1) {
            throw new IllegalArgumentException("a zoo of " + n + " networks leaves no training networks with holdout " + holdout);
        }
        this.test = Arrays.copyOfRange(order, n - held, n);
        this.train = Arrays.copyOfRange(order, 0, n - held);
        double m = 0;
        for (int i : train) {
            m += zoo.accuracy[i] / train.length;
        }
        double v = 0;
        for (int i : train) {
            v += (zoo.accuracy[i] - m) * (zoo.accuracy[i] - m) / train.length;
        }
        this.mean = m;
        this.std = Math.sqrt(v) + 1e-9;
    }

    /** Number of held-out networks the metrics are measured on (also logged when the experiment is built). */
    int heldOut() {
        return test.length;
    }

    /** Says what the metrics measure; the held-out count is a constant, so it is logged rather than plotted. */
    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("eval kendallTau", "rank agreement (tau-b) of the metanetwork's predicted and the true test accuracy of the "
                + test.length + " held-out networks");
        d.put("eval baselineKendallTau", "the same for ridge regression on weight statistics, fitted on the " + train.length
                + " training networks");
        d.put("eval rmse", "root-mean-square error of the predicted accuracy on the held-out networks");
        d.put("eval heldOutAccuracyStd", "spread of the held-out networks' true accuracy (the rmse of always predicting the mean)");
        return d;
    }

    @Override
    public Params init(RandomStream rng) {
        return meta.init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        int[] rows = new int[Math.min(batch, train.length)];
        double[] y = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = train[rng.nextInt(train.length)];
            y[i] = (zoo.accuracy[rows[i]] - mean) / std;
        }
        Tensor predicted = meta.predict(params, meta.layout().toGraph(zoo.select(rows)));
        return predicted.sub(engine.tensor(y, Shape.of(rows.length, 1), engine.defaultDType())).square().mean();
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        double[] truth = new double[test.length];
        double[] predicted = new double[test.length];
        for (int from = 0; from < test.length; from += batch) {
            int[] rows = Arrays.copyOfRange(test, from, Math.min(test.length, from + batch));
            try (Scope s = Scope.open()) {
                double[] p = meta.predict(params, meta.layout().toGraph(zoo.select(rows))).toDoubles();
                for (int i = 0; i < rows.length; i++) {
                    predicted[from + i] = mean + std * p[i];
                    truth[from + i] = zoo.accuracy[rows[i]];
                }
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("kendallTau", Ranking.kendallTau(predicted, truth));
        out.put("rmse", rmse(predicted, truth));
        out.putAll(baseline());
        return out;
    }

    /** The weight-statistics baseline, fitted once on the training networks. */
    private Map<String, Double> baseline() {
        if (baseline == null) {
            try (Scope s = Scope.open()) {
                double[][] xTrain = WeightStatistics.features(zoo.select(train));
                double[] yTrain = new double[train.length];
                for (int i = 0; i < train.length; i++) {
                    yTrain[i] = zoo.accuracy[train[i]];
                }
                WeightStatistics fit = WeightStatistics.fit(xTrain, yTrain, 1e-2);
                double[][] xTest = WeightStatistics.features(zoo.select(test));
                double[] predicted = new double[test.length];
                double[] truth = new double[test.length];
                for (int i = 0; i < test.length; i++) {
                    predicted[i] = fit.predict(xTest[i]);
                    truth[i] = zoo.accuracy[test[i]];
                }
                Map<String, Double> b = new LinkedHashMap<>();
                b.put("baselineKendallTau", Ranking.kendallTau(predicted, truth));
                b.put("baselineRmse", rmse(predicted, truth));
                b.put("heldOutAccuracyStd", stdOf(truth));
                baseline = b;
            }
        }
        return baseline;
    }

    private static double rmse(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]) / a.length;
        }
        return Math.sqrt(s);
    }

    private static double stdOf(double[] a) {
        double m = Arrays.stream(a).average().orElse(0);
        double v = 0;
        for (double x : a) {
            v += (x - m) * (x - m) / a.length;
        }
        return Math.sqrt(v);
    }
}
