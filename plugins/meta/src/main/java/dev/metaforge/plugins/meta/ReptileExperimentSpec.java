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
 * {@code "reptile"}: Reptile; the outer optimizer receives {@code θ - mean(φ)} as gradient (with
 * SGD of rate ε this is the paper's update). Example:
 * <pre>{@code
 * {"type": "reptile",
 *  "model": {"type": "mlp", "sizes": [1, 40, 40, 1], "activation": "relu"},
 *  "tasks": {"type": "sinusoid", "k": 10}, "innerSteps": 5, "innerLr": 0.01, "metaBatch": 25}
 * }</pre>
 *
 * @param model       the network adapted per task
 * @param tasks       the meta-training task family
 * @param evalSampler held-out task family (default: {@code tasks}, with a fixed seed)
 * @param innerSteps  inner SGD steps per task (default 5)
 * @param innerLr     inner learning rate (default 0.01)
 * @param metaBatch   tasks per meta-batch (default 25)
 * @param evalTasks   held-out tasks for evaluation (default 1000)
 * @param evalSteps   inner steps after which evaluation reports the query loss (default [1, 10])
 * @param evalSeed    seed of the held-out tasks
 */
public record ReptileExperimentSpec(
        ModuleSpec model,
        TaskSamplerSpec tasks,
        TaskSamplerSpec evalSampler,
        @Range(min = 0, max = Limits.MAX_INNER_STEPS, what = "inner-loop steps") Integer innerSteps,
        @Range(min = 0, max = 1000, minExclusive = true, what = "inner learning rate") Double innerLr,
        @Range(min = 1, max = 65536, what = "tasks per meta-batch") Integer metaBatch,
        @Range(min = 0, max = Limits.MAX_BATCH, what = "evaluation tasks") Integer evalTasks,
        @Range(min = 0, max = Limits.MAX_INNER_STEPS, what = "inner steps at evaluation") List<Integer> evalSteps,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long evalSeed) implements ExperimentSpec {
    public ReptileExperimentSpec {
        Experiments.requireModel(model, "reptile");
        Experiments.requireTasks(tasks, "reptile");
        innerSteps = innerSteps == null ? 5 : innerSteps;
        innerLr = innerLr == null ? 0.01 : innerLr;
        metaBatch = metaBatch == null ? Experiments.DEFAULT_META_BATCH : metaBatch;
        evalTasks = evalTasks == null ? Experiments.DEFAULT_EVAL_TASKS : evalTasks;
        evalSteps = evalSteps == null ? Experiments.DEFAULT_EVAL_STEPS : List.copyOf(evalSteps);
        evalSeed = evalSeed == null ? Experiments.DEFAULT_EVAL_SEED : evalSeed;
    }

    @Override
    public Objective build(BuildContext context) {
        return Experiments.objective(context, loss -> new Reptile(model.build(), loss, innerSteps, innerLr),
                tasks, evalSampler, metaBatch, evalTasks, evalSteps, evalSeed);
    }
}
