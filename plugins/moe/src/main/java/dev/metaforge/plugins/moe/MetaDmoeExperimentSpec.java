package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;

/**
 * {@code {"type": "meta-dmoe", "expert": {"type": "mlp", "sizes": [1, 32, 32, 1], "activation": "tanh"},
 * "task": {"sourceDomains": [-2, -1, 0, 1, 2], "targetDomains": [-1.5, -0.5, 0.5, 1.5]}, "innerSteps": 2,
 * "innerLr": 0.1, "domainsPerStep": 2}}: Meta-DMoE on shifted regression domains ({@link MetaDmoe}).
 *
 * @param expert         the architecture of each expert and of the student (an mlp 1 → ... → 1)
 * @param task           the domains
 * @param innerSteps     distillation steps at adaptation (default 2)
 * @param innerLr        their step size (default 0.1)
 * @param domainsPerStep source domains per meta-step (default 2)
 */
public record MetaDmoeExperimentSpec(
        ModuleSpec expert,
        DomainShift task,
        @Range(min = 0, max = Limits.MAX_INNER_STEPS, what = "inner adaptation steps") int innerSteps,
        @Range(min = 0, max = 1000, what = "inner learning rate") double innerLr,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "domains per meta-step") int domainsPerStep)
        implements ExperimentSpec {
    public MetaDmoeExperimentSpec {
        Fields.required(expert, "expert", "an mlp 1 -> ... -> 1");
        Fields.required(task, "task", "{\"sourceDomains\": [...], \"targetDomains\": [...]}");
        Fields.positive(innerSteps, "innerSteps");
        Fields.positive(innerLr, "innerLr");
        Fields.positive(domainsPerStep, "domainsPerStep");
        model(expert, task, innerSteps, innerLr);
    }

    @JsonCreator
    static MetaDmoeExperimentSpec fromJson(@JsonProperty("expert") ModuleSpec expert, @JsonProperty("task") DomainShift task,
                                           @JsonProperty("innerSteps") Integer innerSteps, @JsonProperty("innerLr") Double innerLr,
                                           @JsonProperty("domainsPerStep") Integer domainsPerStep) {
        return new MetaDmoeExperimentSpec(expert, Fields.orDefault(task, DomainShift.fromJson(null, null, null, null)),
                Fields.orDefault(innerSteps, 2), Fields.orDefault(innerLr, 0.1), Fields.orDefault(domainsPerStep, 2));
    }

    static MetaDmoe model(ModuleSpec expertSpec, DomainShift task, int innerSteps, double innerLr) {
        Module built = expertSpec.build();
        if (!(built instanceof Mlp mlp) || mlp.sizes().get(0) != 1 || mlp.sizes().get(mlp.sizes().size() - 1) != 1) {
            throw new IllegalArgumentException("field 'expert' must be an mlp mapping 1 feature to 1");
        }
        return new MetaDmoe(1, 1, task.sourceDomains().size(), mlp, innerSteps, innerLr);
    }

    @Override
    public Objective build(BuildContext context) {
        return new MetaDmoeObjective(context.engine(), model(expert, task, innerSteps, innerLr), task, domainsPerStep);
    }
}
