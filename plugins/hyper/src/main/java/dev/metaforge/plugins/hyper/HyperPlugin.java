package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.ConditionedTaskSpec;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.TaskSequenceSpec;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.train.ExperimentSpec;
import java.util.List;

/**
 * The hypernetwork family: hypernetworks ({@code standard}, {@code mip}, {@code chunked},
 * {@code task-conditioned}, {@code hyperinterval}, {@code recurrent}, {@code ha-static}), conditioned task families
 * ({@code loss-weighting}, {@code sinusoid}), the {@code split-blobs} continual-learning sequence,
 * and the {@code hypernetwork}, {@code continual}, {@code neumeta} and {@code ghn} (graph hypernetwork)
 * experiments. Registered through
 * {@code META-INF/services}, exactly as a third-party plugin would be.
 */
public final class HyperPlugin implements MetaforgePlugin {
    @Override
    public String name() {
        return "hyper";
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(
                new SpecType(HyperNetworkSpec.class, HmlpHyperNetworkSpec.TYPE, HmlpHyperNetworkSpec.class),
                new SpecType(HyperNetworkSpec.class, MipHyperNetworkSpec.TYPE, MipHyperNetworkSpec.class),
                new SpecType(HyperNetworkSpec.class, ChunkedHyperNetworkSpec.TYPE, ChunkedHyperNetworkSpec.class),
                new SpecType(HyperNetworkSpec.class, TaskConditionedHyperNetworkSpec.TYPE, TaskConditionedHyperNetworkSpec.class),
                new SpecType(HyperNetworkSpec.class, HyperIntervalSpec.TYPE, HyperIntervalSpec.class),
                new SpecType(HyperNetworkSpec.class, RecurrentHyperNetworkSpec.TYPE, RecurrentHyperNetworkSpec.class),
                new SpecType(HyperNetworkSpec.class, HaStaticHyperNetworkSpec.TYPE, HaStaticHyperNetworkSpec.class),
                new SpecType(ConditionedTaskSpec.class, "loss-weighting", LossWeightingTaskSpec.class),
                new SpecType(ConditionedTaskSpec.class, "sinusoid", SinusoidFamilySpec.class),
                new SpecType(TaskSequenceSpec.class, "split-blobs", SplitBlobsSpec.class),
                new SpecType(ExperimentSpec.class, HyperExperimentSpec.TYPE, HyperExperimentSpec.class),
                new SpecType(ExperimentSpec.class, ContinualExperimentSpec.TYPE, ContinualExperimentSpec.class),
                new SpecType(ExperimentSpec.class, dev.metaforge.plugins.hyper.neumeta.NeuMetaExperimentSpec.TYPE,
                        dev.metaforge.plugins.hyper.neumeta.NeuMetaExperimentSpec.class),
                new SpecType(ExperimentSpec.class, dev.metaforge.plugins.hyper.ghn.GhnExperimentSpec.TYPE,
                        dev.metaforge.plugins.hyper.ghn.GhnExperimentSpec.class));
    }
}
