package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;

/**
 * Model-agnostic meta-learning (Finn, Abbeel and Levine 2017): {@code innerSteps} steps of SGD
 * {@code φ ← φ - α ∇L_support(φ)} from the meta-parameters θ, and the meta-objective is the mean
 * query loss at the adapted φ. The meta-gradient differentiates through every inner step,
 * Hessian terms included; {@code firstOrder} drops them (FOMAML: inner gradients are constants).
 *
 * <pre>{@code
 * Maml maml = new Maml(Mlp.of(List.of(1, 40, 40, 1), Activation.RELU), TaskLoss.MSE, 1, 0.01, false);
 * Tensor metaLoss = maml.metaLoss(theta.requiringGrad(), batch);   // a whole meta-batch, one call
 * }</pre>
 *
 * @param module     the network adapted per task (must accept a weight batch)
 * @param loss       how tasks judge predictions
 * @param innerSteps inner SGD steps during meta-training and by default in {@link #adapt}
 * @param innerLr    the inner learning rate α
 * @param firstOrder true for first-order MAML
 */
public record Maml(Module module, TaskLoss loss, int innerSteps, double innerLr, boolean firstOrder) implements MetaLearner {
    public Maml {
        requireNonNull(module, "module is null");
        requireNonNull(loss, "loss is null");
        InnerLoop.checkSteps(innerSteps);
        InnerLoop.checkLearningRate(innerLr);
    }

    @Override
    public Params adapt(Params metaParams, TaskBatch tasks, int steps) {
        requireNonNull(metaParams, "metaParams is null");
        requireNonNull(tasks, "tasks is null");
        // p + g (-lr) is p - lr g bit for bit, and its VJP needs no negation (a kernel call per parameter and step)
        double lr = innerLr;
        return InnerLoop.run(module, loss, InnerLoop.moduleParams(module, metaParams), tasks, steps,
                name -> true, (name, p, g) -> p.add(g.mul(-lr)), !firstOrder);
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
