package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.ModelExperiment;
import dev.metaforge.api.train.Objective;
import java.util.List;

/**
 * {@code {"type": "regression", "model": {"type": "mlp", "sizes": [1, 32, 32, 1], "activation": "tanh"},
 * "task": {"function": "sin", "xMin": -3.14, "xMax": 3.14, "batch": 64}}}: a supervised model
 * fitted to a built-in function by mean squared error. The model maps [N, 1] to [N, 1].
 * Evaluation reports {@code mse} and {@code maxAbsError} on the task's fixed grid.
 *
 * @param model the network to train
 * @param task  the function and how data is drawn
 */
public record RegressionExperimentSpec(ModuleSpec model, RegressionTask task) implements ExperimentSpec, ModelExperiment {
    public RegressionExperimentSpec {
        Fields.required(model, "model", "a module spec such as {\"type\": \"mlp\", \"sizes\": [1, 32, 32, 1]}");
        Fields.required(task, "task", "{\"function\": \"sin\"} and optionally xMin, xMax, batch, evalPoints");
    }

    @JsonCreator
    static RegressionExperimentSpec fromJson(@JsonProperty("model") ModuleSpec model, @JsonProperty("task") RegressionTask task) {
        return new RegressionExperimentSpec(model, task);
    }

    /** One input value per example: the model maps [N, 1] to [N, 1]. */
    @Override
    public List<Integer> exampleShape() {
        return List.of(1);
    }

    @Override
    public Objective build(BuildContext context) {
        return new RegressionObjective(context.engine(), model.build(), task);
    }
}
