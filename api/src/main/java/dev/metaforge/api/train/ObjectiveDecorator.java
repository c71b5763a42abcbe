package dev.metaforge.api.train;

/**
 * Replaces the objective a {@link Trainer} builds from its spec with another one, before training
 * starts: how a run is spread over a cluster (the objective computes its gradients elsewhere)
 * while the trainer keeps its run directory, progress, checkpoints and resumption unchanged.
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(engine, specs, err, false).withObjectiveDecorator(session);
 * }</pre>
 */
@FunctionalInterface
public interface ObjectiveDecorator {
    /**
     * The objective to train instead of {@code objective}, which was built from {@code spec}'s
     * experiment with {@code context}. It must keep {@code objective}'s parameters (names, shapes,
     * initialisation), evaluation and state, so checkpoints stay interchangeable.
     */
    Objective decorate(Objective objective, TrainSpec spec, BuildContext context);
}
