package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Meta-SGD (Li, Zhou, Chen and Li 2017): MAML whose inner learning rate is a learned tensor per
 * parameter, {@code φ ← φ - α_p ⊙ ∇L_support(φ)}. The rates are meta-parameters named
 * {@code "lr.<param>"} (same shape as the parameter), initialised to {@code initialLr}; the
 * meta-gradient reaches them through the inner step.
 *
 * @param module     the network adapted per task
 * @param loss       how tasks judge predictions
 * @param innerSteps inner steps during meta-training and by default in {@link #adapt}
 * @param initialLr  starting value of every learned rate
 * @param firstOrder true to treat inner gradients as constants (the rates still get gradients)
 */
public record MetaSgd(Module module, TaskLoss loss, int innerSteps, double initialLr, boolean firstOrder) implements MetaLearner {
    /** The prefix of the learned learning-rate entries. */
    public static final String RATE_PREFIX = "lr.";

    public MetaSgd {
        requireNonNull(module, "module is null");
        requireNonNull(loss, "loss is null");
        InnerLoop.checkSteps(innerSteps);
        InnerLoop.checkLearningRate(initialLr);
        for (ParamSpec spec : module.parameters()) {
            if (spec.name().startsWith(RATE_PREFIX)) {
                throw new IllegalArgumentException("Meta-SGD names its learning rates '" + RATE_PREFIX
                        + "<param>', but the module already has a parameter '" + spec.name() + "'");
            }
        }
    }

    @Override
    public List<ParamSpec> extraParameters() {
        List<ParamSpec> out = new ArrayList<>();
        for (ParamSpec spec : module.parameters()) {
            out.add(new ParamSpec(RATE_PREFIX + spec.name(), spec.shape(), ParamKind.OTHER, spec.fanIn(), spec.fanOut(),
                    Initializer.constant(initialLr)));
        }
        return out;
    }

    @Override
    public Params adapt(Params metaParams, TaskBatch tasks, int steps) {
        requireNonNull(metaParams, "metaParams is null");
        requireNonNull(tasks, "tasks is null");
        Params rates = metaParams.scoped(RATE_PREFIX.substring(0, RATE_PREFIX.length() - 1));
        for (ParamSpec spec : module.parameters()) {
            if (!rates.contains(spec.name())) {
                throw new IllegalArgumentException("Meta-SGD meta-parameters lack the learning rate '" + RATE_PREFIX + spec.name()
                        + "'; initialise them with learner.init(...)");
            }
        }
        // The rates are [shape] and broadcast over the task axis of φ [T, shape]; their VJP sums the tasks.
        return InnerLoop.run(module, loss, InnerLoop.moduleParams(module, metaParams), tasks, steps,
                name -> true, (name, p, g) -> p.sub(g.mul(rates.get(name))), !firstOrder);
    }

    @Override
    public Tensor predict(Params adapted, Tensor inputs) {
        return module.apply(adapted, inputs);
    }

    @Override
    public Tensor metaLoss(Params metaParams, TaskBatch batch) {
        return queryLoss(adapt(metaParams, batch), batch).mean();
    }

    /** The meta-loss is the mean query loss over tasks, so the default {@link #metaLossPart} splits it exactly. */
    @Override
    public boolean splitsOverTasks() {
        return true;
    }
}
