package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.capture.StepCapture;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
 * {@code next = optimizer.stepInPlace(params, grads)} (the old parameters are handed over: the
 * optimizer may write the new values into their memory and frees the rest); the scope is closed and
 * {@code next} becomes current. Randomness depends only on (seed, step), so a resumed
 * run repeats an uninterrupted one exactly. With {@link #withCapture} the step of a
 * {@link CapturableObjective} is traced once and then replayed as kernel calls (same values bit for bit).
 * A loop made here captures only when asked ({@link #withCapture}); {@link Trainer}, which runs training
 * specs, captures by default ({@link TrainSpec#capture}).
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
    // The last step's loss, parts and metrics, still on the backend (owned by the loop, outside every scope).
    private Tensor pending;
    // Null: every step eager.
    private StepCapture capture;
    private List<String> pendingNames = List.of();
    private long pendingStep = -1;
    private double lastLoss = Double.NaN;
    private long lastLossStep = -1;

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
     * parameters before the update). Reads the loss and the step's named terms back from the backend;
     * {@link #advance()} runs the same step without reading anything.
     *
     * @throws TrainingException when the loss is not a finite one-element floating tensor
     */
    public double step() {
        advance();
        return lastLoss();
    }

    /**
     * Runs training step {@link #completedSteps()} without copying anything to the host: the loss and the
     * step's named terms stay on the backend (one small array) until {@link #lastLoss()} or
     * {@link #lastTerms()} asks for them. A loop that reads only every N steps lets the backend run ahead
     * (no device synchronisation per step); a non-finite loss is then detected at the next read.
     *
     * @throws TrainingException when the objective's loss is not a one-element floating tensor
     */
    public void advance() {
        checkOpen();
        long step = completedSteps;
        try (Scope scope = Scope.open()) {
            // Temporaries of the hook are freed here; what the objective keeps it escapes itself.
            objective.beforeStep(params, step);
        }
        Params next;
        discardPending();
        try (Scope scope = Scope.open()) {
            RandomStream rng = stepRandom(seed, step);
            StepCapture.Result result;
            if (capture != null) {
                // Captured: the step's data is made eagerly, the rest is traced or replayed (StepCapture).
                CapturableObjective capturable = (CapturableObjective) objective;
                Params inputs = capturable.inputs(step, rng);
                result = capture.step(params, inputs, (p, in) -> {
                    Params tracked = p.requiringGrad();
                    return lossAndGradients(scope, tracked, capturable.lossTerms(tracked, in, rng), step);
                });
            } else {
                Params tracked = params.requiringGrad();
                result = lossAndGradients(scope, tracked, objective.lossTerms(tracked, step, rng), step);
            }
            pending = result.pending();
            pendingNames = result.names();
            pendingStep = step;
            // the old parameters are freed right after the step anyway: the optimizer may reuse their memory
            next = optimizer.stepInPlace(params, result.grads());
        }
        params = next;
        completedSteps = step + 1;
    }

    /** The loss vector to log (escaped from {@code scope}) and the gradients of {@code terms} with respect to {@code tracked}. */
    private StepCapture.Result lossAndGradients(Scope scope, Params tracked, LossTerms terms, long step) {
        Tensor loss = terms == null ? null : terms.total();
        if (loss == null || loss.size() != 1 || !loss.dtype().isFloating()) {
            throw new TrainingException(objective.getClass().getSimpleName() + ".loss returned "
                    + (loss == null ? "null" : loss) + " at step " + step + "; it must return a one-element floating tensor");
        }
        List<String> names = new ArrayList<>();
        List<Tensor> values = new ArrayList<>();
        values.add(loss.stopGradient().reshape(1));
        terms.parts().forEach((n, t) -> {
            names.add(n);
            values.add(asLogged(t, loss));
        });
        terms.metrics().forEach((n, t) -> {
            names.add(n);
            values.add(asLogged(t, loss));
        });
        // A fresh array (concat, or a product for a lone loss), never a view of a tensor this scope frees.
        Tensor logged = scope.escape(values.size() == 1 ? values.get(0).mul(1.0) : Tensor.concat(values, 0));
        return new StepCapture.Result(logged, names, Grad.of(loss).wrt(tracked));
    }

    private static Tensor asLogged(Tensor value, Tensor loss) {
        Tensor flat = value.stopGradient().reshape(1);
        return flat.dtype() == loss.dtype() ? flat : flat.cast(loss.dtype());
    }

    /**
     * The loss of the last step (before its update), read from the backend if not read yet.
     *
     * @throws TrainingException when that loss is not finite (training diverged)
     * @throws IllegalStateException before the first step
     */
    public double lastLoss() {
        readPending();
        if (lastLossStep < 0) {
            throw new IllegalStateException("no step has run yet");
        }
        return lastLoss;
    }

    /** Reads the last step's values (one host copy) and checks the loss is finite. */
    private void readPending() {
        if (pending == null) {
            return;
        }
        double[] v;
        try {
            v = pending.toDoubles();
        } finally {
            pending.close();
            pending = null;
        }
        lastLoss = v[0];
        lastLossStep = pendingStep;
        Map<String, Double> logged = new LinkedHashMap<>();
        for (int i = 0; i < pendingNames.size(); i++) {
            logged.put(pendingNames.get(i), v[i + 1]);
        }
        lastTerms = logged;
        if (!Double.isFinite(lastLoss)) {
            throw new TrainingException("the loss is " + lastLoss + " at step " + lastLossStep
                    + " (0-based): training diverged; lower the learning rate or check the data");
        }
    }

    private void discardPending() {
        if (pending != null) {
            pending.close();
            pending = null;
        }
    }

    /**
     * From now on, runs steps through {@code capture} (traced, then replayed while the shapes stay the same;
     * see {@link StepCapture}); the loop closes it. The objective must be a {@link CapturableObjective}
     * built on the capture's engine ({@link StepCapture#engine}).
     *
     * @throws IllegalArgumentException when the objective cannot be captured, naming why
     */
    public TrainingLoop withCapture(StepCapture capture) {
        requireNonNull(capture, "capture is null");
        checkOpen();
        String refusal = CapturableObjective.refusal(objective);
        if (refusal != null) {
            throw new IllegalArgumentException(refusal);
        }
        if (this.capture != null) {
            this.capture.close();
        }
        this.capture = capture;
        return this;
    }

    /** The step capture, or null when every step runs eagerly. */
    public StepCapture capture() {
        return capture;
    }

    /** Metrics of {@link Objective#evaluate} on the current parameters, without gradients. */
    public Map<String, Double> evaluate() {
        checkOpen();
        try (NoGrad noGrad = NoGrad.enter(); Scope scope = Scope.open()) {
            return new LinkedHashMap<>(requireNonNull(objective.evaluate(params), "objective.evaluate returned null"));
        }
    }

    /**
     * The named loss parts and statistics of the last step (see {@link LossTerms}), read from the backend if
     * not read yet; empty before the first.
     */
    public Map<String, Double> lastTerms() {
        readPending();
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

    /**
     * The current parameters, owned by the loop: valid until the next {@link #step()} or {@link #close()}
     * (the next step may free them or overwrite them in place; copy what must outlive it).
     */
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
            discardPending();
            params.close();
            optimizer.close();
            if (capture != null) {
                capture.close();
            }
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
