package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.LabelledBatch;
import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * A split-task sequence in the style of Split MNIST, on synthetic data so nothing is downloaded:
 * 2T Gaussian blobs (standard deviation {@code noise}) centred on the unit circle at angles
 * {@code kπ/T}, k = 0..2T−1, form a 2T-class problem that is split into T binary tasks; task t
 * separates blob t (label 0) from the opposite blob t+T (label 1).
 *
 * <p>Each task alone is easy (a line through the origin), but the tasks' decision boundaries turn
 * by π/T from one task to the next, so the network that solves the last task misclassifies most of
 * the first one: forgetting is visible. Held-out sets are fixed by {@code seed}; training batches
 * come from the step's random stream.
 */
public final class SplitBlobsSequence implements TaskSequence {
    private final int tasks;
    private final double noise;
    private final int evaluationSize;
    private final long seed;

    public SplitBlobsSequence(int tasks, double noise, int evaluationSize, long seed) {
        if (tasks <= 0 || !(noise >= 0) || evaluationSize <= 0) {
            throw new IllegalArgumentException("split-blobs: need tasks > 0, noise >= 0, evaluationSize > 0; got "
                    + tasks + ", " + noise + ", " + evaluationSize);
        }
        this.tasks = tasks;
        this.noise = noise;
        this.evaluationSize = evaluationSize;
        this.seed = seed;
    }

    @Override
    public int tasks() {
        return tasks;
    }

    @Override
    public int inputSize() {
        return 2;
    }

    @Override
    public int classes() {
        return 2;
    }

    @Override
    public LabelledBatch sample(Engine engine, int task, RandomStream rng, int size) {
        requireNonNull(rng, "rng is null");
        return batch(engine, task, size, rng::nextDouble, rng::nextGaussian);
    }

    @Override
    public LabelledBatch evaluation(Engine engine, int task) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + task);
        Gaussian gaussian = new Gaussian(random);
        return batch(engine, task, evaluationSize, random::nextDouble, gaussian::next);
    }

    private LabelledBatch batch(Engine engine, int task, int size, DoubleSupplier uniform, DoubleSupplier normal) {
        requireNonNull(engine, "engine is null");
        if (task < 0 || task >= tasks) {
            throw new IllegalArgumentException("split-blobs: task " + task + " is out of range 0.." + (tasks - 1));
        }
        double[] x = new double[size * 2];
        long[] labels = new long[size];
        for (int i = 0; i < size; i++) {
            int label = uniform.getAsDouble() < 0.5 ? 0 : 1;
            double angle = Math.PI * (task + label * tasks) / tasks;
            x[2 * i] = Math.cos(angle) + noise * normal.getAsDouble();
            x[2 * i + 1] = Math.sin(angle) + noise * normal.getAsDouble();
            labels[i] = label;
        }
        return new LabelledBatch(engine.tensor(x, size, 2), engine.indices(labels, size));
    }

    /** Box-Muller normals from one SplittableRandom. */
    private static final class Gaussian {
        private final SplittableRandom random;

        Gaussian(SplittableRandom random) {
            this.random = random;
        }

        double next() {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
        }
    }
}
