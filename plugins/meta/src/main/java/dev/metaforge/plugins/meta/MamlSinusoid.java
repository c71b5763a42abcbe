package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.TrainingLoop;
import java.util.List;
import java.util.Map;

/**
 * Finn et al.'s sinusoid regression with MAML, ready to run on any engine: a 1-40-40-1 ReLU
 * network, K = 10 support points, one inner SGD step of rate 0.01, meta-batches of 25 tasks,
 * Adam 1e-3 outside; evaluation on held-out tasks after 1 and 10 inner steps.
 *
 * <p>Each task's query set has {@value #QUERY_POINTS} points (Finn et al. used K): adaptation
 * still sees only the K support points, but the meta-gradient is less noisy. Over 10,000
 * meta-iterations this lowers the 1-step error from about 0.50-0.53 to about 0.45-0.49 (five
 * seeds on PyTorch via DJL); the expected query error is the same for any query size. The
 * experiment as {@code examples/maml-sinusoid.json}, run through the project's
 * {@link TrainingLoop} (same initialisation and task draws for the same seed). This is the entry
 * point of the reproduction, the benchmark and the TCK's memory rule.
 *
 * <pre>{@code
 * MamlSinusoid.Result r = MamlSinusoid.run(engine, 10_000, false, 0, 1000, null);
 * r.metrics().get("mse_after_1");
 * }</pre>
 */
public final class MamlSinusoid {
    /** Finn et al.'s settings. */
    public static final List<Integer> SIZES = List.of(1, 40, 40, 1);
    public static final int K = 10;
    /** Query points per task, for meta-training and evaluation. */
    public static final int QUERY_POINTS = 50;
    public static final double INNER_LR = 0.01;
    public static final int META_BATCH = 25;
    public static final double OUTER_LR = 1e-3;

    /** Called after each meta-iteration with its 0-based index and meta-loss. */
    @FunctionalInterface
    public interface Listener {
        void afterIteration(long iteration, double metaLoss);
    }

    /**
     * A finished run.
     *
     * @param iterations meta-iterations run
     * @param seconds    wall time of the meta-iterations (evaluation excluded)
     * @param metrics    {@code mse_after_<k>} on the held-out tasks (empty without evaluation)
     */
    public record Result(long iterations, double seconds, Map<String, Double> metrics) {
        /** Meta-iterations per second. */
        public double rate() {
            return iterations / seconds;
        }
    }

    private MamlSinusoid() {
    }

    /** The objective with Finn et al.'s settings; {@code evalTasks} held-out tasks, evaluated after {@code evalSteps}. */
    public static MetaObjective objective(Engine engine, boolean firstOrder, int evalTasks, List<Integer> evalSteps) {
        return objective(engine, new Maml(network(), TaskLoss.MSE, 1, INNER_LR, firstOrder), evalTasks, evalSteps);
    }

    /** The 1-40-40-1 ReLU network. */
    public static Mlp network() {
        return Mlp.of(SIZES, Activation.RELU);
    }

    /** Any learner on the same tasks (K = 10, meta-batch 25), for side-by-side figures (e.g. Reptile). */
    public static MetaObjective objective(Engine engine, MetaLearner learner, int evalTasks, List<Integer> evalSteps) {
        requireNonNull(engine, "engine is null");
        SinusoidTasks tasks = SinusoidTasks.standard(K, QUERY_POINTS);
        return new MetaObjective(engine, learner, tasks, tasks, META_BATCH, evalTasks, evalSteps, Experiments.DEFAULT_EVAL_SEED);
    }

    /**
     * Meta-trains for {@code iterations} steps from seed {@code seed}, then evaluates on
     * {@code evalTasks} held-out tasks after 1 and 10 inner steps (no evaluation when 0).
     * {@code listener} may be null. Everything it allocates is freed before it returns.
     */
    public static Result run(Engine engine, long iterations, boolean firstOrder, long seed, int evalTasks, Listener listener) {
        return run(objective(engine, firstOrder, evalTasks, List.of(1, 10)), iterations, seed, listener);
    }

    /** Runs any objective with Adam 1e-3 for {@code iterations} steps, then evaluates it; frees everything. */
    public static Result run(MetaObjective objective, long iterations, long seed, Listener listener) {
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(OUTER_LR), seed)) {
            long start = System.nanoTime();
            for (long i = 0; i < iterations; i++) {
                double loss = loop.step();
                if (listener != null) {
                    listener.afterIteration(i, loss);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Result(iterations, seconds, loop.evaluate());
        }
    }

    /**
     * The benchmark's unit: {@code iterations} timed MAML sinusoid meta-iterations (second order
     * unless {@code firstOrder}) after {@code warmup} untimed ones; returns meta-iterations per second.
     */
    public static double metaIterationsPerSecond(Engine engine, int warmup, int iterations, boolean firstOrder) {
        if (warmup < 0 || iterations <= 0) {
            throw new IllegalArgumentException("need warmup >= 0 and iterations > 0, got " + warmup + " and " + iterations);
        }
        try (TrainingLoop loop = TrainingLoop.start(objective(engine, firstOrder, 0, List.of()), Adam.adam(OUTER_LR), 0)) {
            for (int i = 0; i < warmup; i++) {
                loop.step();
            }
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                loop.step();
            }
            return iterations / ((System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * {@code iterations} second-order MAML meta-iterations of a tiny sinusoid problem (1-8-8-1
     * tanh network, 2 inner steps, 4 tasks of 5 points, Adam): the workload of the memory rule.
     * {@code listener} (may be null) sees every iteration, e.g. to sample native memory; everything
     * is freed before returning. Returns the last meta-loss.
     */
    public static double runMetaIterations(Engine engine, int iterations, Listener listener) {
        requireNonNull(engine, "engine is null");
        Maml maml = new Maml(Mlp.of(List.of(1, 8, 8, 1), Activation.TANH), TaskLoss.MSE, 2, INNER_LR, false);
        SinusoidTasks tasks = SinusoidTasks.standard(5, 5);
        MetaObjective objective = new MetaObjective(engine, maml, tasks, tasks, 4, 0, List.of(), 0);
        double last = Double.NaN;
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(OUTER_LR), 1)) {
            for (int i = 0; i < iterations; i++) {
                last = loop.step();
                if (listener != null) {
                    listener.afterIteration(i, last);
                }
            }
        }
        return last;
    }
}
