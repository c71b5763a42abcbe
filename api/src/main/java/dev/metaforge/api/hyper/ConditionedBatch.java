package dev.metaforge.api.hyper;

import dev.metaforge.api.tensor.Tensor;
import java.util.Map;

/** B conditions with N inputs each, and how predictions [B, N, out] are scored. */
public interface ConditionedBatch {
    /** The conditions [B, k], each in [0, 1]. */
    Tensor context();

    /** The inputs [B, N, in]: row b belongs to condition b. */
    Tensor inputs();

    /** The scalar training loss of {@code predictions} [B, N, out]. */
    Tensor loss(Tensor predictions);

    /** Named metrics of {@code predictions} (e.g. "mse"); no gradients are taken. */
    Map<String, Double> metrics(Tensor predictions);

    /**
     * Conditions {@code [from, to)} of this batch with their inputs and targets, for tasks that
     * {@link ConditionedTask#splitsOverContexts() split over contexts}: the slices' losses, each
     * weighted by its share {@code (to - from) / B} of the conditions, sum to this batch's loss, and
     * so do their gradients (data parallelism over conditions). Unsupported by default.
     */
    default ConditionedBatch slice(int from, int to) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot be split over its conditions");
    }
}
