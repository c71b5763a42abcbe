package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * Issue 15 item 3, end to end through {@code metaforge train}: {@code "capture": true} gives the files of
 * the eager run bit for bit (every logged loss, the final parameters and Adam's moments), a captured run
 * resumed from its checkpoint equals the uninterrupted captured run, an experiment that cannot be captured
 * is a spec error before any file exists, and one whose step turns out to change from step to step
 * (dropout) goes on eagerly with a note.
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
        Path eagerSpec = write("eager.json", MAML.formatted(""));
        Path capturedSpec = write("captured.json", MAML.formatted(", \"capture\": true"));
        Path eager = train(eagerSpec, backend, "eager");
        Path captured = train(capturedSpec, backend, "captured");
        assertEquals(losses(eager), losses(captured));
        assertSameCheckpoint(eager, captured);
        assertTrue(Files.readString(captured.resolve("spec.json")).contains("\"capture\" : true"), "spec.json keeps \"capture\"");
        assertFalse(Files.readString(eager.resolve("spec.json")).contains("capture"), "an eager spec.json is written as before");
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
        Path eagerSpec = write("eager.json", MAML.formatted(""));
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
    void aCapturedClassifierEqualsTheEagerOneWithoutANote() throws Exception {
        String json = CLASSIFIER.replace("{\"type\": \"dropout\", \"p\": 0.2}, ", "");
        Path eager = train(write("eager.json", json.formatted("")), "dl4j", "eager");
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
        Path eager = train(write("eager.json", json.formatted("")), "djl", "eager");
        Path capturedSpec = write("captured.json", json.formatted(", \"capture\": true"));
        Path captured = dir.resolve("captured");
        TrainCommandTest.Run run = TrainCommandTest.run("train", capturedSpec.toString(), "--backend", "djl", "--out", captured.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("step capture is off for this run, training goes on eagerly")
                && run.err().contains("with other host data"), run.err());
        assertEquals(losses(eager), losses(captured));
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
