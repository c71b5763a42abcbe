package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON side: type names, errors naming the JSON path, the example specs trained through the Trainer. */
class MoeSpecTest {
    private static final Path EXAMPLES = Path.of("..", "..", "examples");
    private static final List<String> EXAMPLES_TRAINED = List.of("moe-clusters-switch", "moe-clusters-noisy-topk",
            "moe-clusters-expert-choice", "moe-clusters-dropless", "moe-clusters-aux-free", "moe-dynamic-dino", "moe-read-me");

    private static SpecRegistry specs() {
        return SpecRegistry.load(MoeSpecTest.class.getClassLoader());
    }

    private static String layer(String router, String expert) {
        return "{\"type\": \"sequential\", \"layers\": [{\"type\": \"linear\", \"in\": 3, \"out\": 8},"
                + " {\"type\": \"moe\", \"width\": 8, \"experts\": 4, \"expert\": " + expert + ", \"router\": " + router + "}]}";
    }

    private static final String MLP8 = "{\"type\": \"mlp\", \"sizes\": [8, 16, 8]}";

    @Test
    void everyRouterTypeNameBuildsALayer() {
        SpecRegistry specs = specs();
        for (String router : List.of("{\"type\": \"topk\"}", "{\"type\": \"switch\"}", "{\"type\": \"dropless\", \"k\": 3}",
                "{\"type\": \"noisy-topk\"}", "{\"type\": \"expert-choice\"}", "{\"type\": \"aux-free\", \"k\": 1}")) {
            ModuleSpec spec = specs.read(layer(router, MLP8), ModuleSpec.class, "test");
            Sequential net = assertInstanceOf(Sequential.class, spec.build());
            MixtureOfExperts moe = assertInstanceOf(MixtureOfExperts.class, net.layers().get(1));
            assertEquals(4, moe.experts());
            // written back and read again: the same spec
            assertEquals(spec, specs.read(specs.write(spec), ModuleSpec.class, "round trip"));
        }
    }

    @Test
    void kLargerThanTheExpertsIsRejectedWithTheJsonPath() {
        SpecException e = assertThrows(SpecException.class,
                () -> specs().read(layer("{\"type\": \"topk\", \"k\": 5}", MLP8), ModuleSpec.class, "spec.json"));
        // The strict reader names the field itself (the layer's router), not just the layer.
        assertEquals("$.layers[1].router", e.jsonPath(), e.getMessage());
        assertTrue(e.getMessage().contains("spec.json at $.layers[1].router") && e.getMessage().contains("field 'router'")
                && e.getMessage().contains("field 'k' is 5 but the layer has only 4 experts"), e.getMessage());
    }

    @Test
    void aCapacityFactorThatIsNotPositiveIsRejectedWithTheJsonPath() {
        for (String router : List.of("{\"type\": \"topk\", \"capacityFactor\": 0}", "{\"type\": \"switch\", \"capacityFactor\": -1}",
                "{\"type\": \"expert-choice\", \"capacityFactor\": 0}")) {
            SpecException e = assertThrows(SpecException.class, () -> specs().read(layer(router, MLP8), ModuleSpec.class, "spec.json"));
            assertEquals("$.layers[1].router.capacityFactor", e.jsonPath(), e.getMessage());
            assertTrue(e.getMessage().contains("field 'capacityFactor' must be a finite number > 0"), e.getMessage());
        }
    }

    @Test
    void expertsThatDoNotReadTheRoutersWidthAreRejectedWithTheJsonPath() {
        SpecException e = assertThrows(SpecException.class, () -> specs().read(
                layer("{\"type\": \"topk\"}", "{\"type\": \"mlp\", \"sizes\": [6, 16, 8]}"), ModuleSpec.class, "spec.json"));
        assertEquals("$.layers[1].expert", e.jsonPath(), e.getMessage());
        assertTrue(e.getMessage().contains("field 'expert' reads 6 features but field 'width' is 8"), e.getMessage());
        SpecException shared = assertThrows(SpecException.class, () -> specs().read(
                "{\"type\": \"moe\", \"width\": 8, \"experts\": 2, \"expert\": " + MLP8
                        + ", \"shared\": {\"type\": \"linear\", \"in\": 8, \"out\": 5}}", ModuleSpec.class, "spec.json"));
        assertTrue(shared.getMessage().contains("field 'shared' writes 5 features but field 'expert' writes 8"), shared.getMessage());
    }

    @Test
    void unknownRouterNamesListTheKnownOnes() {
        SpecException e = assertThrows(SpecException.class,
                () -> specs().read(layer("{\"type\": \"hash\"}", MLP8), ModuleSpec.class, "spec.json"));
        assertTrue(e.getMessage().contains("unknown type 'hash'") && e.getMessage().contains("aux-free")
                && e.getMessage().contains("expert-choice"), e.getMessage());
    }

    @Test
    void everyRouterExampleTrainsThroughTheTrainerAndLogsRouting(@TempDir Path dir) throws Exception {
        SpecRegistry specs = specs();
        ObjectMapper json = new ObjectMapper();
        for (String router : EXAMPLES_TRAINED) {
            Path file = EXAMPLES.resolve(router + ".json");
            TrainSpec spec = specs.read(file, TrainSpec.class).withSteps(30).withSchedule(10, 30, 30);
            Trainer trainer = new Trainer(MoeFixtures.engine().withDefaultDType(dev.metaforge.spi.DType.FLOAT32), specs,
                    new PrintWriter(new StringWriter()), false);
            Path out = dir.resolve(router);
            TrainResult result = trainer.train(spec, file.getParent(), out, false);
            assertTrue(Double.isFinite(result.finalLoss()), router);
            assertTrue(result.eval().get("accuracy") > 0.25, router + ": better than chance after 30 steps: " + result.eval());
            List<String> lines = Files.readAllLines(out.resolve(Trainer.METRICS_FILE));
            JsonNode terms = json.readTree(lines.get(0)).get("terms");
            List<String> names = new java.util.ArrayList<>();
            terms.fieldNames().forEachRemaining(names::add);
            for (int e = 0; e < 8; e++) {
                String suffix = "expert_load." + e;
                assertTrue(names.stream().anyMatch(n -> n.startsWith("2.") && n.endsWith(suffix)), router + ": " + names);
            }
            assertTrue(names.stream().anyMatch(n -> n.endsWith(".drop_rate")) && names.stream().anyMatch(n -> n.endsWith(".router_entropy")),
                    router + ": " + names);
            // experts.png is drawn from these terms by the CLI's plot listener (cli RunPlotsTest), not by the Trainer.
        }
    }

    @Test
    void anAuxFreeRunResumedMidwayRepeatsTheUninterruptedRun(@TempDir Path dir) throws Exception {
        // The balancing bias is module state: it must travel through the checkpoint.
        SpecRegistry specs = specs();
        Path file = EXAMPLES.resolve("moe-clusters-aux-free.json");
        TrainSpec spec = specs.read(file, TrainSpec.class).withSteps(24).withSchedule(4, 0, 0);
        Trainer trainer = new Trainer(MoeFixtures.engine().withDefaultDType(dev.metaforge.spi.DType.FLOAT32), specs,
                new PrintWriter(new StringWriter()), false);
        TrainResult straight = trainer.train(spec, file.getParent(), dir.resolve("straight"), false);
        trainer.train(spec.withSteps(12), file.getParent(), dir.resolve("resumed"), false);
        TrainResult resumed = trainer.train(spec, file.getParent(), dir.resolve("resumed"), true);
        assertEquals(straight.finalLoss(), resumed.finalLoss(), 0.0);
        assertEquals(straight.eval(), resumed.eval());
        ObjectMapper json = new ObjectMapper();
        List<String> a = Files.readAllLines(dir.resolve("straight").resolve(Trainer.METRICS_FILE));
        List<String> b = Files.readAllLines(dir.resolve("resumed").resolve(Trainer.METRICS_FILE));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            JsonNode x = json.readTree(a.get(i));
            JsonNode y = json.readTree(b.get(i));
            assertEquals(x.get("terms"), y.get("terms"), "line " + i);
        }
    }

    @Test
    void theFashionMnistExampleReadsAndTrainsOnASubset(@TempDir Path dir) throws Exception {
        SpecRegistry specs = specs();
        Path file = EXAMPLES.resolve("moe-fashion-mnist.json");
        TrainSpec spec = specs.read(file, TrainSpec.class);
        MoeClassificationSpec experiment = assertInstanceOf(MoeClassificationSpec.class, spec.experiment());
        Assumptions.assumeTrue(Files.exists(Path.of(experiment.idx().trainImages())), "Fashion-MNIST files are not installed");
        IdxData small = new IdxData(experiment.idx().trainImages(), experiment.idx().trainLabels(), experiment.idx().testImages(),
                experiment.idx().testLabels(), experiment.idx().scale(), 1000, 200);
        TrainSpec quick = new TrainSpec(new MoeClassificationSpec(experiment.model(), null, small, 64, 200), spec.optimizer(),
                25, spec.seed(), spec.dtype(), 5, 0, 0);
        Trainer trainer = new Trainer(MoeFixtures.engine().withDefaultDType(dev.metaforge.spi.DType.FLOAT32), specs,
                new PrintWriter(new StringWriter()), false);
        TrainResult result = trainer.train(quick, file.getParent(), dir.resolve("fmnist"), false);
        assertTrue(result.eval().get("accuracy") > 0.4, "25 steps on Fashion-MNIST: " + result.eval());
    }

    @Test
    void missingIdxFilesAreNamedByFieldBeforeAnythingIsRead(@TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("train-labels.idx"), "not read");
        IdxData data = new IdxData("train-images.idx", "train-labels.idx", "/usr/share/datasets/fashion-mnist/no-such-file.gz",
                "t10k-labels.idx", 1.0 / 255, 0, 0);
        dev.metaforge.api.train.BuildContext context = new dev.metaforge.api.train.BuildContext(MoeFixtures.engine(), specs(),
                dir, 0);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> data.load(context));
        assertEquals("idx: \"trainImages\" (" + dir.resolve("train-images.idx") + "), \"testImages\""
                + " (/usr/share/datasets/fashion-mnist/no-such-file.gz), \"testLabels\" (" + dir.resolve("t10k-labels.idx")
                + ") do not exist; the files under /usr/share/datasets/fashion-mnist are Debian's Fashion-MNIST: install them"
                + " with `apt-get install dataset-fashion-mnist`, or point these fields at other IDX files", e.getMessage());
    }
}
