package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.moe.RouterSpec;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.ExperimentSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9's "every router and seed component trains from a JSON spec through {@code metaforge
 * train}, on both backends": every {@code examples/moe-*.json} runs a few steps through the train
 * command on DJL and on ND4J, writes its run files and (where tokens are routed) logs per-expert
 * load; and together the examples name every router and MoE component the plugins register.
 */
class MoeExamplesOnBackendsTest {
    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();
    /** Experiments whose router mixes weights or domains, not tokens: no per-token expert load to log. */
    private static final Set<String> NO_TOKEN_ROUTING = Set.of("moe-meta-dmoe", "moe-supernets");

    @TempDir
    Path dir;

    private static List<Path> moeExamples() {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            return files.filter(p -> p.getFileName().toString().matches("moe-.*\\.json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyMoeExampleTrainsAFewStepsOnDjlAndNd4j() {
        List<Path> examples = moeExamples();
        assertTrue(examples.size() >= 12, "MoE examples under " + EXAMPLES + ": " + examples);
        List<DynamicTest> tests = new ArrayList<>();
        for (String backend : List.of("djl", "dl4j")) {
            for (Path example : examples) {
                String name = example.getFileName().toString().replace(".json", "");
                tests.add(DynamicTest.dynamicTest(backend + " " + name, () -> trainsAFewSteps(backend, example, name)));
            }
        }
        return tests.stream();
    }

    private void trainsAFewSteps(String backend, Path example, String name) throws IOException {
        JsonNode idx = new ObjectMapper().readTree(example.toFile()).path("experiment").path("idx");
        Assumptions.assumeTrue(idx.isMissingNode() || Files.exists(Path.of(idx.path("trainImages").asText())),
                name + ": its data set is not installed");
        Path out = dir.resolve(backend + "-" + name);
        TrainCommandTest.Run r = TrainCommandTest.run("train", example.toString(), "--backend", backend, "--out", out.toString(),
                "--steps", "3");
        assertEquals(0, r.exitCode(), name + " on " + backend + ": " + r.err());
        JsonNode summary = new ObjectMapper().readTree(r.out());
        assertEquals(3, summary.get("steps").asInt(), r.out());
        assertTrue(Double.isFinite(summary.get("finalLoss").asDouble()), r.out());
        assertTrue(summary.get("eval").size() > 0, "the run evaluates: " + r.out());
        assertTrue(r.err().contains("on " + backend), "trained on the backend asked for: " + r.err());
        for (String file : List.of("metrics.jsonl", "checkpoint.safetensors", "spec.json")) {
            assertTrue(Files.isRegularFile(out.resolve(file)), name + ": " + file);
        }
        boolean loadLogged = Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                .anyMatch(l -> l.contains("\"terms\"") && l.contains("expert_load.0\""));
        assertEquals(!NO_TOKEN_ROUTING.contains(name), loadLogged, name + ": per-expert load in metrics.jsonl");
    }

    /**
     * The bad inputs of issue 9 (k > experts, capacity factor <= 0, an expert that does not read the
     * router's width) stop {@code metaforge train} before anything is written, with one line naming
     * the file and the JSON path of the field.
     */
    @Test
    void badMoeLayersAreRefusedByTrainNamingTheJsonPath() throws IOException {
        String switchSpec = Files.readString(EXAMPLES.resolve("moe-clusters-switch.json"));
        String layer = "$.experiment.model.layers[2]";
        check(switchSpec.replace("\"type\": \"switch\",", "\"type\": \"topk\", \"k\": 9,"), layer + ".router",
                "field 'k' is 9 but the layer has only 8 experts");
        check(switchSpec.replace("\"capacityFactor\": 1.25", "\"capacityFactor\": 0"), layer + ".router.capacityFactor",
                "field 'capacityFactor' must be a finite number > 0");
        check(switchSpec.replace("\"sizes\": [32, 64, 32]", "\"sizes\": [16, 64, 32]"), layer + ".expert",
                "field 'expert' reads 16 features but field 'width' is 32");
        String transformer = Files.readString(EXAMPLES.resolve("moe-transformer.json"));
        check(transformer.replace("\"k\": 2,", "\"k\": 5,"), "$.experiment.model.layers[2].inner.layers[1].router",
                "field 'k' is 5 but the layer has only 4 experts");
    }

    private void check(String json, String path, String message) throws IOException {
        Path spec = dir.resolve("bad.json");
        Files.writeString(spec, json);
        Path out = dir.resolve("bad-run");
        TrainCommandTest.Run r = TrainCommandTest.run("train", spec.toString(), "--backend", "dl4j", "--out", out.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains(spec + " at " + path) && r.err().contains(message), "expected " + path + " and '" + message
                + "' in: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(Files.exists(out), "nothing written for a refused spec");
    }

    /** The examples above are the proof only if they use every registered router and MoE component. */
    @Test
    void theMoeExamplesNameEveryRouterAndMoeComponent() throws IOException {
        SpecRegistry specs = SpecRegistry.load(TrainTestPlugin.loader());
        Set<String> wanted = new TreeSet<>(specs.names(RouterSpec.class));
        // the MoE plugin's modules and experiments (other plugins' names are not issue 9's)
        for (String module : specs.names(ModuleSpec.class)) {
            if (Set.of("moe", "dynamic-dino", "read-me").contains(module)) {
                wanted.add(module);
            }
        }
        for (String experiment : specs.names(ExperimentSpec.class)) {
            if (experiment.startsWith("moe-") || Set.of("mixer", "mixture-of-supernets", "meta-dmoe").contains(experiment)) {
                wanted.add(experiment);
            }
        }
        assertTrue(wanted.containsAll(List.of("topk", "switch", "dropless", "noisy-topk", "expert-choice", "aux-free", "moe",
                "dynamic-dino", "read-me", "mixer", "mixture-of-supernets", "meta-dmoe")), wanted.toString());
        Set<String> used = new TreeSet<>();
        for (Path example : moeExamples()) {
            collectTypes(new ObjectMapper().readTree(example.toFile()), used);
        }
        Set<String> missing = new TreeSet<>(wanted);
        missing.removeAll(used);
        assertFalse(!missing.isEmpty(), "no examples/moe-*.json uses " + missing);
    }

    private static void collectTypes(JsonNode node, Set<String> into) {
        if (node.isObject() && node.has("type") && node.get("type").isTextual()) {
            into.add(node.get("type").asText());
        }
        node.elements().forEachRemaining(child -> collectTypes(child, into));
    }
}
