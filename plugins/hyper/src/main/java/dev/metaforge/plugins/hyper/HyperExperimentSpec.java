package dev.metaforge.plugins.hyper;

import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.SafetensorsFile;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.hyper.ConditionedTask;
import dev.metaforge.api.hyper.ConditionedTaskSpec;
import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code "hypernetwork"}: a target module, which of its parameters are generated, a hypernetwork
 * and a conditioned task family; builds a {@link HyperObjective}. Without {@code hypernetwork}, MIP
 * (the default for scalar-conditioned hypernetworks) with hidden widths [64, 64].
 *
 * <pre>{@code
 * {"type": "hypernetwork",
 *  "target": {"type": "mlp", "sizes": [1, 32, 32, 1], "activation": "relu"},
 *  "generate": {"kinds": ["weight", "bias"]},
 *  "hypernetwork": {"type": "mip", "inputs": 1, "hidden": [64, 64]},
 *  "task": {"type": "loss-weighting"},
 *  "contextsPerStep": 16, "pointsPerContext": 64}
 * }</pre>
 *
 * @param target           the target module (required)
 * @param generate         which parameters are generated (default: all)
 * @param hypernetwork     the hypernetwork (default: mip)
 * @param task             the conditioned task family (required)
 * @param contextsPerStep  conditions per step, one weight batch (default 16)
 * @param pointsPerContext inputs per condition (default 64)
 * @param theta0           optional safetensors file with the target's pretrained weights, for MIP's θ0
 */
public record HyperExperimentSpec(
        ModuleSpec target,
        ParamSelection generate,
        HyperNetworkSpec hypernetwork,
        ConditionedTaskSpec task,
        @Range(min = 1, max = 65536, what = "contexts per step") Integer contextsPerStep,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "points per context") Integer pointsPerContext,
        String theta0) implements ExperimentSpec {
    static final String TYPE = "hypernetwork";

    public HyperExperimentSpec {
        SpecChecks.requiredObject(target, TYPE, "target");
        SpecChecks.requiredObject(task, TYPE, "task");
        generate = generate == null ? ParamSelection.all() : generate;
        contextsPerStep = contextsPerStep == null ? 16 : SpecChecks.positive(contextsPerStep, TYPE, "contextsPerStep");
        pointsPerContext = pointsPerContext == null ? 64 : SpecChecks.positive(pointsPerContext, TYPE, "pointsPerContext");
        // Each step's points are drawn into one Java array before they reach the backend.
        if ((long) contextsPerStep * pointsPerContext > MAX_POINTS_PER_STEP) {
            throw new IllegalArgumentException("spec 'hypernetwork': field 'contextsPerStep' (" + contextsPerStep
                    + ") times pointsPerContext (" + pointsPerContext + ") is " + ((long) contextsPerStep * pointsPerContext)
                    + " points per step, more than " + MAX_POINTS_PER_STEP + "; lower one of them");
        }
    }

    /** The most points (contexts times points per context) one step may draw: 2^24. */
    static final long MAX_POINTS_PER_STEP = 1L << 24;

    @Override
    public Objective build(BuildContext context) {
        HyperTarget hyperTarget = new HyperTarget(target.build(), generate);
        ConditionedTask family = task.build();
        HyperNetwork hyper = hypernetwork != null ? hypernetwork.build(hyperTarget)
                : MipHyperNetwork.standard(hyperTarget.generated(), family.conditions(), List.of(64, 64), Activation.RELU);
        Params pretrained = theta0 == null ? null : readWeights(context, context.resolve(theta0));
        return new HyperObjective(context.engine(), hyperTarget, hyper, family, contextsPerStep, pointsPerContext, pretrained);
    }

    private static Params readWeights(BuildContext context, Path file) {
        SafetensorsFile read;
        try {
            read = Safetensors.read(file);
        } catch (IOException e) {
            // A missing or invalid file is the spec's problem: a SpecException naming the field, like any bad value.
            String problem = e instanceof java.nio.file.NoSuchFileException ? file + " does not exist" : e.getMessage();
            throw new SpecException("hypernetwork experiment: cannot read the θ0 weights of field 'theta0' (" + file + "): " + problem,
                    "$.experiment.theta0", e);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        read.tensors().forEach((name, data) -> out.put(name, toTensor(context, data)));
        return Params.of(out);
    }

    private static Tensor toTensor(BuildContext context, TensorData data) {
        return data.toTensor(context.engine());
    }
}
