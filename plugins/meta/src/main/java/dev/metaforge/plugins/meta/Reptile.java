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

    @Override
    public boolean splitsOverTasks() {
        return true;
    }

    /**
     * {@code Σ_tasks ½||θ - stop_gradient(φ_t)||² / batchTasks}: its gradient {@code Σ_t (θ - φ_t) / batchTasks}
     * summed over the parts of a batch is {@code θ - mean_T φ_T}, the gradient of {@link #metaLoss}.
     * Its value is not the surrogate's ({@link #metaLossOfParts} recovers that).
     */
    @Override
    public Tensor metaLossPart(Params metaParams, TaskBatch part, int batchTasks) {
        if (batchTasks < part.tasks()) {
            throw new IllegalArgumentException("a part of " + part.tasks() + " tasks cannot belong to a meta-batch of " + batchTasks);
        }
        Params theta = InnerLoop.moduleParams(module, metaParams);
        Params adapted = adapt(theta, part);
        Tensor total = null;
        for (String name : theta.names()) {
            Tensor term = theta.get(name).expandDims(0).sub(adapted.get(name).stopGradient()).square().sum().mul(0.5 / batchTasks);
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    /** The surrogate {@code ½ Σ ||θ - mean φ||²} is half the squared norm of its gradient {@code θ - mean φ}. */
    @Override
    public double metaLossOfParts(double partSum, Params metaGradient) {
        double total = 0;
        for (Tensor g : metaGradient.values()) {
            for (double v : g.toDoubles()) {
                total += v * v;
            }
        }
        return 0.5 * total;
    }
}
