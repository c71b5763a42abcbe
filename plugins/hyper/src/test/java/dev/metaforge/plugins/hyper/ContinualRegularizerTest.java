package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.LabelledBatch;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Chandra et al.'s importance-weighted output regularizer and von Oswald et al.'s look-ahead, each
 * against a float64 computation by hand: the Fisher from per-example softmax gradients written out,
 * the look-ahead step from finite differences of the task loss.
 */
class ContinualRegularizerTest {
    private static final int STEPS = 3;

    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = HyperFixtures.engine();
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** One linear layer [2 -> 2], weight and bias generated. */
    private static HyperTarget linear() {
        return HyperTarget.of(Mlp.of(List.of(2, 2), Activation.TANH));
    }

    private static TaskEmbeddingHyperNetwork hyper(HyperTarget target, double lookAhead) {
        return new TaskEmbeddingHyperNetwork(3, 2,
                new HmlpHyperNetwork(target.generated(), 2, List.of(4), Activation.TANH, Initializer.torchDefault()), lookAhead);
    }

    private ContinualObjective objective(HyperTarget target, TaskEmbeddingHyperNetwork hyper, ContinualObjective.Regularizer kind) {
        return new ContinualObjective(engine, target, hyper, new SplitBlobsSequence(3, 0.4, 10, 7), STEPS, 4, 0.5, 0.5, kind, 5);
    }

    /** Adds {@code delta} to every hypernetwork parameter entry, each with its own sign pattern. */
    private Params nudged(Params params, double delta) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : params.names()) {
            Tensor t = params.get(name);
            double[] v = t.toDoubles();
            if (name.startsWith(HyperObjective.HYPER + ".")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] += delta * ((i % 3) - 1 + 0.5);
                }
            }
            out.put(name, engine.tensor(v, t.shape(), t.dtype()));
        }
        return Params.of(out);
    }

    private double[] generatedFor(TaskEmbeddingHyperNetwork hyper, Params params, int task, String name) {
        try (NoGrad noGrad = NoGrad.enter()) {
            return hyper.generate(params.scoped(HyperObjective.HYPER), hyper.taskIds(engine, task)).get(name).toDoubles();
        }
    }

    /** Per-example empirical Fisher of a linear softmax layer, written out: ∂CE/∂W_ij = x_i (p_j − y_j), ∂CE/∂b_j = p_j − y_j. */
    private double[][] fisherByHand(double[] w, double[] b, LabelledBatch data) {
        double[] x = data.inputs().toDoubles();
        long[] y = data.labels().toLongs();
        int n = y.length;
        double[] fw = new double[4];
        double[] fb = new double[2];
        for (int s = 0; s < n; s++) {
            double[] z = new double[2];
            for (int j = 0; j < 2; j++) {
                z[j] = b[j] + x[s * 2] * w[j] + x[s * 2 + 1] * w[2 + j];
            }
            double m = Math.max(z[0], z[1]);
            double e0 = Math.exp(z[0] - m);
            double e1 = Math.exp(z[1] - m);
            double[] p = {e0 / (e0 + e1), e1 / (e0 + e1)};
            for (int j = 0; j < 2; j++) {
                double d = p[j] - (y[s] == j ? 1 : 0);
                fb[j] += d * d / n;
                for (int i = 0; i < 2; i++) {
                    fw[i * 2 + j] += (x[s * 2 + i] * d) * (x[s * 2 + i] * d) / n;
                }
            }
        }
        double mean = 0;
        for (double v : fw) {
            mean += v / 6;
        }
        for (double v : fb) {
            mean += v / 6;
        }
        for (int i = 0; i < 4; i++) {
            fw[i] /= mean;
        }
        for (int j = 0; j < 2; j++) {
            fb[j] /= mean;
        }
        return new double[][] {fw, fb};
    }

    @Test
    void importanceIsEachTasksNormalisedFisherTakenWhenTheTaskEnds() {
        HyperTarget target = linear();
        TaskEmbeddingHyperNetwork hyper = hyper(target, 0);
        ContinualObjective objective = objective(target, hyper, ContinualObjective.Regularizer.IMPORTANCE);
        SplitBlobsSequence tasks = new SplitBlobsSequence(3, 0.4, 10, 7);
        Params p1 = objective.init(RandomStream.of(1));
        objective.beforeStep(p1, STEPS);                    // task 1 begins: Fisher of task 0 at p1
        Params p2 = nudged(p1, 0.05);
        objective.beforeStep(p2, 2 * STEPS);                // task 2 begins: Fisher of task 1 at p2; task 0's row kept
        Params state = objective.state();
        assertEquals(List.of(2, 2, 2), List.of(state.get("importance.0.weight").shape().dims()[0],
                state.get("importance.0.weight").shape().dims()[1], state.get("importance.0.weight").shape().dims()[2]));
        double[] fw = state.get("importance.0.weight").toDoubles();
        double[] fb = state.get("importance.0.bias").toDoubles();
        Params[] at = {p1, p2};
        for (int k = 0; k < 2; k++) {
            LabelledBatch data = tasks.sample(engine, k, RandomStream.of(ContinualObjective.FISHER_SEED + k), 5);
            double[][] hand = fisherByHand(generatedFor(hyper, at[k], k, "0.weight"), generatedFor(hyper, at[k], k, "0.bias"), data);
            for (int i = 0; i < 4; i++) {
                assertEquals(hand[0][i], fw[k * 4 + i], 1e-10, "task " + k + " weight importance " + i);
            }
            for (int j = 0; j < 2; j++) {
                assertEquals(hand[1][j], fb[k * 2 + j], 1e-10, "task " + k + " bias importance " + j);
            }
        }
    }

    @Test
    void importanceRegularizerIsTheFisherWeightedDriftByHand() {
        HyperTarget target = linear();
        TaskEmbeddingHyperNetwork hyper = hyper(target, 0);
        ContinualObjective objective = objective(target, hyper, ContinualObjective.Regularizer.IMPORTANCE);
        Params p1 = objective.init(RandomStream.of(2));
        objective.beforeStep(p1, STEPS);
        objective.beforeStep(nudged(p1, 0.03), 2 * STEPS);
        Params p3 = nudged(p1, 0.11);
        Params state = objective.state();
        double hand = 0;
        for (String name : List.of("0.weight", "0.bias")) {
            double[] star = state.get("snapshot." + name).toDoubles();
            double[] f = state.get("importance." + name).toDoubles();
            int per = star.length / 2;
            for (int k = 0; k < 2; k++) {
                double[] now = generatedFor(hyper, p3, k, name);
                for (int i = 0; i < per; i++) {
                    double d = now[i] - star[k * per + i];
                    hand += f[k * per + i] * d * d;
                }
            }
        }
        hand /= 2;                                           // 1/T over the two earlier tasks
        double got = objective.regularizer(p3.scoped(HyperObjective.HYPER), 2, null, null).item();
        assertTrue(hand > 1e-6, "the nudge must move the generated weights: " + hand);
        assertEquals(hand, got, 1e-12 * Math.max(1, hand));
        // The plain output regularizer on the same state differs (the weights are not all 1).
        double plain = dev.metaforge.api.hyper.OutputRegularizer.drift(
                hyper.generate(p3.scoped(HyperObjective.HYPER), hyper.taskIds(engine, 0, 1)), state.scoped("snapshot")).item();
        assertTrue(Math.abs(plain - got) > 1e-6 * plain, "importance weighting must change the value: " + plain + " vs " + got);
    }

    @Test
    void lookAheadEvaluatesTheRegularizerAfterTheCandidateStepOfTheTaskLoss() {
        HyperTarget target = linear();
        double alpha = 0.3;
        TaskEmbeddingHyperNetwork hyper = hyper(target, alpha);
        ContinualObjective objective = objective(target, hyper, ContinualObjective.Regularizer.OUTPUT);
        Params p1 = objective.init(RandomStream.of(4));
        objective.beforeStep(p1, STEPS);
        Params p2 = nudged(p1, 0.07);
        Params h = p2.scoped(HyperObjective.HYPER);
        Params ordinary = p2.scoped(HyperObjective.TARGET);
        LabelledBatch batch = new SplitBlobsSequence(3, 0.4, 10, 7).sample(engine, 1, RandomStream.of(9), 6);
        Function<Params, Tensor> taskLoss = q -> Losses.crossEntropyWithLabels(
                target.apply(hyper.generate(q, hyper.taskIds(engine, new int[] {1})), ordinary, batch.inputs()).squeeze(0), batch.labels());

        Params tracked = h.requiringGrad();
        double got = objective.regularizer(tracked, 1, taskLoss.apply(tracked), null).item();

        // Reference: ΔΘ from central finite differences of the task loss, then the drift of task 0 at Θ + ΔΘ, by hand.
        double eps = 1e-6;
        Map<String, Tensor> moved = new LinkedHashMap<>();
        for (String name : h.names()) {
            double[] base = h.get(name).toDoubles();
            double[] out = base.clone();
            for (int i = 0; i < base.length; i++) {
                double[] plus = base.clone();
                double[] minus = base.clone();
                plus[i] += eps;
                minus[i] -= eps;
                double g = (lossWith(taskLoss, h, name, plus) - lossWith(taskLoss, h, name, minus)) / (2 * eps);
                out[i] = base[i] - alpha * g;
            }
            moved.put(name, engine.tensor(out, h.get(name).shape(), h.get(name).dtype()));
        }
        Params state = objective.state();
        double reference = 0;
        double atTheta = 0;
        for (String name : List.of("0.weight", "0.bias")) {
            double[] star = state.get("snapshot." + name).toDoubles();
            double[] ahead = hyper.generate(Params.of(moved), hyper.taskIds(engine, 0)).get(name).toDoubles();
            double[] now = hyper.generate(h, hyper.taskIds(engine, 0)).get(name).toDoubles();
            for (int i = 0; i < star.length; i++) {
                reference += (ahead[i] - star[i]) * (ahead[i] - star[i]);
                atTheta += (now[i] - star[i]) * (now[i] - star[i]);
            }
        }
        assertEquals(reference, got, 1e-8 * Math.max(1, reference));
        // A check that can fail: the look-ahead moves the value away from the drift at Θ.
        assertTrue(Math.abs(reference - atTheta) > 1e-5, "the look-ahead must matter here: " + reference + " vs " + atTheta);
    }

    private double lossWith(Function<Params, Tensor> loss, Params h, String name, double[] values) {
        try (NoGrad noGrad = NoGrad.enter(); Scope s = Scope.open()) {
            Map<String, Tensor> m = new LinkedHashMap<>(h.asMap());
            m.put(name, engine.tensor(values, h.get(name).shape(), h.get(name).dtype()));
            return loss.apply(Params.of(m)).item();
        }
    }

    @Test
    void importanceNeedsPointWeightsAndSamples() {
        HyperTarget target = linear();
        HyperIntervalNetwork interval = new HyperIntervalNetwork(target.generated(), 3, 2, List.of(4), Activation.RELU, 1.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ContinualObjective(engine, target,
                interval, new SplitBlobsSequence(3, 0.4, 10, 7), STEPS, 4, 0.5, 0.5, ContinualObjective.Regularizer.IMPORTANCE, 5));
        assertTrue(e.getMessage().contains("hyperinterval") && e.getMessage().contains("output"), e.getMessage());
    }
}
