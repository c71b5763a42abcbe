package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 15 item 3, end to end through {@code metaforge train}: a spec without {@code "capture"} (automatic)
 * and one with {@code "capture": true} (required) give the files of the eager run ({@code "capture": false})
 * bit for bit (every logged loss, the final parameters and Adam's moments), and the summary's
 * {@code replayedSteps} shows which steps were replayed; a captured run resumed from its checkpoint equals
 * the uninterrupted one; an experiment that cannot be captured is a spec error before any file exists when
 * capture is required, and trains eagerly without a word when it is automatic; one whose step turns out to
 * change from step to step (dropout) goes on eagerly with a note.
 */
class StepCaptureTrainTest {
    static final String MAML = """
            {"experiment": {"type": "maml", "model": {"type": "mlp", "sizes": [1, 16, 16, 1], "activation": "relu"},
              "tasks": {"type": "sinusoid", "k": 5, "queryK": 10}, "innerSteps": 1, "innerLr": 0.01, "firstOrder": false,
              "metaBatch": 4, "evalTasks": 8, "evalSteps": [1]},
             "optimizer": {"type": "adam", "learningRate": 0.001}, "steps": 12, "seed": 2, "dtype": "float32",
             "logEvery": 3, "evalEvery": 6, "checkpointEvery": 6%s}
            """;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"djl", "dl4j"})
    void capturedTrainingWritesTheEagerRunsNumbers(String backend) throws Exception {
        Path eagerSpec = write("eager.json", MAML.formatted(EAGER));
        Path capturedSpec = write("captured.json", MAML.formatted(", \"capture\": true"));
        Path autoSpec = write("auto.json", MAML.formatted(""));
        Path eager = dir.resolve("eager");
        assertEquals(0, replayedSteps(trainRun(eagerSpec, backend, eager)), "\"capture\": false never captures");
        Path captured = dir.resolve("captured");
        // 12 steps: the first two are recorded (and must match), the other ten replayed.
        assertEquals(10, replayedSteps(trainRun(capturedSpec, backend, captured)));
        Path auto = dir.resolve("auto");
        TrainCommandTest.Run autoRun = trainRun(autoSpec, backend, auto);
        assertEquals(10, replayedSteps(autoRun), "a spec without \"capture\" captures MAML");
        assertFalse(autoRun.err().contains("capture"), autoRun.err());
        assertEquals(losses(eager), losses(captured));
        assertSameCheckpoint(eager, captured);
        assertEquals(losses(eager), losses(auto));
        assertSameCheckpoint(eager, auto);
        assertTrue(Files.readString(captured.resolve("spec.json")).contains("\"capture\" : true"), "spec.json keeps \"capture\"");
        assertTrue(Files.readString(eager.resolve("spec.json")).contains("\"capture\" : false"), "spec.json keeps \"capture\"");
        assertFalse(Files.readString(auto.resolve("spec.json")).contains("capture"), "an automatic spec.json is written as before");
    }

    @Test
    void aRegressionSpecWithoutCaptureIsReplayedToTheEagerRunsNumbers() throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = (ObjectNode) mapper.readTree(Files.readString(Path.of("../examples/regression-sin.json")));
        assertFalse(root.has("capture"), "the shipped example leaves capture automatic");
        root.put("steps", 12).put("logEvery", 3).put("evalEvery", 6).put("checkpointEvery", 6);
        Path auto = dir.resolve("auto");
        TrainCommandTest.Run run = trainRun(write("auto.json", mapper.writeValueAsString(root)), "djl", auto);
        assertEquals(10, replayedSteps(run), run.out());
        root.put("capture", false);
        Path eager = dir.resolve("eager");
        assertEquals(0, replayedSteps(trainRun(write("eager.json", mapper.writeValueAsString(root)), "djl", eager)));
        assertEquals(losses(eager), losses(auto));
        assertSameCheckpoint(eager, auto);
    }

    @ParameterizedTest
    @ValueSource(strings = {"djl", "dl4j"})
    void aResumedCapturedRunEqualsTheUninterruptedOne(String backend) throws Exception {
        Path spec = write("captured.json", MAML.formatted(", \"capture\": true"));
        Path straight = train(spec, backend, "straight");
        Path split = dir.resolve("split");
        TrainCommandTest.Run first = TrainCommandTest.run("train", spec.toString(), "--backend", backend, "--out", split.toString(),
                "--steps", "6");
        assertEquals(0, first.exitCode(), first.err());
        TrainCommandTest.Run rest = TrainCommandTest.run("train", spec.toString(), "--backend", backend, "--out", split.toString(),
                "--resume");
        assertEquals(0, rest.exitCode(), rest.err());
        assertEquals(losses(straight), losses(split));
        assertSameCheckpoint(straight, split);
    }

    @Test
    void anEagerCheckpointResumesCapturedToTheEagerRunsNumbers() throws Exception {
        Path eagerSpec = write("eager.json", MAML.formatted(EAGER));
        Path capturedSpec = write("captured.json", MAML.formatted(", \"capture\": true"));
        Path straight = train(eagerSpec, "djl", "straight");
        Path split = dir.resolve("split");
        TrainCommandTest.Run first = TrainCommandTest.run("train", eagerSpec.toString(), "--backend", "djl", "--out", split.toString(),
                "--steps", "6");
        assertEquals(0, first.exitCode(), first.err());
        TrainCommandTest.Run rest = TrainCommandTest.run("train", capturedSpec.toString(), "--backend", "djl", "--out", split.toString(),
                "--resume");
        assertEquals(0, rest.exitCode(), rest.err());
        assertEquals(losses(straight), losses(split));
        assertSameCheckpoint(straight, split);
    }

    @Test
    void anExperimentThatCannotBeCapturedIsASpecErrorBeforeAnyFile() throws Exception {
        String json = Files.readString(Path.of("../examples/moe-clusters-switch.json")).replace("\"steps\": 600", "\"steps\": 2, \"capture\": true");
        Path spec = write("moe.json", json);
        Path out = dir.resolve("moe-run");
        TrainCommandTest.Run run = TrainCommandTest.run("train", spec.toString(), "--backend", "djl", "--out", out.toString());
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("$.capture") && run.err().contains("experiment type 'moe-classification' cannot be captured")
                && run.err().contains("remove \"capture\""), run.err());
        assertFalse(Files.exists(out.resolve("metrics.jsonl")), "no run files");
    }

    @Test
    void withoutCaptureAnExperimentThatCannotBeCapturedTrainsEagerlyWithoutANote() throws Exception {
        String json = Files.readString(Path.of("../examples/moe-clusters-switch.json")).replace("\"steps\": 600", "\"steps\": 2");
        assertFalse(json.contains("\"capture\""), json);
        Path out = dir.resolve("moe-run");
        TrainCommandTest.Run run = trainRun(write("moe.json", json), "djl", out);
        assertEquals(0, replayedSteps(run));
        assertFalse(run.err().contains("capture"), run.err());
        assertTrue(Files.exists(out.resolve("metrics.jsonl")));
    }

    @Test
    void aCapturedClassifierEqualsTheEagerOneWithoutANote() throws Exception {
        String json = CLASSIFIER.replace("{\"type\": \"dropout\", \"p\": 0.2}, ", "");
        Path eager = train(write("eager.json", json.formatted(EAGER)), "dl4j", "eager");
        Path capturedSpec = write("captured.json", json.formatted(", \"capture\": true"));
        Path captured = dir.resolve("captured");
        TrainCommandTest.Run run = TrainCommandTest.run("train", capturedSpec.toString(), "--backend", "dl4j", "--out", captured.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertFalse(run.err().contains("step capture is off"), run.err());
        assertEquals(losses(eager), losses(captured));
        assertSameCheckpoint(eager, captured);
    }

    static final String CLASSIFIER = """
                {"experiment": {"type": "classification",
                  "model": {"type": "sequential", "layers": [{"type": "linear", "in": 16, "out": 16},
                    {"type": "activation", "function": "relu"}, {"type": "dropout", "p": 0.2}, {"type": "linear", "in": 16, "out": 4}]},
                  "train": {"type": "gaussian-clusters", "fromClass": 0, "toClass": 4},
                  "test": {"type": "gaussian-clusters", "fromClass": 0, "toClass": 4, "seed": 8}, "batchSize": 16, "inputShape": [16]},
                 "optimizer": {"type": "adam", "learningRate": 0.01}, "steps": 8, "seed": 1, "logEvery": 2%s}
                """;

    @Test
    void aStepThatDrawsRandomNumbersGoesOnEagerlyWithANote() throws Exception {
        String json = CLASSIFIER;
        Path eager = train(write("eager.json", json.formatted(EAGER)), "djl", "eager");
        Path capturedSpec = write("captured.json", json.formatted(", \"capture\": true"));
        Path captured = dir.resolve("captured");
        TrainCommandTest.Run run = TrainCommandTest.run("train", capturedSpec.toString(), "--backend", "djl", "--out", captured.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("step capture is off for this run, training goes on eagerly")
                && run.err().contains("with other host data"), run.err());
        assertEquals(losses(eager), losses(captured));
    }

    @Test
    void inAutomaticModeTheNoteSaysNothingIsWrong() throws Exception {
        Path eager = train(write("eager.json", CLASSIFIER.formatted(EAGER)), "djl", "eager");
        Path auto = dir.resolve("auto");
        TrainCommandTest.Run run = trainRun(write("auto.json", CLASSIFIER.formatted("")), "djl", auto);
        assertTrue(run.err().contains("automatic step capture does not fit this run, so it trains eagerly; nothing is wrong")
                && run.err().contains("with other host data") && run.err().contains("\"capture\": false"), run.err());
        assertFalse(run.err().contains("step capture is off"), run.err());
        assertEquals(0, replayedSteps(run));
        assertEquals(losses(eager), losses(auto));
        assertSameCheckpoint(eager, auto);
    }

    @Test
    void benchCapturesAsTrainDoes() throws Exception {
        String json = Files.readString(Path.of("../examples/regression-sin.json"));
        TrainCommandTest.Run auto = TrainCommandTest.run("bench", "--spec", write("auto.json", json).toString(), "--backend", "djl",
                "--steps", "20", "--warmup", "5", "--report-every", "10", "--max-growth", "1000");
        assertEquals(0, auto.exitCode(), auto.err());
        assertTrue(auto.out().contains("# step capture: 18 of 20 steps replayed"), auto.out());
        TrainCommandTest.Run eager = TrainCommandTest.run("bench", "--spec",
                write("eager.json", json.replace("\"steps\": 600", "\"steps\": 600, \"capture\": false")).toString(),
                "--backend", "djl", "--steps", "20", "--warmup", "5", "--report-every", "10", "--max-growth", "1000");
        assertEquals(0, eager.exitCode(), eager.err());
        assertTrue(eager.out().contains("# step capture: 0 of 20 steps replayed"), eager.out());
        String moe = Files.readString(Path.of("../examples/moe-clusters-switch.json")).replace("\"steps\": 600", "\"steps\": 2, \"capture\": true");
        TrainCommandTest.Run refused = TrainCommandTest.run("bench", "--spec", write("moe.json", moe).toString(), "--backend", "djl",
                "--steps", "20", "--warmup", "5");
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.err().contains("$.capture") && refused.err().contains("cannot be captured"), refused.err());
    }

    /** What the eager specs add: capture off. */
    static final String EAGER = ", \"capture\": false";

    private static long replayedSteps(TrainCommandTest.Run run) throws Exception {
        JsonNode summary = new ObjectMapper().readTree(run.out());
        assertTrue(summary.has("replayedSteps"), run.out());
        return summary.get("replayedSteps").asLong();
    }

    private TrainCommandTest.Run trainRun(Path spec, String backend, Path out) {
        TrainCommandTest.Run run = TrainCommandTest.run("train", spec.toString(), "--backend", backend, "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        return run;
    }

    private Path write(String name, String json) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, json);
        return p;
    }

    private Path train(Path spec, String backend, String name) {
        Path out = dir.resolve(name);
        TrainCommandTest.Run run = TrainCommandTest.run("train", spec.toString(), "--backend", backend, "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        return out;
    }

    private static List<String> losses(Path run) throws Exception {
        List<String> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = json.readTree(line);
            if (n.has("loss")) {
                // the exact text of the double: bit-for-bit equality
                out.add(n.get("step").asLong() + " " + n.get("loss").asText());
            }
        }
        assertEquals(4, out.size(), out::toString);
        return out;
    }

    private static void assertSameCheckpoint(Path a, Path b) throws Exception {
        Checkpoint x = Checkpoint.load(a.resolve("checkpoint.safetensors"));
        Checkpoint y = Checkpoint.load(b.resolve("checkpoint.safetensors"));
        assertEquals(x.step(), y.step());
        assertSame("params", x.params(), y.params());
        assertSame("optimizer state", x.optimizerState(), y.optimizerState());
    }

    private static void assertSame(String what, Map<String, TensorData> expected, Map<String, TensorData> actual) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name).toFloats(), actual.get(name).toFloats(), 0.0f, what + " " + name);
        }
    }
}
