package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.TaskConditionedHyperNetwork;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.TrainingLoop;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Continual learning on five split-blobs tasks (float64, reference backend): with the output
 * regularizer, task 1's accuracy after task 5 stays within 2 points of its value right after
 * task 1; without it, task 1 is forgotten. Also HyperInterval, and snapshots across checkpoints.
 */
class ContinualLearningTest {
    private static final int TASKS = 5;
    private static final int STEPS_PER_TASK = 150;

    /** Task-1 accuracy right after task 1 and after the last task, and the final metrics. */
    record Run(double afterFirst, double afterLast, Map<String, Double> last) {
    }

    private static Run train(Engine engine, TaskConditionedHyperNetwork hyper, HyperTarget target, double beta, long seed) {
        SplitBlobsSequence tasks = new SplitBlobsSequence(TASKS, 0.4, 200, 7);
        ContinualObjective objective = new ContinualObjective(engine, target, hyper, tasks, STEPS_PER_TASK, 32, beta, 0.5);
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.01), seed)) {
            double afterFirst = Double.NaN;
            while (loop.completedSteps() < objective.totalSteps()) {
                loop.step();
                if (loop.completedSteps() == STEPS_PER_TASK) {
                    afterFirst = loop.evaluate().get("task1.accuracy");
                }
            }
            Map<String, Double> last = loop.evaluate();
            return new Run(afterFirst, last.get("task1.accuracy"), last);
        } finally {
            objective.close();
        }
    }

    private static HyperTarget target() {
        return HyperTarget.of(Mlp.of(List.of(2, 8, 2), Activation.RELU));
    }

    private static TaskEmbeddingHyperNetwork taskConditioned(HyperTarget target) {
        return new TaskEmbeddingHyperNetwork(TASKS, 4,
                new HmlpHyperNetwork(target.generated(), 4, List.of(16, 16), Activation.RELU, Initializer.torchDefault()));
    }

    @Test
    void outputRegularizerKeepsTaskOneWithinTwoPointsWhileNoRegularizerForgetsIt() {
        Engine engine = HyperFixtures.engine();
        HyperTarget target = target();
        // beta = 0.05: in a sweep of seeds 0..5 it kept task 1 within 1.5 points every time; beta = 0.01
        // kept it for seeds 1..5 but forgot it with seed 0 (0.985 -> 0.545), so it is too weak to rely on.
        Run kept = train(engine, taskConditioned(target), target, 0.05, 0);
        Run forgot = train(engine, taskConditioned(target), target, 0.0, 0);
        System.out.printf(Locale.ROOT, "continual (task-conditioned, 5 tasks): task 1 accuracy after task 1 / after task 5:"
                + " with regularizer %.3f / %.3f, without %.3f / %.3f; mean final accuracy with %.3f, without %.3f%n",
                kept.afterFirst(), kept.afterLast(), forgot.afterFirst(), forgot.afterLast(), kept.last().get("accuracy"),
                forgot.last().get("accuracy"));
        assertTrue(kept.afterFirst() >= 0.95, "task 1 must be learned first: " + kept.afterFirst());
        assertTrue(Math.abs(kept.afterLast() - kept.afterFirst()) <= 0.02,
                "with the regularizer task 1 moved from " + kept.afterFirst() + " to " + kept.afterLast());
        for (int k = 1; k <= TASKS; k++) {
            assertTrue(kept.last().get("task" + k + ".accuracy") >= 0.9, "task " + k + " with the regularizer: " + kept.last());
        }
        assertTrue(forgot.afterFirst() - forgot.afterLast() >= 0.5,
                "without the regularizer task 1 should be forgotten: " + forgot.afterFirst() + " -> " + forgot.afterLast());
    }

    @Test
    void hyperIntervalRegularizerForgetsLessThanNone() {
        Engine engine = HyperFixtures.engine();
        HyperTarget target = target();
        Run kept = train(engine, new HyperIntervalNetwork(target.generated(), TASKS, 4, List.of(16, 16), Activation.RELU, 0.5), target,
                0.3, 0);
        Run forgot = train(engine, new HyperIntervalNetwork(target.generated(), TASKS, 4, List.of(16, 16), Activation.RELU, 0.5), target,
                0.0, 0);
        System.out.printf(Locale.ROOT, "continual (hyperinterval, 5 tasks): task 1 accuracy after task 1 / after task 5:"
                + " with regularizer %.3f / %.3f, without %.3f / %.3f; universal embedding mean accuracy with %.3f%n",
                kept.afterFirst(), kept.afterLast(), forgot.afterFirst(), forgot.afterLast(), kept.last().get("universal.accuracy"));
        assertTrue(kept.afterFirst() >= 0.95, "task 1 must be learned first: " + kept.afterFirst());
        assertTrue(kept.afterLast() >= 0.8, "with the regularizer: " + kept.afterLast());
        assertTrue(forgot.afterLast() <= 0.3, "without the regularizer: " + forgot.afterLast());
        assertTrue(kept.last().containsKey("universal.task5.accuracy"), kept.last().toString());
    }

    @Test
    void snapshotsSurviveACheckpoint() {
        Engine engine = HyperFixtures.engine();
        HyperTarget target = target();
        SplitBlobsSequence tasks = new SplitBlobsSequence(3, 0.4, 50, 7);
        ContinualObjective original = new ContinualObjective(engine, target, taskConditioned3(target), tasks, 4, 16, 0.5, 0.5);
        ContinualObjective restored = new ContinualObjective(engine, target, taskConditioned3(target), tasks, 4, 16, 0.5, 0.5);
        try (Scope scope = Scope.open()) {
            Params start = original.init(RandomStream.of(1));
            original.beforeStep(start, 8);
            assertEquals(List.of(2), List.of(original.state().get("snapshot.0.weight").dim(0)));
            Params moved = start.map(t -> t.mul(1.1));
            // A checkpoint round trip: copies of the state, loaded into a fresh objective.
            Params saved = original.state().map(t -> engine.tensor(t.toDoubles(), t.shape(), t.dtype()));
            restored.loadState(saved);
            restored.beforeStep(moved, 9); // already holds the snapshot of tasks 1..2: must not retake it
            Tensor a = original.loss(moved, 9, RandomStream.of(5));
            Tensor b = restored.loss(moved, 9, RandomStream.of(5));
            assertEquals(a.item(), b.item(), 0.0);
            assertTrue(a.item() > restored.loss(start, 9, RandomStream.of(5)).item(), "moved parameters must pay the regularizer");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> restored.loadState(Params.of(Map.of("other", engine.zeros(1)))));
            assertTrue(e.getMessage().contains("snapshot"), e.getMessage());
        } finally {
            original.close();
            restored.close();
        }
    }

    @Test
    void lossWithoutTheTaskBoundarySnapshotIsAClearError() {
        Engine engine = HyperFixtures.engine();
        HyperTarget target = target();
        ContinualObjective objective = new ContinualObjective(engine, target, taskConditioned3(target),
                new SplitBlobsSequence(3, 0.4, 50, 7), 4, 16, 0.5, 0.5);
        try (Scope scope = Scope.open()) {
            Params p = objective.init(RandomStream.of(1));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> objective.loss(p, 4, RandomStream.of(2)));
            assertTrue(e.getMessage().contains("beforeStep"), e.getMessage());
        }
    }

    private static TaskEmbeddingHyperNetwork taskConditioned3(HyperTarget target) {
        return new TaskEmbeddingHyperNetwork(3, 4,
                new HmlpHyperNetwork(target.generated(), 4, List.of(8), Activation.RELU, Initializer.torchDefault()));
    }
}
