package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The in-memory core of training, without files: it owns the current parameters (outside every
 * scope) and the optimizer, and runs one step at a time. {@link Trainer} adds logging,
 * checkpoints and resumption on top; tests and programs can use it directly.
 *
 * <pre>{@code
 * try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(1e-3), 42)) {
 *     for (int i = 0; i < 1000; i++) {
 *         double loss = loop.step();
 *     }
 *     Map<String, Double> metrics = loop.evaluate();
 * }
 * }</pre>
 *
 * One step: {@code objective.beforeStep(params, step)}; then, in a fresh {@link Scope},
 * {@code tracked = params.requiringGrad()}, {@code loss = objective.loss(tracked, step, rng)} with
 * {@code rng = stepRandom(seed, step)}, {@code grads = Grad.of(loss).wrt(tracked)},
 * {@code next = optimizer.step(params, grads)}; the scope is closed, the old parameters are
 * freed and {@code next} becomes current. Randomness depends only on (seed, step), so a resumed
 * run repeats an uninterrupted one exactly.
 */
@SuppressWarnings("try") // scopes and NoGrad are opened for their effect on the tensors inside, not used by name
public final class TrainingLoop implements AutoCloseable {
    private final Objective objective;
    private final Optimizer optimizer;
    private final long seed;
    private Params params;
    private long completedSteps;
    private final long startSteps;
    private boolean closed;
    private Map<String, Double> lastTerms = Map.of();

    private TrainingLoop(Objective objective, Optimizer optimizer, long seed, Params params, long completedSteps) {
        this.objective = objective;
        this.optimizer = optimizer;
        this.seed = seed;
        this.params = params;
        this.completedSteps = completedSteps;
        this.startSteps = completedSteps;
    }

    /**
     * Starts from {@code objective.init(initRandom(seed))}. The loop takes ownership of
     * {@code optimizer} (it is closed with the loop).
     */
    public static TrainingLoop start(Objective objective, Optimizer optimizer, long seed) {
        requireNonNull(objective, "objective is null");
        requireNonNull(optimizer, "optimizer is null");
        Params initial;
        try (Scope scope = Scope.open()) {
            Params fresh = requireNonNull(objective.init(initRandom(seed)), "objective.init returned null");
            initial = unscopedCopy(fresh);
        }
        return new TrainingLoop(objective, optimizer, seed, initial, 0);
    }

    /**
     * Continues from {@code params} after {@code completedSteps} steps. The parameters are copied;
     * the optimizer's state must already be restored ({@link Optimizer#loadState}).
     */
    public static TrainingLoop resume(Objective objective, Optimizer optimizer, long seed, Params params, long completedSteps) {
        requireNonNull(objective, "objective is null");
        requireNonNull(optimizer, "optimizer is null");
        requireNonNull(params, "params is null");
        if (completedSteps < 0) {
            throw new IllegalArgumentException("completedSteps must be >= 0, got " + completedSteps);
        }
        return new TrainingLoop(objective, optimizer, seed, unscopedCopy(params), completedSteps);
    }

    /** The random stream of the parameter initialisation of a run with {@code seed}. */
    public static RandomStream initRandom(long seed) {
        return RandomStream.of(mix(seed));
    }

    /** The random stream of training step {@code step} (0-based): a function of (seed, step) only. */
    public static RandomStream stepRandom(long seed, long step) {
        return RandomStream.of(mix(mix(seed) + 0x9E3779B97F4A7C15L * (step + 1)));
    }

    /** SplitMix64's finaliser: consecutive inputs give unrelated outputs. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Runs training step {@link #completedSteps()} and returns its loss (computed with the
     * parameters before the update).
     *
     * @throws TrainingException when the loss is not a finite one-element floating tensor
     */
    public double step() {
        checkOpen();
        long step = completedSteps;
        try (Scope scope = Scope.open()) {
            // Temporaries of the hook are freed here; what the objective keeps it escapes itself.
            objective.beforeStep(params, step);
        }
        double lossValue;
        Params next;
        try (Scope scope = Scope.open()) {
            Params tracked = params.requiringGrad();
            LossTerms terms = objective.lossTerms(tracked, step, stepRandom(seed, step));
            Tensor loss = terms == null ? null : terms.total();
            if (loss == null || loss.size() != 1 || !loss.dtype().isFloating()) {
                throw new TrainingException(objective.getClass().getSimpleName() + ".loss returned "
                        + (loss == null ? "null" : loss) + " at step " + step + "; it must return a one-element floating tensor");
            }
            lossValue = loss.item();
            if (!Double.isFinite(lossValue)) {
                throw new TrainingException("the loss is " + lossValue + " at step " + step
                        + " (0-based): training diverged; lower the learning rate or check the data");
            }
            Map<String, Double> logged = new LinkedHashMap<>();
            terms.parts().forEach((n, t) -> logged.put(n, t.item()));
            terms.metrics().forEach((n, t) -> logged.put(n, t.item()));
            lastTerms = logged;
            Params grads = Grad.of(loss).wrt(tracked);
            next = optimizer.step(params, grads);
        }
        params.close();
        params = next;
        completedSteps = step + 1;
        return lossValue;
    }

    /** Metrics of {@link Objective#evaluate} on the current parameters, without gradients. */
    public Map<String, Double> evaluate() {
        checkOpen();
        try (NoGrad noGrad = NoGrad.enter(); Scope scope = Scope.open()) {
            return new LinkedHashMap<>(requireNonNull(objective.evaluate(params), "objective.evaluate returned null"));
        }
    }

    /** The named loss parts and statistics of the last step (see {@link LossTerms}); empty before the first. */
    public Map<String, Double> lastTerms() {
        return lastTerms;
    }

    /** Steps run by this loop (not counting those before a resume). */
    public long stepsRunHere() {
        return completedSteps - startSteps;
    }

    /** Steps run so far (including those before a resume). */
    public long completedSteps() {
        return completedSteps;
    }

    /** The current parameters, owned by the loop: valid until the next {@link #step()} or {@link #close()}. */
    public Params params() {
        checkOpen();
        return params;
    }

    public Objective objective() {
        return objective;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public long seed() {
        return seed;
    }

    /** Frees the parameters and the optimizer's state. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            params.close();
            optimizer.close();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the training loop is closed");
        }
    }

    /** Copies each tensor into a new array owned by no scope, so it survives every scope. */
    static Params unscopedCopy(Params source) {
        return source.map(t -> t.engine().wrapUnscoped(t.engine().kernels().cast(t.nativeArray(), t.dtype())));
    }
}
