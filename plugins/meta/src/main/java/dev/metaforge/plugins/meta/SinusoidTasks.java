package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;

/**
 * Sinusoid regression (Finn et al. 2017): a task is {@code y = A sin(x - φ)} with amplitude
 * {@code A ~ U[minAmplitude, maxAmplitude]}, phase {@code φ ~ U[0, maxPhase]} and inputs
 * {@code x ~ U[minX, maxX]}; support and query points are drawn independently.
 *
 * @param supportSize  K, support points per task
 * @param querySize    query points per task
 * @param minAmplitude lower bound of A (0.1 in the paper)
 * @param maxAmplitude upper bound of A (5)
 * @param maxPhase     upper bound of φ (π)
 * @param minX         lower bound of x (-5)
 * @param maxX         upper bound of x (5)
 */
public record SinusoidTasks(int supportSize, int querySize, double minAmplitude, double maxAmplitude, double maxPhase,
        double minX, double maxX) implements TaskSampler {
    public SinusoidTasks {
        if (supportSize <= 0 || querySize <= 0) {
            throw new IllegalArgumentException("sinusoid tasks need positive support and query sizes, got " + supportSize + " and " + querySize);
        }
        if (!(minAmplitude <= maxAmplitude) || !(minX < maxX) || !(maxPhase >= 0)) {
            throw new IllegalArgumentException("sinusoid task ranges are empty or invalid: amplitude [" + minAmplitude + ", " + maxAmplitude
                    + "], phase [0, " + maxPhase + "], x [" + minX + ", " + maxX + "]");
        }
    }

    /** The paper's distribution: A in [0.1, 5], φ in [0, π], x in [-5, 5]. */
    public static SinusoidTasks standard(int supportSize, int querySize) {
        return new SinusoidTasks(supportSize, querySize, 0.1, 5.0, Math.PI, -5.0, 5.0);
    }

    @Override
    public TaskBatch sample(Engine engine, int tasks, RandomStream rng) {
        requireNonNull(engine, "engine is null");
        requireNonNull(rng, "rng is null");
        if (tasks <= 0) {
            throw new IllegalArgumentException("number of tasks must be positive, got " + tasks);
        }
        double[] xs = new double[tasks * supportSize];
        double[] ys = new double[tasks * supportSize];
        double[] xq = new double[tasks * querySize];
        double[] yq = new double[tasks * querySize];
        for (int t = 0; t < tasks; t++) {
            double amplitude = minAmplitude + (maxAmplitude - minAmplitude) * rng.nextDouble();
            double phase = maxPhase * rng.nextDouble();
            fill(xs, ys, t * supportSize, supportSize, amplitude, phase, rng);
            fill(xq, yq, t * querySize, querySize, amplitude, phase, rng);
        }
        return new TaskBatch(engine.tensor(xs, tasks, supportSize, 1), engine.tensor(ys, tasks, supportSize, 1),
                engine.tensor(xq, tasks, querySize, 1), engine.tensor(yq, tasks, querySize, 1));
    }

    private void fill(double[] x, double[] y, int from, int count, double amplitude, double phase, RandomStream rng) {
        for (int i = from; i < from + count; i++) {
            x[i] = minX + (maxX - minX) * rng.nextDouble();
            y[i] = amplitude * Math.sin(x[i] - phase);
        }
    }

    @Override
    public TaskLoss loss() {
        return TaskLoss.MSE;
    }
}
