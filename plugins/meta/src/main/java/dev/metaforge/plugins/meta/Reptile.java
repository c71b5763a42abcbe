package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;

/**
 * Reptile (Nichol, Achiam and Schulman 2018): run {@code innerSteps} plain SGD steps on each
 * task's support set (all tasks at once, as a weight batch), then move θ towards the mean of the
 * adapted weights. Its update direction {@code θ - mean_T(φ_T)} is handed to the outer optimizer
 * as the gradient of the surrogate {@code ½ Σ ||θ - stop_gradient(mean_T φ_T)||²}, so Reptile
 * trains through the same {@code Objective} and optimizers as every other learner (plain SGD with
 * rate ε gives the paper's {@code θ ← θ + ε(φ̄ - θ)}). The surrogate's value is half the squared
 * distance the inner loop moved.
 *
 * @param module     the network adapted per task
 * @param loss       how tasks judge predictions
 * @param innerSteps inner SGD steps per task
 * @param innerLr    the inner learning rate
 */
public record Reptile(Module module, TaskLoss loss, int innerSteps, double innerLr) implements MetaLearner {
    public Reptile {
        requireNonNull(module, "module is null");
        requireNonNull(loss, "loss is null");
        InnerLoop.checkSteps(innerSteps);
        InnerLoop.checkLearningRate(innerLr);
    }

    @Override
    public Params adapt(Params metaParams, TaskBatch tasks, int steps) {
        requireNonNull(metaParams, "metaParams is null");
        requireNonNull(tasks, "tasks is null");
        double lr = innerLr;
        // Reptile never differentiates through the inner loop.
        return InnerLoop.run(module, loss, InnerLoop.moduleParams(module, metaParams).stopGradient(), tasks, steps,
                name -> true, (name, p, g) -> p.sub(g.mul(lr)), false);
    }

    @Override
    public Tensor predict(Params adapted, Tensor inputs) {
        return module.apply(adapted, inputs);
    }

    @Override
    public Tensor metaLoss(Params metaParams, TaskBatch batch) {
        Params theta = InnerLoop.moduleParams(module, metaParams);
        Params adapted = adapt(theta, batch);
        Tensor total = null;
        for (String name : theta.names()) {
            Tensor target = adapted.get(name).mean(0, false).stopGradient();
            Tensor term = theta.get(name).sub(target).square().sum().mul(0.5);
            total = total == null ? term : total.add(term);
        }
        return total;
    }
}
