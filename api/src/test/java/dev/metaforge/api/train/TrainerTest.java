package dev.metaforge.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.SafetensorsFile;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file-based trainer on the reference backend in float64, where runs repeat bit for bit. */
class TrainerTest {
    private final SpecRegistry specs = TestExperiments.registry();
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final StringWriter progressText = new StringWriter();
    private final Recorder recorder = new Recorder();
    private final Trainer trainer = new Trainer(engine, specs)
            .withListener(TrainingListener.log(new PrintWriter(progressText, true)))
            .withListener(recorder);

    /** Writes down every event, in order, as a short string. */
    private static final class Recorder implements TrainingListener {
        final List<String> events = new ArrayList<>();
        RunStarted started;
        CheckpointWritten lastCheckpoint;
        TrainResult finished;
        Throwable failed;

        @Override
        public void runStarted(RunStarted run) {
            started = run;
            events.add("started@" + run.startStep() + "/" + run.totalSteps());
        }

        @Override
        public void stepCompleted(Step step) {
            if (step.logged()) {
                events.add("logged@" + step.step());
            } else {
                assertTrue(step.terms().isEmpty(), "terms only at logged steps");
            }
        }

        @Override
        public void evaluated(Evaluation evaluation) {
            events.add("eval@" + evaluation.step());
        }

        @Override
        public void checkpointWritten(CheckpointWritten checkpoint) {
            lastCheckpoint = checkpoint;
            events.add("checkpoint@" + checkpoint.step());
        }

        @Override
        public void runFinished(TrainResult result) {
            finished = result;
            events.add("finished");
        }

        @Override
        public void runFailed(Throwable error) {
            failed = error;
            events.add("failed");
        }
    }

    @TempDir
    Path dir;

    private static TrainSpec spec(int steps, int logEvery, int evalEvery, int checkpointEvery) {
        return new TrainSpec(new TestExperiments.LinearExperiment(3, 16, 7, 0.05), new TestExperiments.AdamSpec(0.05),
                steps, 11L, "float64", logEvery, evalEvery, checkpointEvery);
    }

    @Test
    void writesMetricsPlotCheckpointAndResolvedSpec() throws IOException {
        Path out = dir.resolve("run");
        TrainResult result = trainer.train(spec(30, 10, 15, 0), dir, out, false);
        assertEquals(30, result.steps());

        List<JsonNode> lines = readMetrics(out);
        // train lines at 10, 20, 30; eval lines at 15 and 30 (the end)
        List<String> kinds = new ArrayList<>();
        for (JsonNode n : lines) {
            kinds.add((n.has("eval") ? "eval@" : "train@") + n.get("step").asLong());
        }
        assertEquals(List.of("train@10", "eval@15", "train@20", "train@30", "eval@30"), kinds);
        JsonNode first = lines.get(0);
        assertTrue(first.get("loss").isDouble() && first.get("seconds").isDouble() && first.get("stepsPerSecond").asDouble() > 0,
                first.toString());
        assertTrue(lines.get(4).get("eval").has("mse"));
        assertEquals(result.eval().get("mse"), lines.get(4).get("eval").get("mse").asDouble());
        assertEquals(result.finalLoss(), lines.get(3).get("loss").asDouble());

        // Learning happened: the evaluation error fell well below that of the initial parameters.
        double initialMse;
        try (TrainingLoop loop = TrainingLoop.start(spec(1, 1, 0, 0).experiment().build(
                new BuildContext(engine, specs, dir, 11)), new TestExperiments.AdamSpec(0.05).build(), 11)) {
            initialMse = loop.evaluate().get("mse");
        }
        assertTrue(result.eval().get("mse") < 0.5 * initialMse, result.eval() + " vs initial mse " + initialMse);

        // The listeners saw the run as the files record it, in order.
        assertEquals(List.of("started@0/30", "logged@10", "eval@15", "logged@20", "logged@30", "eval@30", "checkpoint@30", "finished"),
                recorder.events);
        assertEquals(out, recorder.started.outDir());
        assertEquals(List.of(10.0, 20.0, 30.0), recorder.lastCheckpoint.history().trainingLoss().stream().map(p -> p[0]).toList());
        assertEquals(result.finalLoss(), recorder.lastCheckpoint.history().trainingLoss().get(2)[1]);
        assertEquals(List.of(15.0, 30.0), recorder.lastCheckpoint.history().eval().get("mse").stream().map(p -> p[0]).toList());
        assertEquals(result, recorder.finished);

        Checkpoint checkpoint = Checkpoint.load(out.resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(30, checkpoint.step());
        assertEquals(11, checkpoint.seed());
        assertEquals("reference", checkpoint.backend());
        assertEquals(spec(30, 10, 15, 0).trajectoryHash(specs), checkpoint.specHash());
        assertEquals(List.of("w", "b"), List.copyOf(checkpoint.params().keySet()));
        assertEquals(List.of("m/w", "m/b", "v/w", "v/b"), List.copyOf(checkpoint.optimizerState().keySet()));
        assertEquals(List.of("w", "b"), List.copyOf(checkpoint.objectiveState().keySet()));
        SafetensorsFile raw = Safetensors.read(out.resolve(Trainer.CHECKPOINT_FILE));
        assertTrue(raw.tensors().containsKey("params/w") && raw.tensors().containsKey("optimizer/m/w")
                && raw.tensors().containsKey("objective/w"), raw.tensors().keySet().toString());
        assertEquals("float64", raw.metadata().get("dtype"));

        TrainSpec reread = specs.read(out.resolve(Trainer.SPEC_FILE), TrainSpec.class);
        assertEquals(spec(30, 10, 15, 0), reread);

        try (var files = Files.list(out)) {
            // No plot: the trainer draws nothing itself (the metaforge command's plot listener does).
            assertEquals(List.of(RunDirectory.LOCK_FILE, "checkpoint.safetensors", "metrics.jsonl", "spec.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left behind");
        }
        String progress = progressText.toString();
        assertTrue(progress.contains("step 10/30  loss "), progress);
        assertTrue(progress.contains("eval step 15:  mse "), progress);
        assertTrue(progress.contains("training run on reference (float64): "), progress);
    }

    @Test
    void aFailedRunIsReportedToTheListenersAndThenThrown() throws IOException {
        Path out = dir.resolve("twice");
        trainer.train(spec(4, 2, 0, 0), dir, out, false);
        recorder.events.clear();
        TrainingException e = assertThrows(TrainingException.class, () -> trainer.train(spec(4, 2, 0, 0), dir, out, false));
        assertEquals(List.of("failed"), recorder.events);
        assertSame(e, recorder.failed);
    }

    @Test
    void aTrainerWithoutListenersWritesNoPlotAndPrintsNothing() throws IOException {
        Path out = dir.resolve("quiet");
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream before = System.err;
        java.io.PrintStream beforeOut = System.out;
        try {
            System.setErr(new java.io.PrintStream(err, true));
            System.setOut(new java.io.PrintStream(err, true));
            new Trainer(engine, specs).train(spec(6, 2, 3, 0), dir, out, false);
        } finally {
            System.setErr(before);
            System.setOut(beforeOut);
        }
        assertEquals("", err.toString());
        assertFalse(Files.exists(out.resolve(Trainer.PLOT_FILE)));
        assertTrue(Files.exists(out.resolve(Trainer.CHECKPOINT_FILE)));
    }

    /**
     * Resume equality: 40 steps straight versus 20 steps, then --resume to 40. Every logged loss,
     * every evaluation, the final parameters, the optimizer state and the objective's state must be
     * bit-identical (float64 on the reference backend; randomness depends on (seed, step) only).
     */
    @Test
    void resumedRunEqualsUninterruptedRun() throws IOException {
        Path straight = dir.resolve("straight");
        trainer.train(spec(40, 3, 10, 0), dir, straight, false);

        Path resumed = dir.resolve("resumed");
        trainer.train(spec(20, 3, 10, 0), dir, resumed, false);
        // the first segment ended off the logging schedule (20 % 3 != 0), so it logged a final line at 20
        assertTrue(readMetrics(resumed).stream().anyMatch(n -> !n.has("eval") && n.get("step").asLong() == 20));
        TrainResult result = trainer.train(spec(40, 3, 10, 0), dir, resumed, true);
        assertEquals(40, result.steps());

        assertSameRun(straight, resumed);
    }

    /**
     * Steps that are not logged, evaluated or checkpointed copy nothing to the host (the trainer
     * advances without reading the loss): the kernels' copy-outs are counted between step events.
     * The metrics equal those of the same run read at every step (the reference loop below).
     */
    @Test
    void unloggedStepsReadNothingBackAndLogTheSameLosses() throws IOException {
        java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        ReferenceBackend real = new ReferenceBackend();
        dev.metaforge.spi.Kernels realKernels = real.kernels();
        dev.metaforge.spi.Kernels counted = (dev.metaforge.spi.Kernels) java.lang.reflect.Proxy.newProxyInstance(
                dev.metaforge.spi.Kernels.class.getClassLoader(), new Class<?>[] {dev.metaforge.spi.Kernels.class},
                (proxy, method, args) -> {
                    if (method.getName().matches("to(Doubles|Floats|Longs)")) {
                        reads.incrementAndGet();
                    }
                    try {
                        return method.invoke(realKernels, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        dev.metaforge.spi.Backend backend = (dev.metaforge.spi.Backend) java.lang.reflect.Proxy.newProxyInstance(
                dev.metaforge.spi.Backend.class.getClassLoader(), new Class<?>[] {dev.metaforge.spi.Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("kernels")) {
                        return counted;
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        java.util.Map<Long, Long> readsBefore = new java.util.TreeMap<>();
        long[] previous = {0};
        TrainingListener perStep = new TrainingListener() {
            @Override
            public void stepCompleted(Step step) {
                long now = reads.get();
                readsBefore.put(step.step(), now - previous[0]);
                previous[0] = now;
            }
        };
        Path out = dir.resolve("counted");
        new Trainer(Engine.of(backend, DType.FLOAT64), specs).withListener(perStep).train(spec(40, 10, 15, 25), dir, out, false);
        for (long s = 1; s <= 40; s++) {
            boolean readsHere = s % 10 == 0 || s == 40 || s == 25; // logged, or checkpointed (the divergence check)
            boolean workBefore = (s - 1) % 15 == 0 && s > 1 || s - 1 == 25; // an evaluation or checkpoint after step s - 1
            if (readsHere) {
                assertTrue(readsBefore.get(s) > 0, "step " + s + " reads its loss: " + readsBefore);
            } else if (!workBefore) {
                assertEquals(0L, readsBefore.get(s), "host copies during unlogged step " + s + ": " + readsBefore);
            }
        }
        // the losses logged equal those of a loop that reads every step (TrainingLoop.step)
        List<JsonNode> lines = readMetrics(out);
        Objective objective = new TestExperiments.LinearExperiment(3, 16, 7, 0.05)
                .build(new BuildContext(engine, specs, dir, 11L));
        try (TrainingLoop loop = TrainingLoop.start(objective, dev.metaforge.api.optim.Adam.adam(0.05), 11L)) {
            java.util.Map<Long, Double> everyStep = new java.util.HashMap<>();
            for (long s = 1; s <= 40; s++) {
                everyStep.put(s, loop.step());
            }
            int compared = 0;
            for (JsonNode n : lines) {
                if (!n.has("eval")) {
                    assertEquals(everyStep.get(n.get("step").asLong()), n.get("loss").asDouble(), 0.0, "loss at " + n);
                    compared++;
                }
            }
            assertEquals(4, compared, lines::toString);
        }
    }

    /** A crash after the last checkpoint: stale lines past it are dropped and the objective state is restored. */
    @Test
    void resumeAfterCrashEqualsUninterruptedRun() throws IOException {
        Path straight = dir.resolve("straight");
        trainer.train(spec(40, 2, 6, 8), dir, straight, false);

        Path crashed = dir.resolve("crashed");
        TrainSpec crashing = new TrainSpec(new TestExperiments.LinearExperiment(3, 16, 7, 0.05).withCrashAt(19),
                new TestExperiments.AdamSpec(0.05), 40, 11L, "float64", 2, 6, 8);
        IllegalStateException crash = assertThrows(IllegalStateException.class, () -> trainer.train(crashing, dir, crashed, false));
        assertTrue(crash.getMessage().contains("simulated crash"));
        assertEquals(16, Checkpoint.load(crashed.resolve(Trainer.CHECKPOINT_FILE)).step());
        // lines flushed after the checkpoint (as a once-a-second flush would) must not survive the resume
        Files.writeString(crashed.resolve(Trainer.METRICS_FILE),
                "{\"step\":18,\"loss\":99.0,\"seconds\":1.0,\"stepsPerSecond\":1.0}\n{\"step\":18,\"seconds\":1.0,\"eval\":{\"mse\":99.0}}\n",
                StandardOpenOption.APPEND);

        trainer.train(spec(40, 2, 6, 8), dir, crashed, true);
        assertSameRun(straight, crashed);
    }

    private void assertSameRun(Path expectedDir, Path actualDir) throws IOException {
        List<JsonNode> expected = withoutTimings(readMetrics(expectedDir));
        List<JsonNode> actual = withoutTimings(readMetrics(actualDir));
        assertEquals(expected.size(), actual.size(), "number of metrics lines");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), actual.get(i), "metrics line " + (i + 1));
            if (expected.get(i).has("loss")) {
                assertEquals(Double.doubleToLongBits(expected.get(i).get("loss").doubleValue()),
                        Double.doubleToLongBits(actual.get(i).get("loss").doubleValue()), "loss bits of line " + (i + 1));
            }
        }
        Checkpoint a = Checkpoint.load(expectedDir.resolve(Trainer.CHECKPOINT_FILE));
        Checkpoint b = Checkpoint.load(actualDir.resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(a.step(), b.step());
        assertEquals(a.params(), b.params(), "final parameters, bit for bit");
        assertEquals(a.optimizerState(), b.optimizerState(), "Adam moments, bit for bit");
        assertEquals(a.objectiveState(), b.objectiveState(), "objective state, bit for bit");
        assertArrayEquals(Files.readAllBytes(expectedDir.resolve(Trainer.SPEC_FILE)), Files.readAllBytes(actualDir.resolve(Trainer.SPEC_FILE)));
    }

    @Test
    void refusesToOverwriteARunAndToResumeNothing() throws IOException {
        Path out = dir.resolve("run");
        TrainingException missing = assertThrows(TrainingException.class, () -> trainer.train(spec(4, 2, 0, 0), dir, out, true));
        assertTrue(missing.getMessage().contains("does not exist") && missing.getMessage().contains("without --resume"), missing.getMessage());
        trainer.train(spec(4, 2, 0, 0), dir, out, false);
        TrainingException again = assertThrows(TrainingException.class, () -> trainer.train(spec(4, 2, 0, 0), dir, out, false));
        assertTrue(again.getMessage().contains("already holds a run") && again.getMessage().contains("--resume"), again.getMessage());
    }

    @Test
    void refusesToResumeWithAnotherSpecOrFewerSteps() throws IOException {
        Path out = dir.resolve("run");
        trainer.train(spec(6, 2, 0, 0), dir, out, false);
        TrainSpec otherSeed = spec(12, 2, 0, 0).withSeed(12);
        TrainingException e = assertThrows(TrainingException.class, () -> trainer.train(otherSeed, dir, out, true));
        assertTrue(e.getMessage().contains("different spec"), e.getMessage());
        TrainingException fewer = assertThrows(TrainingException.class, () -> trainer.train(spec(4, 2, 0, 0), dir, out, true));
        assertTrue(fewer.getMessage().contains("at step 6") && fewer.getMessage().contains("4 steps"), fewer.getMessage());
        // a schedule change is not a different trajectory: resuming with more steps and other logging works
        TrainResult more = trainer.train(spec(8, 1, 0, 0), dir, out, true);
        assertEquals(8, more.steps());
    }

    @Test
    void resumeAtTheFinalStepTrainsNothingAndReportsTheMetrics() throws IOException {
        Path out = dir.resolve("run");
        TrainResult first = trainer.train(spec(5, 2, 0, 0), dir, out, false);
        String metricsBefore = Files.readString(out.resolve(Trainer.METRICS_FILE));
        TrainResult again = trainer.train(spec(5, 2, 0, 0), dir, out, true);
        assertEquals(5, again.steps());
        assertEquals(first.eval(), again.eval());
        assertEquals(first.finalLoss(), again.finalLoss());
        assertEquals(metricsBefore, Files.readString(out.resolve(Trainer.METRICS_FILE)));
    }

    @Test
    void divergenceStopsWithAClearMessage() throws IOException {
        TrainSpec exploding = new TrainSpec(new TestExperiments.LinearExperiment(3, 16, 7, 0.05),
                new TestExperiments.SgdSpec(50.0, 0.0), 200, 1L, "float64", 10, 0, 0);
        TrainingException e = assertThrows(TrainingException.class, () -> trainer.train(exploding, dir, dir.resolve("boom"), false));
        assertTrue(e.getMessage().contains("diverged") && e.getMessage().contains("learning rate"), e.getMessage());
    }

    @Test
    void buildErrorsNameTheSpecPath() {
        TrainSpec bad = new TrainSpec(new TestExperiments.LinearExperiment(0, 16, 7, 0.05), new TestExperiments.AdamSpec(0.05),
                5, 1L, "float64", 1, 0, 0);
        SpecException e = assertThrows(SpecException.class, () -> trainer.train(bad, dir, dir.resolve("bad"), false));
        assertEquals("$.experiment", e.jsonPath());
        assertTrue(e.getMessage().contains("features must be > 0"), e.getMessage());
        TrainSpec badOptimizer = new TrainSpec(new TestExperiments.LinearExperiment(3, 16, 7, 0.05),
                new TestExperiments.AdamSpec(-1), 5, 1L, "float64", 1, 0, 0);
        SpecException o = assertThrows(SpecException.class, () -> trainer.train(badOptimizer, dir, dir.resolve("bad2"), false));
        assertEquals("$.optimizer", o.jsonPath());
        assertTrue(o.getMessage().contains("learning rate must be > 0"), o.getMessage());
    }

    @Test
    void float32RunsComputeInFloat32AndCheckpointF32() throws IOException {
        Path out = dir.resolve("f32");
        trainer.train(spec(4, 2, 0, 0).withDtype("float32"), dir, out, false);
        Checkpoint c = Checkpoint.load(out.resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(DType.FLOAT32, c.params().get("w").dtype());
        // the same directory cannot be continued in float64: that is another trajectory
        assertThrows(TrainingException.class, () -> trainer.train(spec(8, 2, 0, 0), dir, out, true));
    }

    @Test
    void evaluatorReproducesTheFinalEvaluation() throws IOException {
        Path out = dir.resolve("run");
        TrainResult result = trainer.train(spec(12, 4, 0, 0), dir, out, false);
        EvalResult eval = new Evaluator(engine, specs).evaluate(spec(12, 4, 0, 0), dir, result.checkpoint());
        assertEquals(12, eval.step());
        assertEquals(result.eval(), eval.metrics());
        JsonNode json = new ObjectMapper().readTree(eval.toJson());
        assertEquals(12, json.get("step").asInt());
        assertEquals(result.eval().get("mse"), json.get("eval").get("mse").asDouble());

        // a checkpoint of another architecture is refused, naming the parameter and both shapes
        TrainSpec wider = new TrainSpec(new TestExperiments.LinearExperiment(4, 16, 7, 0.05), new TestExperiments.AdamSpec(0.05),
                12, 11L, "float64", 4, 0, 0);
        TrainingException e = assertThrows(TrainingException.class,
                () -> new Evaluator(engine, specs).evaluate(wider, dir, result.checkpoint()));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("[3, 1]") && e.getMessage().contains("[4, 1]"),
                e.getMessage());
    }

    @Test
    void differentSeedsGiveDifferentRuns() throws IOException {
        TrainResult a = trainer.train(spec(5, 5, 0, 0), dir, dir.resolve("a"), false);
        TrainResult b = trainer.train(spec(5, 5, 0, 0).withSeed(12), dir, dir.resolve("b"), false);
        assertNotEquals(a.finalLoss(), b.finalLoss());
        assertFalse(Double.isNaN(a.finalLoss()));
    }

    private static List<JsonNode> readMetrics(Path out) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve(Trainer.METRICS_FILE))) {
            lines.add(json.readTree(line));
        }
        return lines;
    }

    private static List<JsonNode> withoutTimings(List<JsonNode> lines) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode n : lines) {
            ObjectNode copy = n.deepCopy();
            copy.remove(List.of("seconds", "stepsPerSecond"));
            out.add(copy);
        }
        return out;
    }

}
