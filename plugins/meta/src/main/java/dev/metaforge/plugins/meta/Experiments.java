package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.train.BuildContext;
import java.util.List;
import java.util.function.Function;

/** Defaults and assembly shared by the meta-learning experiment specs. */
final class Experiments {
    static final int DEFAULT_META_BATCH = 25;
    static final int DEFAULT_EVAL_TASKS = 1000;
    static final List<Integer> DEFAULT_EVAL_STEPS = List.of(1, 10);
    static final long DEFAULT_EVAL_SEED = 20170703L;

    private Experiments() {
    }

    static ModuleSpec requireModel(ModuleSpec model, String type) {
        return requireNonNull(model, type + ": \"model\" (a module spec such as {\"type\": \"mlp\", ...}) is required");
    }

    static TaskSamplerSpec requireTasks(TaskSamplerSpec tasks, String type) {
        return requireNonNull(tasks, type + ": \"tasks\" (a task sampler spec such as {\"type\": \"sinusoid\", \"k\": 10}) is required");
    }

    /** Builds the samplers once, then the learner for the tasks' loss, then the objective. */
    static MetaObjective objective(BuildContext context, Function<TaskLoss, MetaLearner> learnerForLoss, TaskSamplerSpec tasks,
            TaskSamplerSpec evalSampler, int metaBatch, int evalTasks, List<Integer> evalSteps, long evalSeed) {
        requireNonNull(context, "context is null");
        TaskSampler sampler = tasks.build(context);
        TaskSampler held = evalSampler == null ? sampler : evalSampler.build(context);
        MetaLearner learner = learnerForLoss.apply(sampler.loss());
        return new MetaObjective(context.engine(), learner, sampler, held, metaBatch, evalTasks, evalSteps, evalSeed);
    }
}
