package dev.metaforge.plugins.meta;

import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import java.util.List;

/**
 * {@code "anil"}: MAML adapting only the head in the inner loop. Example:
 * <pre>{@code
 * {"type": "anil",
 *  "model": {"type": "mlp", "sizes": [1, 40, 40, 1], "activation": "relu"},
 *  "tasks": {"type": "sinusoid", "k": 10}, "innerSteps": 5, "innerLr": 0.01, "headPrefix": "2."}
 * }</pre>
 *
 * @param model       the network adapted per task
 * @param tasks       the meta-training task family
 * @param evalSampler held-out task family (default: {@code tasks}, with a fixed seed)
 * @param innerSteps  inner steps during meta-training (default 1)
 * @param innerLr     inner learning rate (default 0.01)
 * @param firstOrder  treat inner gradients as constants (default false)
 * @param headPrefix  name prefix of the head parameters (default: the module's last layer)
 * @param metaBatch   tasks per meta-batch (default 25)
 * @param evalTasks   held-out tasks for evaluation (default 1000)
 * @param evalSteps   inner steps after which evaluation reports the query loss (default [1, 10])
 * @param evalSeed    seed of the held-out tasks
 */
public record AnilExperimentSpec(
        ModuleSpec model,
        TaskSamplerSpec tasks,
        TaskSamplerSpec evalSampler,
        @Range(min = 0, max = Limits.MAX_INNER_STEPS, what = "inner-loop steps") Integer innerSteps,
        @Range(min = 0, max = 1000, minExclusive = true, what = "inner learning rate") Double innerLr,
        Boolean firstOrder,
        String headPrefix,
        @Range(min = 1, max = 65536, what = "tasks per meta-batch") Integer metaBatch,
        @Range(min = 0, max = Limits.MAX_BATCH, what = "evaluation tasks") Integer evalTasks,
        @Range(min = 0, max = Limits.MAX_INNER_STEPS, what = "inner steps at evaluation") List<Integer> evalSteps,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long evalSeed) implements ExperimentSpec {
    public AnilExperimentSpec {
        Experiments.requireModel(model, "anil");
        Experiments.requireTasks(tasks, "anil");
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
        return Experiments.objective(context, loss -> {
            Module module = model.build();
            String head = headPrefix == null ? Anil.lastLayerPrefix(module) : headPrefix;
            return new Anil(module, loss, innerSteps, innerLr, firstOrder, head);
        }, tasks, evalSampler, metaBatch, evalTasks, evalSteps, evalSeed);
    }
}
