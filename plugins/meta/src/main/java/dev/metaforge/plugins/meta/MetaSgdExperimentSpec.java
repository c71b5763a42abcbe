package dev.metaforge.plugins.meta;

import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import java.util.List;

/**
 * {@code "meta-sgd"}: Meta-SGD, MAML with learned per-parameter inner learning rates
 * ({@code "lr.<param>"} meta-parameters starting at {@code innerLr}). Example:
 * <pre>{@code
 * {"type": "meta-sgd",
 *  "model": {"type": "mlp", "sizes": [1, 40, 40, 1], "activation": "relu"},
 *  "tasks": {"type": "sinusoid", "k": 10}, "innerLr": 0.01, "metaBatch": 25}
 * }</pre>
 *
 * @param model       the network adapted per task
 * @param tasks       the meta-training task family
 * @param evalSampler held-out task family (default: {@code tasks}, with a fixed seed)
 * @param innerSteps  inner steps during meta-training (default 1)
 * @param innerLr     initial value of every learned rate (default 0.01)
 * @param firstOrder  treat inner gradients as constants (default false)
 * @param metaBatch   tasks per meta-batch (default 25)
 * @param evalTasks   held-out tasks for evaluation (default 1000)
 * @param evalSteps   inner steps after which evaluation reports the query loss (default [1, 10])
 * @param evalSeed    seed of the held-out tasks
 */
public record MetaSgdExperimentSpec(
        ModuleSpec model,
        TaskSamplerSpec tasks,
        TaskSamplerSpec evalSampler,
        @Range(min = 0, max = Limits.MAX_INNER_STEPS, what = "inner-loop steps") Integer innerSteps,
        @Range(min = 0, max = 1000, minExclusive = true, what = "inner learning rate") Double innerLr,
        Boolean firstOrder,
        @Range(min = 1, max = 65536, what = "tasks per meta-batch") Integer metaBatch,
        @Range(min = 0, max = Limits.MAX_BATCH, what = "evaluation tasks") Integer evalTasks,
        @Range(min = 0, max = Limits.MAX_INNER_STEPS, what = "inner steps at evaluation") List<Integer> evalSteps,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long evalSeed)
        implements ExperimentSpec {
    public MetaSgdExperimentSpec {
        Experiments.requireModel(model, "meta-sgd");
        Experiments.requireTasks(tasks, "meta-sgd");
        innerSteps = innerSteps == null ? 1 : innerSteps;
        innerLr = innerLr == null ? 0.01 : innerLr;
        firstOrder = firstOrder == null ? Boolean.FALSE : firstOrder;
        metaBatch = metaBatch == null ? Experiments.DEFAULT_META_BATCH : metaBatch;
        evalTasks = evalTasks == null ? Experiments.DEFAULT_EVAL_TASKS : evalTasks;
        evalSteps = evalSteps == null ? Experiments.DEFAULT_EVAL_STEPS : List.copyOf(evalSteps);
        evalSeed = evalSeed == null ? Experiments.DEFAULT_EVAL_SEED : evalSeed;
    }

    @Override
    public Objective build(BuildContext context) {
        return Experiments.objective(context, loss -> new MetaSgd(model.build(), loss, innerSteps, innerLr, firstOrder),
                tasks, evalSampler, metaBatch, evalTasks, evalSteps, evalSeed);
    }
}
