package dev.metaforge.plugins.meta;

import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The gradient-based inner loop shared by MAML, first-order MAML, Meta-SGD, ANIL and Reptile,
 * run on a whole meta-batch at once: the meta-parameters are broadcast to a weight batch
 * {@code [T, ...]}, the module applies the T networks in one call, and one backward pass of the
 * summed per-task losses gives every task its own gradient (the tasks share no weights).
 */
final class InnerLoop {
    /** One inner update of one parameter: {@code name}, its current task-batched value, its gradient. */
    @FunctionalInterface
    interface Update {
        Tensor apply(String name, Tensor param, Tensor grad);
    }

    private InnerLoop() {
    }

    /** The module's own entries of {@code metaParams} (without extra meta-parameters such as learning rates). */
    static Params moduleParams(Module module, Params metaParams) {
        Set<String> names = new LinkedHashSet<>();
        for (ParamSpec spec : module.parameters()) {
            if (!metaParams.contains(spec.name())) {
                throw new IllegalArgumentException("meta-parameters lack the module's parameter '" + spec.name()
                        + "'; they have " + metaParams.names() + " (initialise them with learner.init(...))");
            }
            names.add(spec.name());
        }
        return metaParams.filter(names::contains);
    }

    /** Each entry repeated over a new leading task axis: {@code [T, ...]}; the broadcast's VJP sums the tasks back. */
    static Params broadcast(Params params, int tasks) {
        return params.map(p -> {
            int[] dims = p.shape().dims();
            int[] batched = new int[dims.length + 1];
            batched[0] = tasks;
            System.arraycopy(dims, 0, batched, 1, dims.length);
            // Straight to [T, ...] (broadcasting adds the leading axis): its VJP is then one sum, with no reshapes.
            return p.broadcastTo(Shape.of(batched));
        });
    }

    /** True when every entry is tracked, so gradients with respect to the meta-parameters are wanted. */
    static boolean tracked(Params params) {
        for (Tensor t : params.values()) {
            if (!t.isTracked()) {
                return false;
            }
        }
        return !params.isEmpty();
    }

    /**
     * {@code steps} gradient steps on each task's support set, starting from {@code moduleParams}
     * broadcast to the tasks. Entries accepted by {@code adapted} are updated, the others stay
     * the meta-parameters. With tracked {@code moduleParams} the result stays connected to
     * them: through the inner gradients too ({@code secondOrder}), or with the inner gradients
     * as constants (first order). With untracked ones nothing is recorded (evaluation).
     */
    static Params run(Module module, TaskLoss loss, Params moduleParams, TaskBatch tasks, int steps,
            Predicate<String> adapted, Update update, boolean secondOrder) {
        if (steps < 0) {
            throw new IllegalArgumentException("inner steps must be >= 0, got " + steps);
        }
        boolean metaTracked = tracked(moduleParams);
        Params phi = broadcast(moduleParams, tasks.tasks());
        List<String> adaptedNames = phi.names().stream().filter(adapted).toList();
        if (adaptedNames.isEmpty() && steps > 0) {
            throw new IllegalArgumentException("no parameter is adapted in the inner loop; parameters: " + phi.names());
        }
        for (int s = 0; s < steps; s++) {
            // Gradients need tracked inputs: outside meta-training, fresh leaves stand in.
            Params inner = phi.mapNamed((n, t) -> adapted.test(n) && !t.isTracked() ? t.requiresGrad() : t);
            Tensor total = loss.perTask(module.apply(inner, tasks.supportInputs()), tasks.supportTargets()).sum();
            Grad grad = Grad.of(total);
            if (metaTracked && secondOrder) {
                grad = grad.withGraph();
            }
            Params grads = grad.wrt(inner.filter(adaptedNames::contains));
            if (metaTracked) {
                phi = inner.mapNamed((n, t) -> grads.contains(n) ? update.apply(n, t, grads.get(n)) : t);
            } else {
                try (NoGrad ignored = NoGrad.enter()) {
                    phi = inner.mapNamed((n, t) -> grads.contains(n) ? update.apply(n, t, grads.get(n)) : t.stopGradient());
                }
            }
        }
        return phi;
    }

    static void checkSteps(int innerSteps) {
        if (innerSteps < 0) {
            throw new IllegalArgumentException("innerSteps must be >= 0, got " + innerSteps);
        }
    }

    static void checkLearningRate(double innerLr) {
        if (!(innerLr > 0) || Double.isInfinite(innerLr)) {
            throw new IllegalArgumentException("innerLr must be a positive finite number, got " + innerLr);
        }
    }
}
