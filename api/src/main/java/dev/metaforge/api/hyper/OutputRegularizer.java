package dev.metaforge.api.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;

/**
 * The continual-learning output regularizer of von Oswald et al. (ICLR 2020): while a new task is
 * learned, the weights the hypernetwork generates for earlier tasks are pulled towards snapshots
 * taken when the new task began, {@code (1 / T) Σ_t ||h(e_t, Θ) − h(e_t, Θ*)||²}.
 *
 * <pre>{@code
 * Tensor reg = OutputRegularizer.drift(hyper.generate(h, oldTaskIds), snapshots);   // both [T, ...]
 * Tensor loss = taskLoss.add(reg.mul(beta));
 * }</pre>
 */
public final class OutputRegularizer {
    private OutputRegularizer() {
    }

    /**
     * Sum of squared differences over every parameter, divided by the weight-batch size (the number
     * of earlier tasks); both arguments carry the same names and shapes [T, ...].
     */
    public static Tensor drift(Params current, Params snapshot) {
        requireNonNull(current, "current is null");
        requireNonNull(snapshot, "snapshot is null");
        if (current.isEmpty()) {
            throw new IllegalArgumentException("OutputRegularizer.drift: no parameters to compare");
        }
        Tensor total = null;
        int batch = -1;
        for (String name : current.names()) {
            Tensor c = current.get(name);
            Tensor s = snapshot.get(name);
            if (!c.shape().equals(s.shape())) {
                throw new IllegalArgumentException("OutputRegularizer.drift: '" + name + "' is " + c.shape()
                        + " but its snapshot is " + s.shape());
            }
            if (batch < 0) {
                batch = c.rank() == 0 ? 1 : c.dim(0);
            }
            Tensor term = c.sub(s.stopGradient()).square().sum();
            total = total == null ? term : total.add(term);
        }
        return total.div(Math.max(batch, 1));
    }

    /**
     * The importance-weighted drift {@code (1 / T) Σ_t Σ_i F_{t,i} (h(e_t, Θ)_i − θ*_{t,i})²}: as
     * {@link #drift}, each squared difference weighted by a non-negative importance of the same
     * shape [T, ...] (e.g. a diagonal Fisher information of task t's loss in the generated weights,
     * as in Chandra et al., WACV 2023). The snapshot and the importance are constants.
     */
    public static Tensor weightedDrift(Params current, Params snapshot, Params importance) {
        requireNonNull(current, "current is null");
        requireNonNull(snapshot, "snapshot is null");
        requireNonNull(importance, "importance is null");
        if (current.isEmpty()) {
            throw new IllegalArgumentException("OutputRegularizer.weightedDrift: no parameters to compare");
        }
        Tensor total = null;
        int batch = -1;
        for (String name : current.names()) {
            Tensor c = current.get(name);
            Tensor s = snapshot.get(name);
            Tensor f = importance.get(name);
            if (!c.shape().equals(s.shape()) || !c.shape().equals(f.shape())) {
                throw new IllegalArgumentException("OutputRegularizer.weightedDrift: '" + name + "' is " + c.shape()
                        + " but its snapshot is " + s.shape() + " and its importance " + f.shape());
            }
            if (batch < 0) {
                batch = c.rank() == 0 ? 1 : c.dim(0);
            }
            Tensor term = c.sub(s.stopGradient()).square().mul(f.stopGradient()).sum();
            total = total == null ? term : total.add(term);
        }
        return total.div(Math.max(batch, 1));
    }
}
