package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.Interval;
import dev.metaforge.api.hyper.IntervalBounds;
import dev.metaforge.api.hyper.IntervalHyperNetwork;
import dev.metaforge.api.hyper.IntervalParams;
import dev.metaforge.api.hyper.LabelledBatch;
import dev.metaforge.api.hyper.OutputRegularizer;
import dev.metaforge.api.hyper.TaskConditionedHyperNetwork;
import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.Objective;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Continual learning with a task-conditioned hypernetwork (von Oswald et al., ICLR 2020): the tasks
 * of a {@link TaskSequence} are learned one after another, {@code stepsPerTask} steps each. While
 * task t is learned, the loss is the task's cross-entropy plus
 * {@code regularization × OutputRegularizer.drift(h(e_{0..t−1}), snapshots)}, where the snapshots are
 * the weights generated for the earlier tasks when task t began ({@link #beforeStep}). All tasks
 * 0..t are generated in one weight-batch call per step.
 *
 * <p>With an {@link IntervalHyperNetwork} (HyperInterval) the task loss is
 * {@code κ CE(midpoint logits) + (1 − κ) CE(worst-case logits)}, the worst case from interval
 * propagation through the target, and the regularizer covers the lower, midpoint and upper weights.
 * {@link #evaluate} then also reports the universal embedding's network on every task.
 *
 * <p>Options on the regularizer:
 * <ul>
 * <li>{@link Regularizer#IMPORTANCE}: Chandra et al.'s importance-weighted output regularizer
 * ("Continual Learning with Dependency Preserving Hypernetworks", WACV 2023, proposed with the
 * {@code recurrent} hypernetwork but usable with any): each squared difference of the output
 * regularizer is weighted by the importance of that generated weight for its task,
 * {@code β (1/t) Σ_{k<t} Σ_i F_{k,i} (h(e_k, Θ)_i − θ*_{k,i})²}
 * ({@link OutputRegularizer#weightedDrift}), added to the task loss exactly where the plain
 * regularizer is. F_k is the diagonal empirical Fisher information of task k's cross-entropy in
 * the weights generated for task k, {@code mean_s (∂ CE(x_s, y_s) / ∂θ_k)²} over
 * {@code fisherSamples} training examples, taken when task k ends (at the first step of task
 * k + 1). Our choice: F_k is divided by its mean over all of task k's generated values, so the
 * mean importance is 1 and β keeps the scale of the plain regularizer.</li>
 * <li>Look-ahead (von Oswald et al. 2020, §2; on when the {@link TaskEmbeddingHyperNetwork} has a
 * look-ahead step size α): the regularizer is evaluated at {@code Θ + ΔΘ} instead of Θ, with the
 * candidate update of the current task loss {@code ΔΘ = −α ∇_Θ L_task} held constant, so
 * regularizer's gradient anticipates where the task step moves the hypernetwork. We use the plain
 * gradient step as the candidate (the optimizer's own state is not visible to the objective).</li>
 * <li>With a {@link HyperIntervalNetwork} whose ε follows a {@link PerturbationSchedule}, the
 * current task's interval is generated with ε at the step within the task (a function of the step
 * number alone, so the step reads nothing back from the device); the earlier tasks' intervals,
 * the snapshots and evaluation use the final ε, as Krukowski et al.'s training does. During that
 * warm-up κ is held near 1 as in their training loop ({@link #midpointWeightAt}).</li>
 * </ul>
 *
 * <p>The snapshots (and importances) are the objective's {@link #state()}, so they survive checkpoints.
 */
public final class ContinualObjective implements Objective {
    private static final String SNAPSHOT = "snapshot";
    private static final String IMPORTANCE = "importance";
    /** Seed of the examples the Fisher information of task k is estimated on: FISHER_SEED + k. */
    static final long FISHER_SEED = 0x5F15_4E4L;
    /** κ's decrease per step during the ε warm-up, as in Krukowski et al.'s training loop. */
    static final double KAPPA_DECAY = 0.00005;

    /** Which output regularizer keeps earlier tasks' generated weights in place. */
    public enum Regularizer {
        /** von Oswald et al.: plain squared drift. */
        OUTPUT,
        /** Chandra et al.: squared drift weighted by each weight's Fisher importance for its task. */
        IMPORTANCE
    }

    private static final List<String> INTERVAL_KINDS = List.of("lower", "center", "upper");

    private final Engine engine;
    private final HyperTarget target;
    private final TaskConditionedHyperNetwork hyper;
    private final TaskSequence tasks;
    private final int stepsPerTask;
    private final int batchSize;
    private final double regularization;
    private final double midpointWeight;
    private final Regularizer regularizer;
    private final int fisherSamples;
    /** Generated weights of tasks 0..t−1 taken when task t began, owned by no scope. */
    private Params snapshots = Params.empty();

    /**
     * @param regularization β, the weight of the output regularizer (0 disables it)
     * @param midpointWeight κ for interval hypernetworks: the weight of the midpoint loss against the worst case
     */
    public ContinualObjective(Engine engine, HyperTarget target, TaskConditionedHyperNetwork hyper, TaskSequence tasks,
                              int stepsPerTask, int batchSize, double regularization, double midpointWeight) {
        this(engine, target, hyper, tasks, stepsPerTask, batchSize, regularization, midpointWeight, Regularizer.OUTPUT, 0);
    }

    /**
     * @param regularizer   the plain output regularizer or Chandra et al.'s importance-weighted one
     * @param fisherSamples examples per task for the Fisher information (importance only)
     */
    public ContinualObjective(Engine engine, HyperTarget target, TaskConditionedHyperNetwork hyper, TaskSequence tasks,
                              int stepsPerTask, int batchSize, double regularization, double midpointWeight, Regularizer regularizer,
                              int fisherSamples) {
        this.regularizer = requireNonNull(regularizer, "regularizer is null");
        if (regularizer == Regularizer.IMPORTANCE && fisherSamples <= 0) {
            throw new IllegalArgumentException("continual experiment: the importance regularizer needs fisherSamples > 0, got "
                    + fisherSamples);
        }
        if (regularizer == Regularizer.IMPORTANCE && hyper instanceof IntervalHyperNetwork) {
            throw new IllegalArgumentException("continual experiment: the importance regularizer works on point weights; '"
                    + hyper.kind() + "' generates intervals (use \"regularizer\": \"output\")");
        }
        this.fisherSamples = fisherSamples;
        this.engine = requireNonNull(engine, "engine is null");
        this.target = requireNonNull(target, "target is null");
        this.hyper = requireNonNull(hyper, "hyper is null");
        this.tasks = requireNonNull(tasks, "tasks is null");
        if (stepsPerTask <= 0 || batchSize <= 0) {
            throw new IllegalArgumentException("continual experiment: stepsPerTask and batchSize must be positive, got "
                    + stepsPerTask + ", " + batchSize);
        }
        if (!(regularization >= 0) || !(midpointWeight >= 0 && midpointWeight <= 1)) {
            throw new IllegalArgumentException("continual experiment: need regularization >= 0 and midpointWeight in [0, 1], got "
                    + regularization + ", " + midpointWeight);
        }
        if (hyper.tasks() != tasks.tasks()) {
            throw new IllegalArgumentException("continual experiment: the hypernetwork has " + hyper.tasks()
                    + " task embeddings but the sequence has " + tasks.tasks() + " tasks");
        }
        HyperObjective.checkSameGenerated(target.generated(), hyper.generated());
        this.stepsPerTask = stepsPerTask;
        this.batchSize = batchSize;
        this.regularization = regularization;
        this.midpointWeight = midpointWeight;
    }

    /** The task trained at {@code step} (0-based): step / stepsPerTask, capped at the last task. */
    public int taskAt(long step) {
        return (int) Math.min(step / stepsPerTask, tasks.tasks() - 1);
    }

    /** Total steps to learn every task once. */
    public long totalSteps() {
        return (long) stepsPerTask * tasks.tasks();
    }

    public TaskConditionedHyperNetwork hypernetwork() {
        return hyper;
    }

    @Override
    public Params init(RandomStream rng) {
        return hyper.init(engine, rng).prefixed(HyperObjective.HYPER)
                .merge(target.initOrdinary(engine, rng).prefixed(HyperObjective.TARGET));
    }

    /** At the first step of task t ≥ 1, snapshots the weights generated for tasks 0..t−1. */
    @Override
    public void beforeStep(Params params, long step) {
        int task = taskAt(step);
        if (task == 0 || snapshotTasks() == task) {
            return;
        }
        Params fresh;
        try (Scope scope = Scope.open()) {
            Params taken;
            try (NoGrad noGrad = NoGrad.enter()) {
                taken = snapshotOf(params.scoped(HyperObjective.HYPER), range(task)).prefixed(SNAPSHOT);
            }
            if (regularizer == Regularizer.IMPORTANCE) {
                taken = taken.merge(importanceUpTo(params, task).prefixed(IMPORTANCE));
            }
            fresh = scope.escape(copy(taken));
        }
        snapshots.close();
        snapshots = fresh;
    }

    /** Importances [task, ...] of tasks 0..task−1: the stored rows, plus the Fisher of each task not yet measured. */
    private Params importanceUpTo(Params params, int task) {
        Params have = snapshots.scoped(IMPORTANCE);
        int rows = have.isEmpty() ? 0 : have.values().iterator().next().dim(0);
        Map<String, List<Tensor>> parts = new LinkedHashMap<>();
        for (String name : have.names()) {
            parts.computeIfAbsent(name, n -> new ArrayList<>()).add(have.get(name).slice(0, 0, Math.min(rows, task)));
        }
        for (int k = rows; k < task; k++) {
            Params f = fisher(params, k);
            for (String name : f.names()) {
                parts.computeIfAbsent(name, n -> new ArrayList<>()).add(f.get(name));
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        parts.forEach((name, list) -> out.put(name, list.size() == 1 ? list.get(0) : Tensor.concat(list, 0)));
        return Params.of(out);
    }

    /**
     * The diagonal empirical Fisher information of task k's cross-entropy in the weights generated
     * for task k, [1, ...] per generated tensor, divided by its mean over all of them. One backward
     * pass: the weights are repeated as a weight batch of S networks, network s sees example s only,
     * so the gradient of the summed loss in copy s is example s's own gradient.
     */
    Params fisher(Params params, int k) {
        Params h = params.scoped(HyperObjective.HYPER);
        Params ordinary = params.scoped(HyperObjective.TARGET).map(Tensor::stopGradient);
        Params theta;
        try (NoGrad noGrad = NoGrad.enter()) {
            theta = hyper.generate(h, hyper.taskIds(engine, new int[] {k}));
        }
        int s = fisherSamples;
        LabelledBatch data = tasks.sample(engine, k, RandomStream.of(FISHER_SEED + k), s);
        Params copies = theta.map(t -> t.broadcastTo(t.shape().with(0, s)).add(0.0).requiresGrad());
        Tensor logits = target.apply(copies, ordinary, data.inputs().expandDims(1));
        Tensor perExample = Losses.crossEntropyWithLabels(logits.reshape(s, logits.dim(-1)), data.labels()).mul(s);
        Params grads = Grad.of(perExample).wrt(copies);
        Params squared = grads.map(g -> g.square().mean(0, true));
        Tensor total = null;
        long count = 0;
        for (Tensor f : squared.values()) {
            total = total == null ? f.sum() : total.add(f.sum());
            count += f.size();
        }
        // A device-side scalar: no read-back. The tiny floor keeps an all-zero Fisher at zero instead of NaN.
        Tensor mean = total.div((double) count).add(1e-30);
        return squared.map(f -> f.div(mean));
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        int task = taskAt(step);
        if (task > 0 && snapshotTasks() != task) {
            throw new IllegalStateException("continual experiment: step " + step + " trains task " + (task + 1)
                    + " but no snapshot of tasks 1.." + task + " was taken; call beforeStep(params, step) before loss"
                    + " (the Trainer and TrainingLoop do)");
        }
        Params h = params.scoped(HyperObjective.HYPER);
        Params ordinary = params.scoped(HyperObjective.TARGET);
        LabelledBatch batch = tasks.sample(engine, task, rng, batchSize);
        if (hyper instanceof IntervalHyperNetwork interval) {
            IntervalParams current = currentInterval(interval, h, task, step);
            Tensor loss = intervalTaskLoss(current, ordinary, batch, midpointWeightAt(step));
            if (task > 0 && regularization > 0) {
                IntervalParams old = interval.generateInterval(h, hyper.taskIds(engine, range(task)));
                Tensor reg = OutputRegularizer.drift(old.lower(), snapshots.scoped(SNAPSHOT + ".lower"))
                        .add(OutputRegularizer.drift(old.center(), snapshots.scoped(SNAPSHOT + ".center")))
                        .add(OutputRegularizer.drift(old.upper(), snapshots.scoped(SNAPSHOT + ".upper")));
                loss = loss.add(reg.mul(regularization));
            }
            return loss;
        }
        Params all = hyper.generate(h, hyper.taskIds(engine, range(task + 1)));
        Tensor logits = target.apply(slice(all, task, task + 1), ordinary, batch.inputs()).squeeze(0);
        Tensor loss = Losses.crossEntropyWithLabels(logits, batch.labels());
        if (task > 0 && regularization > 0) {
            loss = loss.add(regularizer(h, task, loss, slice(all, 0, task)).mul(regularization));
        }
        return loss;
    }

    /**
     * The regularizer while task {@code task} is learned, before β: the (importance-weighted) drift of
     * tasks 0..task−1 from their snapshots, at Θ or, with the look-ahead, at Θ + ΔΘ where
     * ΔΘ = −α ∇_Θ taskLoss is a constant.
     *
     * @param h         the hypernetwork's parameters (tracked when the look-ahead is on)
     * @param taskLoss  the current task's loss, a function of {@code h}
     * @param generated the weights generated at Θ for tasks 0..task−1, or null to generate them here
     */
    Tensor regularizer(Params h, int task, Tensor taskLoss, Params generated) {
        double alpha = hyper instanceof TaskEmbeddingHyperNetwork conditioned ? conditioned.lookAhead() : 0.0;
        Params old;
        if (alpha > 0) {
            // Without withGraph() the gradients are constants: ΔΘ is held fixed, as in von Oswald et al.
            Params step = Grad.of(taskLoss).wrt(h);
            Map<String, Tensor> moved = new LinkedHashMap<>();
            for (String name : h.names()) {
                moved.put(name, h.get(name).add(step.get(name).mul(-alpha)));
            }
            old = hyper.generate(Params.of(moved), hyper.taskIds(engine, range(task)));
        } else {
            old = generated != null ? generated : hyper.generate(h, hyper.taskIds(engine, range(task)));
        }
        return regularizer == Regularizer.IMPORTANCE
                ? OutputRegularizer.weightedDrift(old, snapshots.scoped(SNAPSHOT), snapshots.scoped(IMPORTANCE))
                : OutputRegularizer.drift(old, snapshots.scoped(SNAPSHOT));
    }

    /** The interval weights of the task trained at {@code step}, [1, ...], with ε at that step. */
    IntervalParams currentInterval(IntervalHyperNetwork interval, Params h, int task, long step) {
        Tensor currentId = hyper.taskIds(engine, new int[] {task});
        // ε at this step of the task (the schedule is a function of the step number: nothing is read back).
        return interval instanceof HyperIntervalNetwork scheduled
                ? scheduled.generateInterval(h, currentId, epsilonAt(step))
                : interval.generateInterval(h, currentId);
    }

    /**
     * κ at {@code step}: with a HyperInterval ε warm-up, Krukowski et al.'s training loop also holds κ
     * near 1 during the warm-up, {@code κ(i) = max(1 − 0.00005 i, κ)} for step i of the task below
     * A = ⌊N·warmup⌋, then κ; otherwise κ throughout. Without it the worst-case term, large from the
     * first steps on a 784-input target, keeps the first task at chance (measured on Split FMNIST).
     */
    double midpointWeightAt(long step) {
        if (hyper instanceof HyperIntervalNetwork scheduled && scheduled.schedule().warmup() > 0) {
            long inTask = step - (long) taskAt(step) * stepsPerTask;
            long rampSteps = (long) Math.floor(stepsPerTask * scheduled.schedule().warmup());
            if (rampSteps > 1 && inTask < rampSteps) {
                return Math.max(1 - KAPPA_DECAY * inTask, midpointWeight);
            }
        }
        return midpointWeight;
    }

    /** ε of a scheduled HyperInterval at {@code step}: the schedule at the step within the task being trained. */
    double epsilonAt(long step) {
        if (!(hyper instanceof HyperIntervalNetwork scheduled)) {
            throw new IllegalStateException("continual experiment: '" + hyper.kind() + "' has no ε schedule");
        }
        long inTask = step - (long) taskAt(step) * stepsPerTask;
        return scheduled.schedule().at(inTask, stepsPerTask);
    }

    /**
     * Accuracy and loss of every task's generated network on its held-out set
     * ({@code task<k>.accuracy}, {@code task<k>.loss}, k from 1), their mean ({@code accuracy}); for
     * interval hypernetworks also the network of the universal embedding of all tasks
     * ({@code universal.task<k>.accuracy}, {@code universal.accuracy}).
     */
    @Override
    public Map<String, Double> evaluate(Params params) {
        Params h = params.scoped(HyperObjective.HYPER);
        Params ordinary = params.scoped(HyperObjective.TARGET);
        int n = tasks.tasks();
        Map<String, Double> out = new LinkedHashMap<>();
        Params all = hyper.generate(h, hyper.taskIds(engine, range(n)));
        out.putAll(scoreAll("", all, ordinary));
        if (hyper instanceof IntervalHyperNetwork interval) {
            Tensor universal = interval.universalEmbedding(h, n);
            Params one = interval.generateFromEmbedding(h, universal.reshape(1, universal.dim(0)));
            Params repeated = one.map(t -> t.broadcastTo(t.shape().with(0, n)));
            out.putAll(scoreAll("universal.", repeated, ordinary));
        }
        return out;
    }

    private Map<String, Double> scoreAll(String prefix, Params generated, Params ordinary) {
        int n = tasks.tasks();
        List<Tensor> inputs = new ArrayList<>();
        List<LabelledBatch> sets = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            LabelledBatch b = tasks.evaluation(engine, k);
            sets.add(b);
            inputs.add(b.inputs());
        }
        // Every task's network on its own held-out set, in one weight-batch call.
        Tensor logits = target.apply(generated, ordinary, Tensor.stack(inputs, 0));
        Map<String, Double> out = new LinkedHashMap<>();
        double sum = 0;
        for (int k = 0; k < n; k++) {
            Tensor lk = logits.slice(0, k, k + 1).squeeze(0);
            double acc = Losses.accuracy(lk, sets.get(k).labels());
            out.put(prefix + "task" + (k + 1) + ".accuracy", acc);
            if (prefix.isEmpty()) {
                out.put("task" + (k + 1) + ".loss", Losses.crossEntropyWithLabels(lk, sets.get(k).labels()).item());
            }
            sum += acc;
        }
        out.put(prefix + "accuracy", sum / n);
        return out;
    }

    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("training loss", "the current task's cross-entropy plus the output regulariser that keeps earlier tasks' "
                + "generated weights in place");
        out.put("eval accuracy", "mean held-out accuracy over all tasks, each with its own generated weights: forgetting shows as a drop");
        out.put("eval taskK.accuracy", "held-out accuracy on task K alone (one series per task)");
        return out;
    }

    /**
     * Snapshots, {@code snapshot.<name>} [t, ...] (or {@code snapshot.lower|center|upper.<name>}), and
     * with the importance regularizer {@code importance.<name>} [t, ...].
     */
    @Override
    public Params state() {
        return snapshots;
    }

    @Override
    public void loadState(Params state) {
        requireNonNull(state, "state is null");
        for (String name : state.names()) {
            if (!name.startsWith(SNAPSHOT + ".") && !name.startsWith(IMPORTANCE + ".")) {
                throw new IllegalArgumentException("continual experiment: unknown state entry '" + name
                        + "'; expected snapshot.<param> or importance.<param>");
            }
        }
        Params copied = state.map(t -> t.engine().wrapUnscoped(t.engine().kernels().cast(t.nativeArray(), t.dtype())));
        snapshots.close();
        snapshots = copied;
    }

    /** Frees the snapshots. */
    public void close() {
        snapshots.close();
        snapshots = Params.empty();
    }

    private int snapshotTasks() {
        Params taken = snapshots.scoped(SNAPSHOT);
        return taken.isEmpty() ? 0 : taken.values().iterator().next().dim(0);
    }

    private Params snapshotOf(Params h, int[] ids) {
        Tensor idTensor = hyper.taskIds(engine, ids);
        if (hyper instanceof IntervalHyperNetwork interval) {
            IntervalParams box = interval.generateInterval(h, idTensor);
            return box.lower().prefixed(INTERVAL_KINDS.get(0)).merge(box.center().prefixed(INTERVAL_KINDS.get(1)))
                    .merge(box.upper().prefixed(INTERVAL_KINDS.get(2)));
        }
        return hyper.generate(h, idTensor);
    }

    private Tensor intervalTaskLoss(IntervalParams current, Params ordinary, LabelledBatch batch, double midpointWeight) {
        Params center = target.merge(current.center(), ordinary);
        Tensor midLogits = target.module().apply(center, batch.inputs()).squeeze(0);
        Tensor labels = batch.labels();
        Tensor mid = Losses.crossEntropyWithLabels(midLogits, labels);
        if (midpointWeight == 1.0) {
            return mid;
        }
        Interval logits = IntervalBounds.applyToPoint(target.module(), new IntervalParams(center, current.radius()), batch.inputs());
        Interval squeezed = new Interval(logits.center().squeeze(0), logits.radius().squeeze(0));
        Tensor oneHot = Losses.oneHot(labels, midLogits.dim(-1)).cast(midLogits.dtype());
        Tensor worst = Losses.crossEntropy(IntervalBounds.worstCaseLogits(squeezed, oneHot), oneHot);
        return mid.mul(midpointWeight).add(worst.mul(1 - midpointWeight));
    }

    private static Params slice(Params batched, int from, int to) {
        return batched.map(t -> t.slice(0, from, to));
    }

    private static Params copy(Params p) {
        return p.map(t -> t.add(0.0));
    }

    private static int[] range(int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
        }
        return ids;
    }
}
