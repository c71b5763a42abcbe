package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.ConditionedTaskSpec;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.TaskSequenceSpec;
import dev.metaforge.api.plugin.ComponentExample;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.train.ExperimentSpec;
import java.util.List;

/**
 * The hypernetwork family: hypernetworks ({@code standard}, {@code mip}, {@code chunked},
 * {@code task-conditioned}, {@code hyperinterval}, {@code recurrent}, {@code ha-static}), conditioned task families
 * ({@code loss-weighting}, {@code sinusoid}), the {@code split-blobs} continual-learning sequence,
 * and the {@code hypernetwork}, {@code continual}, {@code neumeta}, {@code ghn} (graph hypernetwork) and
 * {@code channel-offsets} (HyperStyle-like offsets for a frozen conv network) experiments. Registered through
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
                new SpecType(TaskSequenceSpec.class, PermutedSequenceSpec.TYPE, PermutedSequenceSpec.class),
                new SpecType(TaskSequenceSpec.class, SplitSequenceSpec.TYPE, SplitSequenceSpec.class),
                new SpecType(ExperimentSpec.class, HyperExperimentSpec.TYPE, HyperExperimentSpec.class),
                new SpecType(ExperimentSpec.class, ContinualExperimentSpec.TYPE, ContinualExperimentSpec.class),
                new SpecType(ExperimentSpec.class, dev.metaforge.plugins.hyper.neumeta.NeuMetaExperimentSpec.TYPE,
                        dev.metaforge.plugins.hyper.neumeta.NeuMetaExperimentSpec.class),
                new SpecType(ExperimentSpec.class, dev.metaforge.plugins.hyper.ghn.GhnExperimentSpec.TYPE,
                        dev.metaforge.plugins.hyper.ghn.GhnExperimentSpec.class),
                new SpecType(ExperimentSpec.class, dev.metaforge.plugins.hyper.offsets.ChannelOffsetsExperimentSpec.TYPE,
                        dev.metaforge.plugins.hyper.offsets.ChannelOffsetsExperimentSpec.class));
    }

    /**
     * The conformance kit's examples: each hypernetwork on a small loss-weighting task (target MLP
     * 1-4-1), both continual learners on two split-blobs tasks, NeuMeta's implicit weights (regression and
     * classification), graph hypernetworks (MLP and CNN spaces), and channel offsets for a frozen two-layer conv network.
     */
    @Override
    public List<ComponentExample> conformanceExamples() {
        String target = "\"target\": {\"type\": \"mlp\", \"sizes\": [1, 4, 1], \"activation\": \"tanh\"}";
        String weighting = "\"task\": {\"type\": \"loss-weighting\", \"evaluationConditions\": 2, \"evaluationPoints\": 4},"
                + " \"contextsPerStep\": 3, \"pointsPerContext\": 5";
        String blobs = "\"target\": {\"type\": \"mlp\", \"sizes\": [2, 4, 2], \"activation\": \"tanh\"},"
                + " \"tasks\": {\"type\": \"split-blobs\", \"tasks\": 2, \"evaluationSize\": 10}, \"stepsPerTask\": 2, \"batchSize\": 6";
        String ghnSizes = "\"embed\": 3, \"decoderHidden\": 4, \"rank\": 2, \"archsPerStep\": 2, \"batchSize\": 5,"
                + " \"evalExamples\": 6, \"finetuneSteps\": 1";
        return List.of(
                ComponentExample.of("hypernetwork hmlp", "{\"type\": \"hypernetwork\", " + target
                        + ", \"hypernetwork\": {\"type\": \"hmlp\", \"contextSize\": 1, \"hidden\": [6]}, " + weighting + "}"),
                ComponentExample.of("hypernetwork mip", "{\"type\": \"hypernetwork\", " + target
                        + ", \"hypernetwork\": {\"type\": \"mip\", \"inputs\": 1, \"hidden\": [6]}, " + weighting + "}"),
                ComponentExample.of("hypernetwork chunked", "{\"type\": \"hypernetwork\", " + target
                        + ", \"hypernetwork\": {\"type\": \"chunked\", \"contextSize\": 1, \"chunkSize\": 4,"
                        + " \"chunkEmbeddingSize\": 3, \"hidden\": [6]}, " + weighting + "}"),
                ComponentExample.of("hypernetwork recurrent", "{\"type\": \"hypernetwork\", " + target
                        + ", \"hypernetwork\": {\"type\": \"recurrent\", \"contextSize\": 1, \"hiddenSize\": 5,"
                        + " \"chunkSize\": 4, \"chunkEmbeddingSize\": 3}, " + weighting + "}"),
                ComponentExample.of("continual task-conditioned", "{\"type\": \"continual\", " + blobs
                        + ", \"hypernetwork\": {\"type\": \"task-conditioned\", \"tasks\": 2, \"embeddingSize\": 3, \"hidden\": [6]}}"),
                ComponentExample.of("continual hyperinterval", "{\"type\": \"continual\", " + blobs
                        + ", \"hypernetwork\": {\"type\": \"hyperinterval\", \"tasks\": 2, \"embeddingSize\": 3, \"hidden\": [6]}}"),
                ComponentExample.of("continual hyperinterval epsilon warm-up", "{\"type\": \"continual\", " + blobs
                        + ", \"hypernetwork\": {\"type\": \"hyperinterval\", \"tasks\": 2, \"embeddingSize\": 3, \"hidden\": [6],"
                        + " \"perturbation\": {\"epsilon\": 1.0, \"warmup\": 0.5}}}"),
                ComponentExample.of("continual importance regularizer, recurrent generator", "{\"type\": \"continual\", " + blobs
                        + ", \"regularizer\": \"importance\", \"fisherSamples\": 4, \"hypernetwork\": {\"type\": \"task-conditioned\","
                        + " \"tasks\": 2, \"embeddingSize\": 3, \"generator\": {\"type\": \"recurrent\", \"contextSize\": 3,"
                        + " \"hiddenSize\": 4, \"chunkSize\": 5, \"chunkEmbeddingSize\": 2}}}"),
                ComponentExample.of("neumeta implicit weights", """
                        {"type": "neumeta", "frequencies": 1, "hidden": [4], "minWidth": 2, "maxWidth": 3, "widths": [2, 3], "batch": 4}"""),
                // The classification task (the Fashion-MNIST example's path) on generated clusters: source training,
                // smoothing, stem, per-layer heads, reconstruction and norm terms.
                ComponentExample.of("neumeta classifier", """
                        {"type": "neumeta", "train": {"type": "gaussian-clusters", "seed": 2, "toClass": 3, "examplesPerClass": 8,
                         "informativeDims": 2, "noiseDims": 1}, "frequencies": 1, "hidden": [4], "stem": 3, "minWidth": 2,
                         "maxWidth": 3, "widths": [2, 3], "batch": 4, "sourceSteps": 3}"""),
                // Graph hypernetworks: each step draws architectures from the space and predicts all their parameters.
                ComponentExample.of("ghn graph hypernetwork mlp", "{\"type\": \"ghn\", " + ghnData(4)
                        + ", \"space\": {\"depths\": [1, 2], \"widths\": [2, 3], \"activations\": [\"tanh\"], \"heldOut\": 2}, " + ghnSizes + "}"),
                ComponentExample.of("ghn graph hypernetwork cnn", "{\"type\": \"ghn\", " + ghnData(16)
                        + ", \"space\": {\"type\": \"cnn\", \"image\": [1, 4, 4], \"depths\": [1], \"widths\": [2, 3],"
                        + " \"kernels\": [1, 3], \"activations\": [\"tanh\"], \"heldOut\": 2}, " + ghnSizes + "}"),
                // Offsets for both kernels of a frozen 2-conv net on 2x2 "images", two refinement steps; tanh keeps
                // the loss smooth for finite differences.
                ComponentExample.of("channel-offsets frozen conv", """
                        {"type": "channel-offsets",
                         "model": {"type": "sequential", "layers": [
                           {"type": "conv2d", "inChannels": 1, "outChannels": 2, "kernel": 2, "padding": 1},
                           {"type": "activation", "function": "tanh"},
                           {"type": "conv2d", "inChannels": 2, "outChannels": 2, "kernel": 2},
                           {"type": "activation", "function": "tanh"},
                           {"type": "flatten", "startAxis": -3, "endAxis": -1}, {"type": "linear", "in": 8, "out": 2}]},
                         "encoder": {"type": "sequential", "layers": [{"type": "flatten"}, {"type": "linear", "in": 4, "out": 2},
                           {"type": "activation", "function": "tanh"}]},
                         "hidden": [3], "refinementSteps": 2,
                         "train": {"type": "gaussian-clusters", "seed": 5, "toClass": 2, "examplesPerClass": 6, "informativeDims": 2,
                                   "noiseDims": 2},
                         "testFraction": 0.25, "inputShape": [1, 2, 2], "shift": {"gain": [0.5, 1.0], "invert": 0.5},
                         "batchSize": 4, "evalExamples": 3, "sourceSteps": 2, "finetuneSteps": 1}"""));
    }

    /** A small generated 3-class dataset with {@code dims} values per example, for the GHN examples. */
    private static String ghnData(int dims) {
        return "\"train\": {\"type\": \"gaussian-clusters\", \"seed\": 3, \"toClass\": 3, \"examplesPerClass\": 8,"
                + " \"informativeDims\": " + dims + ", \"noiseDims\": 0, \"clusterStd\": 0.5, \"noiseStd\": 1.0}";
    }
}
