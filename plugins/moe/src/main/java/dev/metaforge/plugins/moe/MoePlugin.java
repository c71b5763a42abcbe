package dev.metaforge.plugins.moe;

import dev.metaforge.api.moe.RouterSpec;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.plugin.ComponentExample;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.train.ExperimentSpec;
import java.util.List;

/**
 * Mixture-of-experts components, registered through {@link java.util.ServiceLoader} like any
 * third-party plugin: the modules {@code moe}, {@code dynamic-dino} (a dense FFN split into
 * fine-grained experts) and {@code read-me} (a stack routed ahead of time by a pre-gating network); routers {@code topk}, {@code switch}, {@code dropless},
 * {@code noisy-topk}, {@code expert-choice}, {@code aux-free}; the experiments
 * {@code moe-classification}, {@code moe-sequence-classification} (a small MoE transformer on a synthetic
 * token task whose content tokens mean different things per mode) and {@code mixer} (MixER: K-means + least-squares gating on mixed
 * dynamical systems) {@code mixture-of-supernets} (architecture-routed expert weights) and {@code meta-dmoe} (test-time
 * distillation of domain experts into a student, meta-learned).
 */
public final class MoePlugin implements MetaforgePlugin {
    @Override
    public String name() {
        return "moe";
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(
                new SpecType(ModuleSpec.class, "moe", MoeSpec.class),
                new SpecType(ModuleSpec.class, "dynamic-dino", DynamicDinoSpec.class),
                new SpecType(ModuleSpec.class, "read-me", ReadMeSpec.class),
                new SpecType(RouterSpec.class, "topk", TopKRouterSpec.class),
                new SpecType(RouterSpec.class, "switch", SwitchRouterSpec.class),
                new SpecType(RouterSpec.class, "dropless", DroplessRouterSpec.class),
                new SpecType(RouterSpec.class, "noisy-topk", NoisyTopKRouterSpec.class),
                new SpecType(RouterSpec.class, "expert-choice", ExpertChoiceRouterSpec.class),
                new SpecType(RouterSpec.class, "aux-free", AuxFreeRouterSpec.class),
                new SpecType(ExperimentSpec.class, "moe-classification", MoeClassificationSpec.class),
                new SpecType(ExperimentSpec.class, "moe-sequence-classification", MoeSequenceSpec.class),
                new SpecType(ExperimentSpec.class, "mixer", MixerExperimentSpec.class),
                new SpecType(ExperimentSpec.class, "mixture-of-supernets", SupernetExperimentSpec.class),
                new SpecType(ExperimentSpec.class, "meta-dmoe", MetaDmoeExperimentSpec.class));
    }

    /**
     * The conformance kit's example: a top-2-of-3 MoE layer (with its load-balancing loss) in a small
     * classifier on Gaussian clusters. The data's seed is fixed, so whether a token's top-2 set could
     * flip within a finite-difference step is settled once, not per run.
     */
    @Override
    public List<ComponentExample> conformanceExamples() {
        return List.of(ComponentExample.of("moe classification, top-2 of 3 experts", """
                {"type": "moe-classification", "model": {"type": "sequential", "layers": [
                    {"type": "linear", "in": 4, "out": 6}, {"type": "activation", "function": "tanh"},
                    {"type": "moe", "width": 6, "experts": 3, "expert": {"type": "mlp", "sizes": [6, 5, 6], "activation": "tanh"},
                     "router": {"type": "topk", "k": 2, "balanceWeight": 0.01}},
                    {"type": "linear", "in": 6, "out": 3}]},
                 "clusters": {"classes": 3, "features": 4, "modes": 2, "noise": 0.5, "train": 24, "test": 12, "seed": 1},
                 "batch": 8, "evalBatch": 12}"""));
    }
}
