package dev.metaforge.plugins.core;

import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.optim.OptimizerSpec;
import dev.metaforge.api.plugin.ComponentExample;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.train.ExperimentSpec;
import java.util.List;

/**
 * The core components every family builds on, registered through {@link java.util.ServiceLoader}
 * like any third-party plugin: modules {@code linear}, {@code mlp}, {@code sequential},
 * {@code activation}, {@code conv2d}, {@code maxpool2d}, {@code avgpool2d}, {@code batchnorm}, {@code layernorm},
 * {@code dropout}, {@code embedding}, {@code flatten}, {@code residual}, {@code attention},
 * {@code transformer-block}; optimizers {@code adam}, {@code adamw}, {@code sgd}; the experiments
 * {@code regression} (a supervised model on a built-in function) and {@code classification} (a
 * supervised classifier on a labelled dataset); labelled datasets {@code idx} (MNIST-format files,
 * Fashion-MNIST by default), {@code image-folder} and {@code gaussian-clusters}.
 */
public final class CorePlugin implements MetaforgePlugin {
    @Override
    public String name() {
        return "core";
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(
                new SpecType(ModuleSpec.class, "linear", LinearSpec.class),
                new SpecType(ModuleSpec.class, "mlp", MlpSpec.class),
                new SpecType(ModuleSpec.class, "sequential", SequentialSpec.class),
                new SpecType(ModuleSpec.class, "activation", ActivationSpec.class),
                new SpecType(ModuleSpec.class, "conv2d", Conv2dSpec.class),
                new SpecType(ModuleSpec.class, "maxpool2d", MaxPool2dSpec.class),
                new SpecType(ModuleSpec.class, "avgpool2d", AvgPool2dSpec.class),
                new SpecType(ModuleSpec.class, "batchnorm", BatchNormSpec.class),
                new SpecType(ModuleSpec.class, "layernorm", LayerNormSpec.class),
                new SpecType(ModuleSpec.class, "dropout", DropoutSpec.class),
                new SpecType(ModuleSpec.class, "embedding", EmbeddingSpec.class),
                new SpecType(ModuleSpec.class, "flatten", FlattenSpec.class),
                new SpecType(ModuleSpec.class, "residual", ResidualSpec.class),
                new SpecType(ModuleSpec.class, "attention", AttentionSpec.class),
                new SpecType(ModuleSpec.class, "transformer-block", TransformerBlockSpec.class),
                new SpecType(OptimizerSpec.class, "adam", AdamSpec.class),
                new SpecType(OptimizerSpec.class, "adamw", AdamWSpec.class),
                new SpecType(OptimizerSpec.class, "sgd", SgdSpec.class),
                new SpecType(ExperimentSpec.class, "regression", RegressionExperimentSpec.class),
                new SpecType(ExperimentSpec.class, "classification", ClassificationExperimentSpec.class),
                new SpecType(LabelledDatasetSpec.class, "idx", IdxSpec.class),
                new SpecType(LabelledDatasetSpec.class, "image-folder", ImageFolderSpec.class),
                new SpecType(LabelledDatasetSpec.class, "gaussian-clusters", GaussianClustersSpec.class));
    }

    /** The conformance kit's examples: a plain MLP regression and one through the normalising and residual layers. */
    @Override
    public List<ComponentExample> conformanceExamples() {
        return List.of(
                ComponentExample.of("regression", """
                        {"type": "regression", "model": {"type": "mlp", "sizes": [1, 4, 1], "activation": "tanh"},
                         "task": {"function": "sin", "batch": 5, "evalPoints": 5}}"""),
                ComponentExample.of("regression through layernorm, residual, batchnorm and dropout layers", """
                        {"type": "regression", "model": {"type": "sequential", "layers": [
                            {"type": "linear", "in": 1, "out": 6}, {"type": "layernorm", "features": 6},
                            {"type": "residual", "inner": {"type": "sequential", "layers": [
                                {"type": "linear", "in": 6, "out": 6}, {"type": "activation", "function": "tanh"}]}},
                            {"type": "batchnorm", "features": 6}, {"type": "dropout", "p": 0.1},
                            {"type": "linear", "in": 6, "out": 1}]},
                         "task": {"function": "sin", "batch": 5, "evalPoints": 5}}"""));
    }
}
