package dev.metaforge.plugins.meta;

import dev.metaforge.api.meta.TaskSamplerSpec;
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
}
