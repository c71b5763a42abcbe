package dev.metaforge.api.train;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.Map;

/**
 * What a training run minimises: every family (hypernetworks, meta-learners, plain supervised
 * models) is trained through this one interface by the same trainer.
 *
 * <p>Determinism: the trainer hands {@link #loss} a random stream derived from the run's seed and
 * the step number alone, so a run resumed from a checkpoint draws the same data as one that was
 * never interrupted.
 */
public interface Objective {
    /** Fresh trainable parameters. */
    Params init(RandomStream rng);

    /**
     * The scalar loss of training step {@code step} (0-based) with {@code params}, which are
     * tracked: the trainer differentiates the result with respect to them.
     */
    Tensor loss(Params params, long step, RandomStream rng);

    /**
     * The loss of training step {@code step} with its named parts (auxiliary losses of the modules
     * it ran, regularisers) and statistics; the trainer differentiates {@link LossTerms#total()} and
     * logs the rest. The default is {@link #loss} with no parts; objectives that run modules through
     * {@link StatefulModel} return {@code StatefulModel.lossTerms(taskLoss, output)}, so every
     * module's auxiliary losses reach the objective.
     */
    default LossTerms lossTerms(Params params, long step, RandomStream rng) {
        return LossTerms.of(loss(params, step, rng));
    }

    /** Metrics on held-out data; no gradients are taken. */
    Map<String, Double> evaluate(Params params);

    /**
     * Called before step {@code step} with the current (untracked) parameters, e.g. to snapshot
     * weights when a continual-learning task ends. Default: nothing.
     *
     * <p>The trainer calls it inside a scope it closes right after: tensors the objective keeps
     * must be moved out of every scope ({@code Scope.escape}) and closed by the objective later.
     */
    default void beforeStep(Params params, long step) {
    }

    /**
     * What the metrics measure, for people reading a run's summary and plot, keyed as they are shown:
     * {@code "training loss"} for the loss being minimised and {@code "eval NAME"} for each metric of
     * {@link #evaluate}, e.g. {@code "eval mse" -> "distance to the optimal regressor: the signal"}.
     * Say when the training loss has a floor or is not the quantity to watch. Default: none.
     */
    default Map<String, String> metricDescriptions() {
        return Map.of();
    }

    /**
     * Tables describing the most recent {@link #evaluate} call, as file name to CSV text (a header
     * line, then one line per row), e.g. one row per held-out architecture where {@link #evaluate}
     * reports their means. The {@link Trainer} writes them into the run's output directory after the
     * final evaluation, each to a temporary file renamed into place. Names are plain file names
     * ending in {@code .csv}. Default: none.
     */
    default Map<String, String> tables() {
        return Map.of();
    }

    /** Non-trainable state that must survive a checkpoint (e.g. snapshots); none by default. */
    default Params state() {
        return Params.empty();
    }

    /**
     * Restores {@link #state()} from a checkpoint. The tensors belong to a scope the caller closes
     * after the call (as with {@code Optimizer.loadState}): copy what you keep.
     */
    default void loadState(Params state) {
        if (!state.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no state but the checkpoint holds " + state.names());
        }
    }
}
