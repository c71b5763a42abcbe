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
 * <p>The snapshots are the objective's {@link #state()}, so they survive checkpoints.
 */
public final class ContinualObjective implements Objective {
    private static final String SNAPSHOT = "snapshot";
    private static final List<String> INTERVAL_KINDS = List.of("lower", "center", "upper");

    private final Engine engine;
    private final HyperTarget target;
    private final TaskConditionedHyperNetwork hyper;
    private final TaskSequence tasks;
    private final int stepsPerTask;
    private final int batchSize;
    private final double regularization;
    private final double midpointWeight;
    /** Generated weights of tasks 0..t−1 taken when task t began, owned by no scope. */
    private Params snapshots = Params.empty();

    /**
     * @param regularization β, the weight of the output regularizer (0 disables it)
     * @param midpointWeight κ for interval hypernetworks: the weight of the midpoint loss against the worst case
     */
    public ContinualObjective(Engine engine, HyperTarget target, TaskConditionedHyperNetwork hyper, TaskSequence tasks,
                              int stepsPerTask, int batchSize, double regularization, double midpointWeight) {
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
        try (NoGrad noGrad = NoGrad.enter(); Scope scope = Scope.open()) {
            Params taken = snapshotOf(params.scoped(HyperObjective.HYPER), range(task)).prefixed(SNAPSHOT);
            fresh = scope.escape(copy(taken));
        }
        snapshots.close();
        snapshots = fresh;
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
        Tensor ids = hyper.taskIds(engine, range(task + 1));
        if (hyper instanceof IntervalHyperNetwork interval) {
            IntervalParams all = interval.generateInterval(h, ids);
            IntervalParams current = new IntervalParams(slice(all.center(), task, task + 1), slice(all.radius(), task, task + 1));
            Tensor loss = intervalTaskLoss(current, ordinary, batch);
            if (task > 0 && regularization > 0) {
                IntervalParams old = new IntervalParams(slice(all.center(), 0, task), slice(all.radius(), 0, task));
                Tensor reg = OutputRegularizer.drift(old.lower(), snapshots.scoped(SNAPSHOT + ".lower"))
                        .add(OutputRegularizer.drift(old.center(), snapshots.scoped(SNAPSHOT + ".center")))
                        .add(OutputRegularizer.drift(old.upper(), snapshots.scoped(SNAPSHOT + ".upper")));
                loss = loss.add(reg.mul(regularization));
            }
            return loss;
        }
        Params all = hyper.generate(h, ids);
        Tensor logits = target.apply(slice(all, task, task + 1), ordinary, batch.inputs()).squeeze(0);
        Tensor loss = Losses.crossEntropyWithLabels(logits, batch.labels());
        if (task > 0 && regularization > 0) {
            loss = loss.add(OutputRegularizer.drift(slice(all, 0, task), snapshots.scoped(SNAPSHOT)).mul(regularization));
        }
        return loss;
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

    /** Snapshots, {@code snapshot.<name>} [t, ...] (or {@code snapshot.lower|center|upper.<name>}). */
    @Override
    public Params state() {
        return snapshots;
    }

    @Override
    public void loadState(Params state) {
        requireNonNull(state, "state is null");
        for (String name : state.names()) {
            if (!name.startsWith(SNAPSHOT + ".")) {
                throw new IllegalArgumentException("continual experiment: unknown state entry '" + name + "'; expected snapshot.<param>");
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
        return snapshots.isEmpty() ? 0 : snapshots.values().iterator().next().dim(0);
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

    private Tensor intervalTaskLoss(IntervalParams current, Params ordinary, LabelledBatch batch) {
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
