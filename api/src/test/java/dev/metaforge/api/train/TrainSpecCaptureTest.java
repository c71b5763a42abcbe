package dev.metaforge.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code "capture"} in the training spec: absent (automatic), true (required) or false (eager); read, written
 * when present, outside the trajectory hash. Automatic mode captures a capturable objective (its steps are
 * replayed, and the files equal the eager run's bit for bit) and trains any other eagerly without an error or a
 * note; required capture of an objective that cannot be captured is a spec error at {@code $.capture}.
 */
class TrainSpecCaptureTest {
    private final SpecRegistry specs = TestExperiments.registryWithCapturable();
    private static final String BASE = "{\"experiment\": {\"type\": \"test-linear\", \"features\": 2, \"batch\": 4, \"anchorEvery\": 3,"
            + " \"anchorWeight\": 0.1}, \"optimizer\": {\"type\": \"test-adam\", \"learningRate\": 0.01}, \"steps\": 5";
    private static final String CAPTURABLE = "{\"experiment\": {\"type\": \"test-capturable\", \"features\": 3, \"batch\": 8},"
            + " \"optimizer\": {\"type\": \"test-adam\", \"learningRate\": 0.05}, \"steps\": 9, \"seed\": 4, \"logEvery\": 1";

    @TempDir
    Path dir;

    @Test
    void captureIsReadWrittenWhenPresentAndLeavesTheTrajectoryHashAlone() {
        TrainSpec auto = specs.read(BASE + "}", TrainSpec.class, "spec.json");
        TrainSpec on = specs.read(BASE + ", \"capture\": true}", TrainSpec.class, "spec.json");
        TrainSpec off = specs.read(BASE + ", \"capture\": false}", TrainSpec.class, "spec.json");
        assertNull(auto.capture());
        assertTrue(auto.captureAllowed() && !auto.captureRequired(), "absent: automatic");
        assertTrue(on.captureAllowed() && on.captureRequired(), "true: required");
        assertTrue(!off.captureAllowed() && !off.captureRequired(), "false: eager");
        for (TrainSpec spec : List.of(auto, on, off)) {
            assertEquals(spec, specs.read(specs.write(spec), TrainSpec.class, "spec.json"));
        }
        // Absent is not written: spec files and hashes from before the field stay as they were.
        assertFalse(specs.write(auto).contains("capture"));
        assertTrue(specs.write(on).contains("\"capture\" : true"), specs.write(on));
        assertTrue(specs.write(off).contains("\"capture\" : false"), specs.write(off));
        assertEquals(auto.trajectoryHash(specs), on.trajectoryHash(specs), "replay equals eager, so capture does not change the trajectory");
        assertEquals(auto.trajectoryHash(specs), off.trajectoryHash(specs));
        assertTrue(auto.withSteps(9).withCapture(true).withSchedule(2, 0, 0).capture(), "the with- methods keep capture");
        assertEquals(Boolean.FALSE, off.withSeed(3).withDtype("float64").capture());
        assertNull(on.withCapture(null).withSteps(2).capture());
        assertNull(TrainSpec.of(auto.experiment(), auto.optimizer(), 3).capture(), "a spec made in Java without capture is automatic");
    }

    @Test
    void requiredCaptureOfAnObjectiveThatCannotBeCapturedIsASpecErrorBeforeAnyFile() {
        TrainSpec on = specs.read(BASE + ", \"capture\": true}", TrainSpec.class, "spec.json");
        Path out = dir.resolve("run");
        try (Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64)) {
            SpecException e = assertThrows(SpecException.class, () -> new Trainer(engine, specs).train(on, dir, out, false));
            assertEquals("$.capture", e.jsonPath());
            assertTrue(e.getMessage().contains("experiment type 'test-linear' cannot be captured"), e.getMessage());
            assertFalse(Files.exists(out.resolve(Trainer.METRICS_FILE)));
        }
    }

    @Test
    void withoutCaptureAnObjectiveThatCannotBeCapturedTrainsEagerlyWithoutANote() throws IOException {
        // test-linear keeps state that beforeStep updates (its anchor), so it is not a CapturableObjective.
        List<String> notices = new ArrayList<>();
        TrainResult auto = train(BASE + "}", "auto", notices);
        assertEquals(List.of(), notices, "no note: automatic capture does not apply, and nothing is wrong");
        assertEquals(0, auto.replayedSteps());
        TrainResult eager = train(BASE + ", \"capture\": false}", "eager", notices);
        assertEquals(List.of(), notices);
        assertEquals(losses(eager.outDir()), losses(auto.outDir()));
        assertSameCheckpoint(eager.outDir(), auto.outDir());
    }

    @Test
    void withoutCaptureACapturableObjectiveIsReplayedToTheEagerRunsFilesBitForBit() throws IOException {
        List<String> notices = new ArrayList<>();
        TrainResult auto = train(CAPTURABLE + "}", "auto", notices);
        // Two recorded steps (the second must equal the first), then every later step is replayed.
        assertEquals(9 - 2, auto.replayedSteps());
        TrainResult required = train(CAPTURABLE + ", \"capture\": true}", "required", notices);
        assertEquals(9 - 2, required.replayedSteps());
        TrainResult eager = train(CAPTURABLE + ", \"capture\": false}", "eager", notices);
        assertEquals(0, eager.replayedSteps(), "\"capture\": false never captures");
        assertEquals(List.of(), notices);
        List<String> eagerLosses = losses(eager.outDir());
        assertEquals(9, eagerLosses.size(), eagerLosses::toString);
        assertEquals(eagerLosses, losses(auto.outDir()));
        assertEquals(eagerLosses, losses(required.outDir()));
        assertSameCheckpoint(eager.outDir(), auto.outDir());
        assertSameCheckpoint(eager.outDir(), required.outDir());
        assertFalse(Files.readString(auto.outDir().resolve(Trainer.SPEC_FILE)).contains("capture"), "spec.json keeps the mode: absent");
        assertTrue(Files.readString(eager.outDir().resolve(Trainer.SPEC_FILE)).contains("\"capture\" : false"));
    }

    @Test
    void anEagerCheckpointResumesInAutomaticModeToTheUninterruptedRun() throws IOException {
        List<String> notices = new ArrayList<>();
        TrainResult straight = train(CAPTURABLE + ", \"capture\": false}", "straight", notices);
        TrainSpec eager = specs.read(CAPTURABLE + ", \"capture\": false}", TrainSpec.class, "spec.json");
        TrainSpec auto = specs.read(CAPTURABLE + "}", TrainSpec.class, "spec.json");
        Path split = dir.resolve("split");
        try (Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64)) {
            new Trainer(engine, specs).train(eager.withSteps(4), dir, split, false);
            TrainResult rest = new Trainer(engine, specs).train(auto, dir, split, true);
            assertEquals(5 - 2, rest.replayedSteps(), "the resumed part (steps 4..8) is captured");
        }
        assertEquals(losses(straight.outDir()), losses(split));
        assertSameCheckpoint(straight.outDir(), split);
    }

    private TrainResult train(String json, String name, List<String> notices) throws IOException {
        TrainSpec spec = specs.read(json, TrainSpec.class, name + ".json");
        try (Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64)) {
            return new Trainer(engine, specs).withListener(new TrainingListener() {
                @Override
                public void notice(String text) {
                    notices.add(text);
                }
            }).train(spec, dir, dir.resolve(name), false);
        }
    }

    /** Every logged loss as "step text-of-the-double": equal lists are equal bit for bit. */
    private static List<String> losses(Path run) throws IOException {
        List<String> out = new ArrayList<>();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : Files.readAllLines(run.resolve(Trainer.METRICS_FILE))) {
            com.fasterxml.jackson.databind.JsonNode n = json.readTree(line);
            if (n.has("loss")) {
                out.add(n.get("step").asLong() + " " + n.get("loss").asText());
            }
        }
        return out;
    }

    private static void assertSameCheckpoint(Path a, Path b) throws IOException {
        Checkpoint x = Checkpoint.load(a.resolve(Trainer.CHECKPOINT_FILE));
        Checkpoint y = Checkpoint.load(b.resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(x.step(), y.step());
        assertSame("params", x.params(), y.params());
        assertSame("optimizer state", x.optimizerState(), y.optimizerState());
    }

    private static void assertSame(String what, Map<String, TensorData> expected, Map<String, TensorData> actual) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name).toDoubles(), actual.get(name).toDoubles(), 0.0, what + " " + name);
        }
    }
}
