package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.ConditionedBatch;
import dev.metaforge.api.hyper.ConditionedTask;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The loss-weighting toy of Ortiz, Guttag and Dalca (MIP, ICLR 2024): one hypernetwork learns, for
 * every loss weight γ ∈ [0, 1], the regressor g minimising
 * {@code γ·MSE(g(x), sin x) + (1−γ)·MSE(g(x), cos 2x)} for x ~ U[−π, π].
 *
 * <p>The minimiser is {@code g*(x) = γ sin x + (1−γ) cos 2x}, and pointwise
 * {@code γ(g−a)² + (1−γ)(g−b)² = (g − g*)² + γ(1−γ)(a−b)²}, so the weighted loss never falls below
 * the irreducible {@code γ(1−γ)(a−b)²}. The metric {@code "mse"} is therefore the distance to the
 * optimum, {@code mean (g − g*)²} (closed form, exact), and {@code "loss"} the weighted loss.
 * Evaluation uses γ ∈ linspace(0, 1, 11) × x ∈ linspace(−π, π, 128).
 */
public final class LossWeightingTask implements ConditionedTask {
    private final int evaluationConditions;
    private final int evaluationPoints;

    public LossWeightingTask(int evaluationConditions, int evaluationPoints) {
        if (evaluationConditions < 2 || evaluationPoints < 2) {
            throw new IllegalArgumentException("loss-weighting task: evaluation grid needs at least 2 conditions and 2 points, got "
                    + evaluationConditions + " x " + evaluationPoints);
        }
        this.evaluationConditions = evaluationConditions;
        this.evaluationPoints = evaluationPoints;
    }

    /** The paper's grid: 11 values of γ × 128 points. */
    public static LossWeightingTask standard() {
        return new LossWeightingTask(11, 128);
    }

    @Override
    public int conditions() {
        return 1;
    }

    @Override
    public int inputSize() {
        return 1;
    }

    @Override
    public int outputSize() {
        return 1;
    }

    @Override
    public ConditionedBatch sample(Engine engine, RandomStream rng, int contexts, int points) {
        requireNonNull(engine, "engine is null");
        requireNonNull(rng, "rng is null");
        double[] gamma = new double[contexts];
        double[] x = new double[contexts * points];
        for (int b = 0; b < contexts; b++) {
            gamma[b] = rng.nextDouble();
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = -Math.PI + 2 * Math.PI * rng.nextDouble();
        }
        return batch(engine, gamma, x, contexts, points);
    }

    @Override
    public ConditionedBatch evaluation(Engine engine) {
        requireNonNull(engine, "engine is null");
        int c = evaluationConditions;
        int n = evaluationPoints;
        double[] gamma = new double[c];
        double[] x = new double[c * n];
        for (int b = 0; b < c; b++) {
            gamma[b] = b / (double) (c - 1);
            for (int i = 0; i < n; i++) {
                x[b * n + i] = -Math.PI + 2 * Math.PI * i / (n - 1);
            }
        }
        return batch(engine, gamma, x, c, n);
    }

    private static ConditionedBatch batch(Engine engine, double[] gamma, double[] x, int contexts, int points) {
        double[] sin = new double[x.length];
        double[] cos2 = new double[x.length];
        double[] optimum = new double[x.length];
        double[] weight = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double g = gamma[i / points];
            sin[i] = Math.sin(x[i]);
            cos2[i] = Math.cos(2 * x[i]);
            optimum[i] = g * sin[i] + (1 - g) * cos2[i];
            weight[i] = g;
        }
        ConditionedTask.checkConditions("loss-weighting", gamma);
        Tensor context = engine.tensor(gamma, contexts, 1);
        Tensor inputs = engine.tensor(x, contexts, points, 1);
        Tensor a = engine.tensor(sin, contexts, points, 1);
        Tensor b = engine.tensor(cos2, contexts, points, 1);
        Tensor best = engine.tensor(optimum, contexts, points, 1);
        Tensor w = engine.tensor(weight, contexts, points, 1);
        return new ConditionedBatch() {
            @Override
            public Tensor context() {
                return context;
            }

            @Override
            public Tensor inputs() {
                return inputs;
            }

            @Override
            public Tensor loss(Tensor predictions) {
                checkShape(predictions, inputs);
                Tensor toSin = predictions.sub(a).square().mul(w);
                Tensor toCos = predictions.sub(b).square().mul(w.rsub(1.0));
                return toSin.add(toCos).mean();
            }

            @Override
            public Map<String, Double> metrics(Tensor predictions) {
                checkShape(predictions, inputs);
                Map<String, Double> out = new LinkedHashMap<>();
                out.put("mse", predictions.sub(best).square().mean().item());
                out.put("loss", loss(predictions).item());
                return out;
            }

            @Override
            public ConditionedBatch slice(int from, int to) {
                checkSlice(from, to, contexts);
                return batch(engine, java.util.Arrays.copyOfRange(gamma, from, to),
                        java.util.Arrays.copyOfRange(x, from * points, to * points), to - from, points);
            }
        };
    }

    /**
     * The training loss is the weighted loss, whose floor E[γ(1−γ)]·E[(sin x − cos 2x)²] = 1/6 ≈ 0.17
     * (γ, x uniform) no model can go below; {@code mse} is the signal.
     */
    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("training loss", "weighted loss γ·MSE(g, sin x) + (1−γ)·MSE(g, cos 2x) on random γ, x; "
                + "it cannot fall below its irreducible floor ≈ 0.17 (1/6), so it flattens there: watch eval mse");
        out.put("eval mse", "mean (g − g*)² to the optimal regressor g* = γ·sin x + (1−γ)·cos 2x on the evaluation grid; "
                + "0 is perfect: the signal");
        out.put("eval loss", "the weighted loss on the evaluation grid (floor ≈ 0.15 there: the same irreducible part)");
        return out;
    }

    /** The loss is a mean over conditions × points: batches split over conditions. */
    @Override
    public boolean splitsOverContexts() {
        return true;
    }

    static void checkSlice(int from, int to, int contexts) {
        if (from < 0 || to > contexts || from >= to) {
            throw new IllegalArgumentException("[" + from + ", " + to + ") is not a non-empty range of the batch's " + contexts + " conditions");
        }
    }

    static void checkShape(Tensor predictions, Tensor inputs) {
        requireNonNull(predictions, "predictions is null");
        if (!predictions.shape().equals(inputs.shape())) {
            throw new IllegalArgumentException("predictions of shape " + predictions.shape() + " do not match the targets "
                    + inputs.shape() + " ([B, N, 1]: one output per condition and point)");
        }
    }
}
