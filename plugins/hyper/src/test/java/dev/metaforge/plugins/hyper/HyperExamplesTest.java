package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingLoop;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example specs in {@code examples/}, read as {@code metaforge train} reads them (every plugin
 * on the classpath), and the continual experiment through the shared {@link Trainer} with a
 * checkpoint and resume in the middle of a task.
 */
class HyperExamplesTest {
    private static final Path EXAMPLES = Path.of("..", "..", "examples");

    @Test
    void mipExampleIsThePaperSetting() {
        SpecRegistry all = SpecRegistry.load(getClass().getClassLoader());
        Path file = EXAMPLES.resolve("mip-loss-weighting.json");
        TrainSpec train = all.read(file, TrainSpec.class);
        Engine engine = HyperFixtures.engine();
        HyperObjective objective = assertInstanceOf(HyperObjective.class,
                train.experiment().build(new BuildContext(engine, all, file.getParent(), train.seed())));
        MipHyperNetwork mip = assertInstanceOf(MipHyperNetwork.class, objective.hypernetwork());
        assertEquals(1, mip.inputs());
        assertEquals(List.of(1, 32, 32, 1), assertInstanceOf(Mlp.class, objective.target().module()).sizes());
        assertEquals(1153, objective.target().generatedCount());
        try (TrainingLoop loop = TrainingLoop.start(objective, train.optimizer().build(), train.seed())) {
            for (int i = 0; i < 3; i++) {
                assertTrue(Double.isFinite(loop.step()));
            }
        }
    }

    @Test
    void continualExampleResumedMidTaskRepeatsTheUninterruptedRun(@TempDir Path dir) throws Exception {
        // Steps 0..149 learn task 1; the snapshot of task 1 is taken at step 150. A run stopped at
        // step 160 and resumed must restore that snapshot from the checkpoint (Objective.state) to
        // repeat the uninterrupted run exactly.
        SpecRegistry all = SpecRegistry.load(getClass().getClassLoader());
        Path file = EXAMPLES.resolve("continual-split-blobs.json");
        TrainSpec spec = all.read(file, TrainSpec.class).withSteps(200).withSchedule(50, 0, 0);
        Engine engine = HyperFixtures.engine();
        Trainer trainer = new Trainer(engine, all, new PrintWriter(new StringWriter()), false);
        TrainResult straight = trainer.train(spec, file.getParent(), dir.resolve("straight"), false);
        trainer.train(spec.withSteps(160), file.getParent(), dir.resolve("resumed"), false);
        TrainResult resumed = trainer.train(spec, file.getParent(), dir.resolve("resumed"), true);
        assertEquals(200, resumed.steps());
        assertEquals(straight.finalLoss(), resumed.finalLoss(), 0.0);
        assertEquals(straight.eval(), resumed.eval());
        assertTrue(straight.eval().get("task1.accuracy") > 0.9, straight.eval().toString());
    }
}
