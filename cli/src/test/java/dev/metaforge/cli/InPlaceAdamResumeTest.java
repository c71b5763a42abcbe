package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15: on the backends that update Adam's moments and SGD's momentum buffers in place (DJL,
 * ND4J), a run stopped at a checkpoint and resumed equals the uninterrupted run bit for bit: every
 * logged loss, the final parameters and the optimizer's state.
 */
class InPlaceAdamResumeTest {
    static final String SPEC = """
            {"experiment": {"type": "regression", "model": {"type": "mlp", "sizes": [1, 6, 6, 1], "activation": "tanh"},
              "task": {"function": "sin", "batch": 16, "evalPoints": 16}},
             "optimizer": OPTIMIZER, "steps": 12, "seed": 1, "dtype": "float32",
             "logEvery": 3, "evalEvery": 6, "checkpointEvery": 6}
            """;

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "djl  | {\"type\": \"adamw\", \"learningRate\": 0.01, \"weightDecay\": 0.01}",
            "dl4j | {\"type\": \"adamw\", \"learningRate\": 0.01, \"weightDecay\": 0.01}",
            "djl  | {\"type\": \"sgd\", \"learningRate\": 0.05, \"momentum\": 0.9, \"weightDecay\": 0.01}",
            "dl4j | {\"type\": \"sgd\", \"learningRate\": 0.05, \"momentum\": 0.9, \"weightDecay\": 0.01}"})
    void resumedRunEqualsTheUninterruptedOne(String backend, String optimizer) throws Exception {
        Path spec = dir.resolve("sin.json");
        Files.writeString(spec, SPEC.replace("OPTIMIZER", optimizer));
        Path straight = dir.resolve("straight");
        TrainCommandTest.Run a = TrainCommandTest.run("train", spec.toString(), "--backend", backend, "--out", straight.toString());
        assertEquals(0, a.exitCode(), a.err());
        Path split = dir.resolve("split");
        TrainCommandTest.Run b = TrainCommandTest.run("train", spec.toString(), "--backend", backend, "--out", split.toString(),
                "--steps", "6");
        assertEquals(0, b.exitCode(), b.err());
        TrainCommandTest.Run c = TrainCommandTest.run("train", spec.toString(), "--backend", backend, "--out", split.toString(),
                "--resume");
        assertEquals(0, c.exitCode(), c.err());

        assertEquals(losses(straight), losses(split));
        Checkpoint x = Checkpoint.load(straight.resolve("checkpoint.safetensors"));
        Checkpoint y = Checkpoint.load(split.resolve("checkpoint.safetensors"));
        assertEquals(12, y.step());
        assertFalse(x.optimizerState().isEmpty(), "the checkpoint holds Adam's moments or SGD's momentum buffers");
        assertSameTensors("params", x.params(), y.params());
        assertSameTensors("optimizer state", x.optimizerState(), y.optimizerState());
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

    private static void assertSameTensors(String what, Map<String, TensorData> expected, Map<String, TensorData> actual) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name).toFloats(), actual.get(name).toFloats(), 0.0f, what + " " + name);
        }
    }
}
