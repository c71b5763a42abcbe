package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.EnableGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.CapturableObjective;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.ShardedObjective;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Meta-training as an {@link Objective}: each step draws a meta-batch from the step's random
 * stream (so a resumed run sees the same tasks) and returns the learner's meta-loss. Evaluation
 * adapts to {@code evalTasks} held-out tasks drawn from a fixed seed and reports the mean query
 * loss after each number of inner steps: {@code mse_after_<k>} for regression,
 * {@code loss_after_<k>} and {@code accuracy_after_<k>} for classification (without the suffix
 * for learners that take no inner steps, such as prototypical networks).
 *
 * <p>Sharded ({@link ShardedObjective}): the meta-batch's tasks are the units. A shard draws the
 * step's meta-batch from the step's random stream exactly as {@link #loss} does and keeps tasks
 * {@code [from, to)}, so task {@code i} of step {@code s} is the same task in every shard and in the
 * single-process run; its {@link MetaLearner#metaLossPart} gradients sum to the meta-gradient of the
 * whole batch. Learners that do not split their meta-loss over tasks are not {@link #shardable()}.
 */
public final class MetaObjective implements ShardedObjective, CapturableObjective {
    /** Tasks adapted at once during evaluation (bounds memory for large evaluation sets). */
    static final int EVAL_CHUNK = 250;

    private final Engine engine;
    private final MetaLearner learner;
    private final TaskSampler sampler;
    private final TaskSampler evalSampler;
    private final int metaBatch;
    private final int evalTasks;
    private final List<Integer> evalSteps;
    private final long evalSeed;

    public MetaObjective(Engine engine, MetaLearner learner, TaskSampler sampler, TaskSampler evalSampler, int metaBatch,
            int evalTasks, List<Integer> evalSteps, long evalSeed) {
        this.engine = requireNonNull(engine, "engine is null");
        this.learner = requireNonNull(learner, "learner is null");
        this.sampler = requireNonNull(sampler, "sampler is null");
        this.evalSampler = requireNonNull(evalSampler, "evalSampler is null");
        this.evalSteps = List.copyOf(requireNonNull(evalSteps, "evalSteps is null"));
        if (metaBatch <= 0 || evalTasks < 0) {
            throw new IllegalArgumentException("metaBatch must be positive and evalTasks non-negative, got " + metaBatch + " and " + evalTasks);
        }
        for (int s : this.evalSteps) {
            if (s < 0) {
                throw new IllegalArgumentException("evalSteps must be non-negative, got " + this.evalSteps);
            }
        }
        if (sampler.loss() != learner.loss() || evalSampler.loss() != learner.loss()) {
            throw new IllegalArgumentException("the learner judges tasks by " + learner.loss() + " but the task sampler "
                    + (sampler.loss() != learner.loss() ? sampler : evalSampler) + " produces " + sampler.loss()
                    + " tasks; a prototypical network needs few-shot classification tasks");
        }
        this.metaBatch = metaBatch;
        this.evalTasks = evalTasks;
        this.evalSeed = evalSeed;
    }

    public MetaLearner learner() {
        return learner;
    }

    public TaskSampler sampler() {
        return sampler;
    }

    public int metaBatch() {
        return metaBatch;
    }

    @Override
    public Params init(RandomStream rng) {
        return learner.init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        return CapturableObjective.super.lossTerms(params, step, rng);
    }

    /** The step's meta-batch, drawn from {@code rng} on the host: support and query inputs and targets. */
    @Override
    public Params inputs(long step, RandomStream rng) {
        TaskBatch batch = sampler.sample(engine, metaBatch, rng);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("supportInputs", batch.supportInputs());
        out.put("supportTargets", batch.supportTargets());
        out.put("queryInputs", batch.queryInputs());
        out.put("queryTargets", batch.queryTargets());
        return Params.of(out);
    }

    /** The learner's meta-loss on the meta-batch of {@link #inputs}. */
    @Override
    public LossTerms lossTerms(Params params, Params inputs, RandomStream rng) {
        TaskBatch batch = new TaskBatch(inputs.get("supportInputs"), inputs.get("supportTargets"), inputs.get("queryInputs"),
                inputs.get("queryTargets"));
        return LossTerms.of(learner.metaLoss(params, batch));
    }

    @Override
    public int shardUnits(long step) {
        return metaBatch;
    }

    @Override
    public String unitName() {
        return "tasks";
    }

    @Override
    public boolean shardable() {
        return learner.splitsOverTasks();
    }

    /** The whole range is {@link #loss} itself; a part is the learner's {@link MetaLearner#metaLossPart}. */
    @Override
    public LossTerms shardLossTerms(Params params, long step, RandomStream rng, int from, int to) {
        ShardedObjective.checkRange(this, step, from, to);
        TaskBatch batch = sampler.sample(engine, metaBatch, rng);
        if (from == 0 && to == metaBatch) {
            return LossTerms.of(learner.metaLoss(params, batch));
        }
        if (!learner.splitsOverTasks()) {
            throw new UnsupportedOperationException(learner + " does not say how its meta-loss splits over tasks"
                    + " (MetaLearner.splitsOverTasks); its meta-batch cannot be sharded");
        }
        return LossTerms.of(learner.metaLossPart(params, batch.slice(from, to), metaBatch));
    }

    @Override
    public double combinedLoss(double shardLossSum, Params gradient) {
        return learner.metaLossOfParts(shardLossSum, gradient);
    }

    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> out = new LinkedHashMap<>();
        boolean classification = learner.loss() == TaskLoss.CROSS_ENTROPY;
        String what = classification ? "cross-entropy" : "mean squared error";
        out.put("training loss", "query-set " + what + " after adapting on each task's support set, over this step's meta-batch");
        for (int steps : evalSteps) {
            String suffix = learner.innerSteps() == 0 && evalSteps.size() == 1 ? "" : "_after_" + steps;
            out.put("eval " + (classification ? "loss" : "mse") + suffix, "query-set " + what + " on held-out tasks after "
                    + steps + " adaptation step" + (steps == 1 ? "" : "s") + " on their support sets");
            if (classification) {
                out.put("eval accuracy" + suffix, "query-set accuracy on held-out tasks after " + steps + " adaptation step"
                        + (steps == 1 ? "" : "s") + ": the signal");
            }
        }
        return out;
    }

    /**
     * Adapting needs gradients, so recording is turned back on ({@link EnableGrad}) when the
     * caller evaluates inside a {@code NoGrad} block; the parameters are only read.
     */
    @Override
    public Map<String, Double> evaluate(Params params) {
        requireNonNull(params, "params is null");
        if (evalTasks == 0) {
            return Map.of();
        }
        try (EnableGrad ignored = EnableGrad.enter()) {
            return evaluateHere(params);
        }
    }

    private Map<String, Double> evaluateHere(Params params) {
        boolean classification = learner.loss() == TaskLoss.CROSS_ENTROPY;
        double[] lossSum = new double[evalSteps.size()];
        double[] accuracySum = new double[evalSteps.size()];
        RandomStream rng = RandomStream.of(evalSeed);
        Params constant = params.stopGradient();
        int done = 0;
        while (done < evalTasks) {
            int n = Math.min(EVAL_CHUNK, evalTasks - done);
            try (Scope ignored = Scope.open()) {
                TaskBatch batch = evalSampler.sample(engine, n, rng);
                for (int i = 0; i < evalSteps.size(); i++) {
                    Params adapted = learner.adapt(constant, batch, evalSteps.get(i));
                    Tensor predictions = learner.predict(adapted, batch.queryInputs());
                    lossSum[i] += learner.loss().perTask(predictions, batch.queryTargets()).sum().item();
                    if (classification) {
                        accuracySum[i] += TaskLoss.accuracy(predictions, batch.queryTargets()) * n;
                    }
                }
            }
            done += n;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < evalSteps.size(); i++) {
            String suffix = learner.innerSteps() == 0 && evalSteps.size() == 1 ? "" : "_after_" + evalSteps.get(i);
            out.put((classification ? "loss" : "mse") + suffix, lossSum[i] / evalTasks);
            if (classification) {
                out.put("accuracy" + suffix, accuracySum[i] / evalTasks);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "MetaObjective[" + learner + ", tasks " + sampler + ", meta-batch " + metaBatch + "]";
    }
}
