package dev.metaforge.api.meta;

import dev.metaforge.api.loss.TaskLoss;
import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An algorithm that learns how to adapt a network to a new task from a few examples: a map
 * from a task's support set to task-specific {@link Params}, plus the meta-objective that
 * trains the shared meta-parameters.
 *
 * <p>A whole meta-batch is processed at once: {@link #adapt} returns parameters with a leading
 * weight-batch axis T (one network per task), and the module applies all T networks in one
 * call. Adaptation works on {@code Params}, never on copies of modules.
 *
 * <p>Second order: when {@code metaParams} are tracked, {@link #metaLoss} records the inner loop
 * so its gradient differentiates through the adaptation (MAML's Hessian terms), unless the
 * learner is first-order. With untracked {@code metaParams} (evaluation) the inner loop runs
 * without recording anything.
 *
 * <pre>{@code
 * Params theta = learner.init(engine, RandomStream.of(0));
 * Params p = theta.requiringGrad();
 * Params metaGrad = Grad.of(learner.metaLoss(p, batch)).wrt(p);      // then an optimizer step
 * Params adapted = learner.adapt(theta, testTasks, 10);               // [T, ...] weights
 * double mse = learner.queryLoss(adapted, testTasks).mean().item();
 * }</pre>
 */
public interface MetaLearner {
    /** The network that is adapted (for metric learners, the embedding network). */
    Module module();

    /** How tasks are judged. */
    TaskLoss loss();

    /** Inner steps of {@link #adapt(Params, TaskBatch)} and of the meta-objective. */
    int innerSteps();

    /**
     * Meta-parameters beyond the module's own, e.g. Meta-SGD's per-parameter learning rates
     * named {@code "lr.<param>"}; none by default.
     */
    default List<ParamSpec> extraParameters() {
        return List.of();
    }

    /** Fresh meta-parameters: the module's, then the {@link #extraParameters()}. */
    default Params init(Engine engine, RandomStream rng) {
        requireNonNull(engine, "engine is null");
        requireNonNull(rng, "rng is null");
        Params params = module().init(engine, rng);
        Map<String, Tensor> extra = new LinkedHashMap<>();
        for (ParamSpec spec : extraParameters()) {
            extra.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
        }
        return params.merge(Params.of(extra));
    }

    /** Task-specific parameters after {@link #innerSteps()} inner steps on each task's support set. */
    default Params adapt(Params metaParams, TaskBatch tasks) {
        return adapt(metaParams, tasks, innerSteps());
    }

    /**
     * Task-specific parameters after {@code steps} inner steps on each task's support set: every
     * entry has a leading axis T over the tasks (or is shared by all tasks, e.g. a prototypical
     * network's embedding weights).
     */
    Params adapt(Params metaParams, TaskBatch tasks, int steps);

    /** Predictions {@code [T, n, outputs]} of adapted parameters on inputs {@code [T, n, ...]}. */
    Tensor predict(Params adapted, Tensor inputs);

    /** Each task's query loss {@code [T]} under adapted parameters. */
    default Tensor queryLoss(Params adapted, TaskBatch tasks) {
        return loss().perTask(predict(adapted, tasks.queryInputs()), tasks.queryTargets());
    }

    /**
     * The scalar meta-objective of a meta-batch, differentiable with respect to tracked
     * {@code metaParams} (an outer optimizer minimises it). For MAML-like learners it is the
     * mean post-adaptation query loss; for Reptile a surrogate whose gradient is its update.
     */
    Tensor metaLoss(Params metaParams, TaskBatch batch);

    /**
     * True when {@link #metaLossPart} splits this learner's meta-loss over tasks, so a meta-batch
     * can be spread over machines and the summed gradient is the exact meta-gradient. False by
     * default: a learner opts in once its {@link #metaLoss} is a mean of per-task terms (or says
     * otherwise through {@link #metaLossPart}).
     */
    default boolean splitsOverTasks() {
        return false;
    }

    /**
     * The share of {@link #metaLoss} contributed by {@code part}, tasks of a meta-batch of
     * {@code batchTasks} tasks: for any partition of the batch, the gradients of the parts sum to
     * the gradient of {@code metaLoss} on the whole batch, and (for mean-type meta-losses) the
     * values sum to its value. The default is the summed query loss of the part divided by
     * {@code batchTasks}, right for every learner whose meta-loss is the mean post-adaptation
     * query loss; learners opt in with {@link #splitsOverTasks}.
     */
    default Tensor metaLossPart(Params metaParams, TaskBatch part, int batchTasks) {
        if (batchTasks < part.tasks()) {
            throw new IllegalArgumentException("a part of " + part.tasks() + " tasks cannot belong to a meta-batch of " + batchTasks);
        }
        return queryLoss(adapt(metaParams, part), part).sum().div(batchTasks);
    }

    /**
     * The meta-loss value of a whole batch from the summed values of its {@link #metaLossPart}s
     * and the summed meta-gradient. Default: the sum; learners whose meta-loss is not linear in
     * the tasks (Reptile's surrogate) compute it from the gradient.
     */
    default double metaLossOfParts(double partSum, Params metaGradient) {
        return partSum;
    }

    /** The gradient of {@link #metaLoss} with respect to {@code metaParams} (constants). */
    default Params metaGradient(Params metaParams, TaskBatch batch) {
        Params tracked = metaParams.requiringGrad();
        return Grad.of(metaLoss(tracked, batch)).wrt(tracked);
    }
}
