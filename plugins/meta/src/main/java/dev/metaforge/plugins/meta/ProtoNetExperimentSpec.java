package dev.metaforge.plugins.meta;

import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import java.util.List;

/**
 * {@code "protonet"}: prototypical networks on few-shot classification episodes; evaluation
 * reports {@code accuracy} and {@code loss} on held-out episodes. Example:
 * <pre>{@code
 * {"type": "protonet",
 *  "model": {"type": "mlp", "sizes": [16, 64, 16], "activation": "relu"},
 *  "tasks": {"type": "few-shot", "ways": 5, "shots": 1, "queries": 5,
 *            "dataset": {"type": "gaussian-clusters", "fromClass": 0, "toClass": 64}},
 *  "evalSampler": {"type": "few-shot", "ways": 5, "shots": 1, "queries": 5,
 *            "dataset": {"type": "gaussian-clusters", "fromClass": 64, "toClass": 100}},
 *  "metaBatch": 8, "evalTasks": 500}
 * }</pre>
 *
 * @param model       the embedding network
 * @param tasks       the meta-training episodes
 * @param evalSampler held-out episodes, ideally over disjoint classes (default: {@code tasks})
 * @param metaBatch   episodes per meta-batch (default 25)
 * @param evalTasks   held-out episodes for evaluation (default 1000)
 * @param evalSeed    seed of the held-out episodes
 */
public record ProtoNetExperimentSpec(
        ModuleSpec model,
        TaskSamplerSpec tasks,
        TaskSamplerSpec evalSampler,
        @Range(min = 1, max = 65536, what = "tasks per meta-batch") Integer metaBatch,
        @Range(min = 0, max = Limits.MAX_BATCH, what = "evaluation tasks") Integer evalTasks,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long evalSeed) implements ExperimentSpec {
    public ProtoNetExperimentSpec {
        Experiments.requireModel(model, "protonet");
        Experiments.requireTasks(tasks, "protonet");
        metaBatch = metaBatch == null ? Experiments.DEFAULT_META_BATCH : metaBatch;
        evalTasks = evalTasks == null ? Experiments.DEFAULT_EVAL_TASKS : evalTasks;
        evalSeed = evalSeed == null ? Experiments.DEFAULT_EVAL_SEED : evalSeed;
    }

    @Override
    public Objective build(BuildContext context) {
        return Experiments.objective(context, loss -> {
            if (loss != TaskLoss.CROSS_ENTROPY) {
                throw new IllegalArgumentException("protonet: prototypical networks classify, but the tasks are judged by " + loss
                        + "; use a few-shot task sampler such as {\"type\": \"few-shot\", ...}");
            }
            return new PrototypicalNetwork(model.build());
        }, tasks, evalSampler, metaBatch, evalTasks, List.of(0), evalSeed);
    }
}
