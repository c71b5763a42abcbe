package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.hyper.TaskConditionedHyperNetwork;
import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.hyper.TaskSequenceSpec;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;

/**
 * {@code "continual"}: a task sequence learned one task after another by a task-conditioned
 * hypernetwork ({@code "task-conditioned"} or {@code "hyperinterval"}) with the output
 * regularizer; builds a {@link ContinualObjective}. Train for {@code stepsPerTask × tasks} steps.
 *
 * <pre>{@code
 * {"type": "continual",
 *  "target": {"type": "mlp", "sizes": [2, 10, 2], "activation": "relu"},
 *  "hypernetwork": {"type": "task-conditioned", "tasks": 5, "embeddingSize": 8},
 *  "tasks": {"type": "split-blobs", "tasks": 5},
 *  "stepsPerTask": 300, "batchSize": 64, "regularization": 0.01}
 * }</pre>
 *
 * @param target          the target module (required)
 * @param generate        which parameters are generated (default: all)
 * @param hypernetwork    a task-conditioned hypernetwork (default: task-conditioned with one embedding per task)
 * @param tasks           the task sequence (required)
 * @param stepsPerTask    training steps per task (required)
 * @param batchSize       examples per step (default 64)
 * @param regularization  β of the output regularizer (default 0.01; 0 disables it)
 * @param midpointWeight  κ for hyperinterval: midpoint loss weight against the worst case (default 0.5)
 * @param regularizer     {@code "output"} (von Oswald et al., default) or {@code "importance"} (Chandra et al.:
 *                        each weight's drift weighted by its Fisher importance for its task; β is
 *                        {@code regularization}); see {@link ContinualObjective}
 * @param fisherSamples   training examples per task for the Fisher importance (default 256; unused by the output regularizer)
 */
public record ContinualExperimentSpec(
        ModuleSpec target,
        ParamSelection generate,
        HyperNetworkSpec hypernetwork,
        TaskSequenceSpec tasks,
        @Range(min = 1, max = Limits.MAX_STEPS, what = "steps per task") Integer stepsPerTask,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "batch size") Integer batchSize,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "output regularization weight") Double regularization,
        @Range(min = 0, max = 1, what = "midpoint weight") Double midpointWeight,
        String regularizer,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "Fisher samples") Integer fisherSamples) implements ExperimentSpec {
    static final String TYPE = "continual";

    public ContinualExperimentSpec {
        SpecChecks.requiredObject(target, TYPE, "target");
        SpecChecks.requiredObject(tasks, TYPE, "tasks");
        SpecChecks.required(stepsPerTask, TYPE, "stepsPerTask");
        generate = generate == null ? ParamSelection.all() : generate;
        batchSize = batchSize == null ? 64 : SpecChecks.positive(batchSize, TYPE, "batchSize");
        regularization = regularization == null ? 0.01 : regularization;
        midpointWeight = midpointWeight == null ? 0.5 : midpointWeight;
        regularizer = regularizer == null ? "output" : regularizer;
        if (!regularizer.equals("output") && !regularizer.equals("importance")) {
            throw new IllegalArgumentException("spec 'continual': field 'regularizer' must be \"output\" (von Oswald et al.) or"
                    + " \"importance\" (Chandra et al.), got \"" + regularizer + "\"");
        }
        fisherSamples = fisherSamples == null ? 256 : SpecChecks.positive(fisherSamples, TYPE, "fisherSamples");
    }

    @Override
    public Objective build(BuildContext context) {
        HyperTarget hyperTarget = new HyperTarget(target.build(), generate);
        TaskSequence sequence = tasks.build(context);
        HyperNetworkSpec spec = hypernetwork != null ? hypernetwork
                : new TaskConditionedHyperNetworkSpec(sequence.tasks(), null, null, null, null, null, null);
        HyperNetwork built = spec.build(hyperTarget);
        if (!(built instanceof TaskConditionedHyperNetwork conditioned)) {
            throw new IllegalArgumentException("continual experiment: the hypernetwork must be task-conditioned"
                    + " ('task-conditioned' or 'hyperinterval'), got '" + built.kind() + "'");
        }
        ContinualObjective.Regularizer kind = regularizer.equals("importance")
                ? ContinualObjective.Regularizer.IMPORTANCE : ContinualObjective.Regularizer.OUTPUT;
        return new ContinualObjective(context.engine(), hyperTarget, conditioned, sequence, stepsPerTask, batchSize, regularization,
                midpointWeight, kind, fisherSamples);
    }
}
