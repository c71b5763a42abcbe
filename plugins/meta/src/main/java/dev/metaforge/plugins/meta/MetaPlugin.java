package dev.metaforge.plugins.meta;

import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.plugin.ComponentExample;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.train.ExperimentSpec;
import java.util.List;

/**
 * The meta-learning family: experiments {@code maml} (and first-order MAML), {@code meta-sgd},
 * {@code anil}, {@code reptile}, {@code protonet}; task samplers {@code sinusoid},
 * {@code few-shot} (over the labelled datasets of the core plugin: {@code gaussian-clusters},
 * {@code image-folder}, {@code idx}). Registered through {@link java.util.ServiceLoader} like any third-party plugin.
 */
public final class MetaPlugin implements MetaforgePlugin {
    @Override
    public String name() {
        return "meta";
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(
                new SpecType(ExperimentSpec.class, "maml", MamlExperimentSpec.class),
                new SpecType(ExperimentSpec.class, "meta-sgd", MetaSgdExperimentSpec.class),
                new SpecType(ExperimentSpec.class, "anil", AnilExperimentSpec.class),
                new SpecType(ExperimentSpec.class, "reptile", ReptileExperimentSpec.class),
                new SpecType(ExperimentSpec.class, "protonet", ProtoNetExperimentSpec.class),
                new SpecType(TaskSamplerSpec.class, "sinusoid", SinusoidTasksSpec.class),
                new SpecType(TaskSamplerSpec.class, "few-shot", FewShotSpec.class));
    }

    /**
     * The conformance kit's examples: every learner on three-shot sinusoid tasks (MLP 1-5-1) and
     * prototypical networks on three-way Gaussian-cluster episodes. First-order MAML and Reptile
     * follow surrogate gradients by design, so the finite-difference rule skips them.
     */
    @Override
    public List<ComponentExample> conformanceExamples() {
        String sine = "\"model\": {\"type\": \"mlp\", \"sizes\": [1, 5, 1], \"activation\": \"tanh\"},"
                + " \"tasks\": {\"type\": \"sinusoid\", \"k\": 3, \"queryK\": 3}, \"metaBatch\": 2, \"evalTasks\": 2, \"evalSteps\": [1]";
        return List.of(
                ComponentExample.of("maml (second order, 2 inner steps)",
                        "{\"type\": \"maml\", " + sine + ", \"innerSteps\": 2, \"innerLr\": 0.05}"),
                ComponentExample.withSurrogateGradient("first-order maml",
                        "{\"type\": \"maml\", " + sine + ", \"innerSteps\": 2, \"innerLr\": 0.05, \"firstOrder\": true}"),
                ComponentExample.of("meta-sgd", "{\"type\": \"meta-sgd\", " + sine + ", \"innerSteps\": 1, \"innerLr\": 0.05}"),
                ComponentExample.of("anil", "{\"type\": \"anil\", " + sine + ", \"innerSteps\": 2, \"innerLr\": 0.05}"),
                // Reptile's surrogate has gradient theta - phi by definition, not the gradient of its loss.
                ComponentExample.withSurrogateGradient("reptile",
                        "{\"type\": \"reptile\", " + sine + ", \"innerSteps\": 2, \"innerLr\": 0.05}"),
                ComponentExample.of("prototypical networks", """
                        {"type": "protonet", "model": {"type": "mlp", "sizes": [4, 6, 3], "activation": "tanh"},
                         "tasks": {"type": "few-shot", "dataset": {"type": "gaussian-clusters", "fromClass": 0, "toClass": 5,
                             "examplesPerClass": 6, "informativeDims": 2, "noiseDims": 2}, "ways": 3, "shots": 2, "queries": 2},
                         "metaBatch": 2, "evalTasks": 2}"""));
    }
}
