package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;

/**
 * {@code {"type": "mixer", "experts": 3, "expert": {"type": "mlp", "sizes": [7, 32, 32, 1], "activation": "tanh"},
 * "task": {"families": 3, "environments": 12, "contextWidth": 4}, "refitEvery": 100, "kmeansIterations": 20, "ridge": 1e-6}}:
 * MixER on mixed dynamical-system regression ({@link MixerRouter}, {@link MixerObjective}): a top-1
 * MoE whose gate is fitted by K-means and least squares, whose experts are trained by gradient.
 *
 * @param experts          E (K of K-means)
 * @param expert           one expert, mapping [ξ, a, w, x] (width contextWidth + 3) to y (width 1)
 * @param task             the environments
 * @param refitEvery       steps between gate refits (default 100; the first step always refits)
 * @param kmeansIterations Lloyd iterations (default 20)
 * @param ridge            λ of the least squares (default 1e-6)
 */
public record MixerExperimentSpec(
        @Range(min = 1, max = 4096, what = "experts") int experts,
        ModuleSpec expert,
        MixedSystems task,
        @Range(min = 1, max = Integer.MAX_VALUE, what = "steps between router refits") int refitEvery,
        @Range(min = 1, max = Limits.MAX_INNER_STEPS, what = "k-means iterations") int kmeansIterations,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "ridge penalty") double ridge) implements ExperimentSpec {
    public MixerExperimentSpec {
        Fields.positive(experts, "experts");
        Fields.required(expert, "expert", "one expert mapping width contextWidth + 3 to 1, e.g. an mlp");
        Fields.required(task, "task", "{\"families\": 3, \"environments\": 12, \"contextWidth\": 4}");
        Fields.positive(refitEvery, "refitEvery");
        Fields.positive(kmeansIterations, "kmeansIterations");
        Fields.nonNegative(ridge, "ridge");
        layer(experts, expert, task);
    }

    @JsonCreator
    static MixerExperimentSpec fromJson(@JsonProperty("experts") Integer experts, @JsonProperty("expert") ModuleSpec expert,
                                        @JsonProperty("task") MixedSystems task, @JsonProperty("refitEvery") Integer refitEvery,
                                        @JsonProperty("kmeansIterations") Integer kmeansIterations,
                                        @JsonProperty("ridge") Double ridge) {
        return new MixerExperimentSpec(Fields.required(experts, "experts", "the number of experts (K-means clusters)"), expert,
                Fields.orDefault(task, MixedSystems.fromJson(null, null, null, null, null)), Fields.orDefault(refitEvery, 100),
                Fields.orDefault(kmeansIterations, 20), Fields.orDefault(ridge, 1e-6));
    }

    static MixtureOfExperts layer(int experts, ModuleSpec expertSpec, MixedSystems task) {
        Module expert = expertSpec.build();
        int[] io = MixtureOfExperts.widths(expert);
        if ((io[0] >= 0 && io[0] != task.width()) || (io[1] >= 0 && io[1] != 1)) {
            throw new IllegalArgumentException("field 'expert' maps " + io[0] + " to " + io[1] + " features; it must map the token width "
                    + task.width() + " (contextWidth + 3) to 1");
        }
        return new MixtureOfExperts(new MixerRouter(task.width(), task.contextWidth(), experts), expert, experts, null, 0);
    }

    @Override
    public Objective build(BuildContext context) {
        return new MixerObjective(context.engine(), layer(experts, expert, task), task, refitEvery, kmeansIterations, ridge);
    }
}
