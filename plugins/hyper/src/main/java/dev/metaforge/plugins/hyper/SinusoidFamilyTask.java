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
 * Sinusoid regression as a conditioned family (the task distribution of Finn, Abbeel and Levine's
 * MAML, 2017): {@code y = A sin(x − φ)} with A ∈ [minAmplitude, maxAmplitude], φ ∈ [0, maxPhase],
 * x ∈ [−inputRange, inputRange]. The hypernetwork sees the task itself, normalised to [0, 1]²:
 * {@code ((A − minAmplitude) / (maxAmplitude − minAmplitude), φ / maxPhase)}. Loss and metric
 * {@code "mse"}: mean squared error; evaluation on a 5 × 5 grid of tasks × 100 points.
 */
public final class SinusoidFamilyTask implements ConditionedTask {
    private static final int GRID = 5;
    private static final int EVAL_POINTS = 100;

    private final double minAmplitude;
    private final double maxAmplitude;
    private final double maxPhase;
    private final double inputRange;

    public SinusoidFamilyTask(double minAmplitude, double maxAmplitude, double maxPhase, double inputRange) {
        if (!(minAmplitude < maxAmplitude) || !(maxPhase > 0) || !(inputRange > 0)) {
            throw new IllegalArgumentException("sinusoid family: need minAmplitude < maxAmplitude, maxPhase > 0, inputRange > 0; got "
                    + minAmplitude + ", " + maxAmplitude + ", " + maxPhase + ", " + inputRange);
        }
        this.minAmplitude = minAmplitude;
        this.maxAmplitude = maxAmplitude;
        this.maxPhase = maxPhase;
        this.inputRange = inputRange;
    }

    @Override
    public int conditions() {
        return 2;
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
        double[] cond = new double[contexts * 2];
        double[] x = new double[contexts * points];
        for (int i = 0; i < cond.length; i++) {
            cond[i] = rng.nextDouble();
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = inputRange * (2 * rng.nextDouble() - 1);
        }
        return batch(engine, cond, x, contexts, points);
    }

    @Override
    public ConditionedBatch evaluation(Engine engine) {
        double[] cond = new double[GRID * GRID * 2];
        double[] x = new double[GRID * GRID * EVAL_POINTS];
        for (int i = 0; i < GRID; i++) {
            for (int j = 0; j < GRID; j++) {
                int b = i * GRID + j;
                cond[2 * b] = i / (double) (GRID - 1);
                cond[2 * b + 1] = j / (double) (GRID - 1);
                for (int n = 0; n < EVAL_POINTS; n++) {
                    x[b * EVAL_POINTS + n] = -inputRange + 2 * inputRange * n / (EVAL_POINTS - 1);
                }
            }
        }
        return batch(engine, cond, x, GRID * GRID, EVAL_POINTS);
    }

    private ConditionedBatch batch(Engine engine, double[] cond, double[] x, int contexts, int points) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int b = i / points;
            double amplitude = minAmplitude + cond[2 * b] * (maxAmplitude - minAmplitude);
            double phase = cond[2 * b + 1] * maxPhase;
            y[i] = amplitude * Math.sin(x[i] - phase);
        }
        ConditionedTask.checkConditions("sinusoid", cond);
        Tensor context = engine.tensor(cond, contexts, 2);
        Tensor inputs = engine.tensor(x, contexts, points, 1);
        Tensor targets = engine.tensor(y, contexts, points, 1);
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
                LossWeightingTask.checkShape(predictions, targets);
                return predictions.sub(targets).square().mean();
            }

            @Override
            public Map<String, Double> metrics(Tensor predictions) {
                Map<String, Double> out = new LinkedHashMap<>();
                out.put("mse", loss(predictions).item());
                return out;
            }

            @Override
            public ConditionedBatch slice(int from, int to) {
                LossWeightingTask.checkSlice(from, to, contexts);
                return batch(engine, java.util.Arrays.copyOfRange(cond, 2 * from, 2 * to),
                        java.util.Arrays.copyOfRange(x, from * points, to * points), to - from, points);
            }
        };
    }

    /** The loss is a mean over conditions × points: batches split over conditions. */
    @Override
    public boolean splitsOverContexts() {
        return true;
    }
}
