package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.spi.DType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The small MoE transformer example: its synthetic task, its routing report, and a short run that learns. */
class MoeTransformerTest {
    private static final Path EXAMPLE = Path.of("..", "..", "examples", "moe-transformer.json");

    @Test
    void sequencesHoldTheModeTokenFirstThenContentTokensAndBalancedLabels() {
        ModeSequences task = new ModeSequences(4, 4, 16, 12, 4000, 10, 7);
        ModeSequences.Split train = task.generate()[0];
        int[] perLabel = new int[4];
        int[] perMode = new int[4];
        for (int i = 0; i < train.size(); i++) {
            assertEquals(train.modes()[i], train.tokens()[i * 12], "position 0 is the mode token");
            for (int t = 1; t < 12; t++) {
                long token = train.tokens()[i * 12 + t];
                assertTrue(token >= 4 && token < 20, "content token " + token);
            }
            perLabel[train.labels()[i]]++;
            perMode[train.modes()[i]]++;
        }
        // Uniform content and balanced maps make every label (and mode) about 1/4 of 4000: ± 5 standard deviations (27).
        for (int c = 0; c < 4; c++) {
            assertEquals(1000, perLabel[c], 140, "label " + c);
            assertEquals(1000, perMode[c], 140, "mode " + c);
        }
        // Same seed, same data; the test split differs from the training split.
        assertEquals(java.util.Arrays.toString(train.tokens()), java.util.Arrays.toString(task.generate()[0].tokens()));
    }

    @Test
    void theSameContentMeansDifferentLabelsUnderDifferentModes() {
        // Were the maps shared, the label would be a function of the content alone. Find two sequences
        // with the same content multiset under different modes and different labels.
        ModeSequences.Split s = new ModeSequences(2, 2, 4, 2, 2000, 1, 3).generate()[0];
        boolean differs = false;
        for (int i = 0; i < s.size() && !differs; i++) {
            for (int j = 0; j < s.size() && !differs; j++) {
                differs = s.modes()[i] != s.modes()[j] && s.tokens()[2 * i + 1] == s.tokens()[2 * j + 1]
                        && s.labels()[i] != s.labels()[j];
            }
        }
        assertTrue(differs, "some content token changes class between the two modes");
    }

    @Test
    void modeExpertInformationIsZeroForSharedRoutingAndLnOfMinForDedicatedExperts() {
        int[] rows = {100, 100, 100, 100};
        double[][] uniform = {{.25, .25, .25, .25}, {.25, .25, .25, .25}, {.25, .25, .25, .25}, {.25, .25, .25, .25}};
        assertEquals(0.0, SequenceObjective.modeExpertInformation(uniform, rows), 1e-12);
        double[][] dedicated = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
        assertEquals(Math.log(4), SequenceObjective.modeExpertInformation(dedicated, rows), 1e-12);
        // Two modes share expert 0, two share expert 1: one bit, ln 2.
        double[][] paired = {{1, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {0, 1, 0, 0}};
        assertEquals(Math.log(2), SequenceObjective.modeExpertInformation(paired, rows), 1e-12);
    }

    @Test
    void badTaskFieldsAreRejectedWithTheJsonPath() throws Exception {
        String spec = Files.readString(EXAMPLE).replace("\"vocab\": 16", "\"vocab\": 3");
        SpecException e = assertThrows(SpecException.class, () -> specs().read(spec, TrainSpec.class, "spec.json"));
        assertTrue(e.getMessage().contains("$.experiment.sequences") && e.getMessage().contains("field 'vocab' (3) must be at least"),
                e.getMessage());
    }

    @Test
    void theExampleBuildsFromJsonLearnsInAShortRunAndLogsRouting(@TempDir Path dir) throws Exception {
        SpecRegistry specs = specs();
        TrainSpec spec = specs.read(EXAMPLE, TrainSpec.class);
        MoeSequenceSpec experiment = assertInstanceOf(MoeSequenceSpec.class, spec.experiment());
        // A smaller split keeps the reference backend quick; the model is the example's.
        ModeSequences task = experiment.sequences();
        ModeSequences small = new ModeSequences(task.modes(), task.classes(), task.vocab(), task.length(), task.train(), 512,
                task.seed());
        TrainSpec quick = new TrainSpec(new MoeSequenceSpec(experiment.model(), small, 32, 256), spec.optimizer(), 250, spec.seed(),
                spec.dtype(), 50, 0, 0);
        Trainer trainer = new Trainer(MoeFixtures.engine().withDefaultDType(DType.FLOAT32), specs, new PrintWriter(new StringWriter()),
                false);
        TrainResult result = trainer.train(quick, EXAMPLE.getParent(), dir.resolve("run"), false);
        double chance = 1.0 / task.classes();
        // Twice chance: well above what guessing (or always answering the commonest label) gets.
        assertTrue(result.eval().get("accuracy") > 2 * chance, "250 steps: " + result.eval());
        assertTrue(result.eval().get("majority_baseline") < chance + 0.1, result.eval().toString());
        // The per-mode routing report: a load vector per mode that sums to 1, and the mutual information.
        for (int m = 0; m < task.modes(); m++) {
            double sum = 0;
            for (int e = 0; e < 4; e++) {
                sum += result.eval().get("mode" + m + ".2.inner.1.expert_load." + e);
            }
            assertEquals(1.0, sum, 1e-4, "mode " + m);
        }
        double mi = result.eval().get("2.inner.1.mode_expert_mi");
        assertTrue(mi >= -1e-12 && mi <= Math.log(4) + 1e-12, "mode_expert_mi " + mi);

        List<String> lines = Files.readAllLines(dir.resolve("run").resolve(Trainer.METRICS_FILE));
        JsonNode terms = null;
        for (String line : lines) {   // the last step line (evaluation lines carry no terms)
            JsonNode node = new ObjectMapper().readTree(line);
            terms = node.has("terms") ? node.get("terms") : terms;
        }
        assertTrue(terms != null, "no step line in metrics.jsonl: " + lines);
        List<String> names = new ArrayList<>();
        terms.fieldNames().forEachRemaining(names::add);
        for (String name : List.of("2.inner.1.expert_load.0", "2.inner.1.expert_load.3", "2.inner.1.drop_rate",
                "2.inner.1.router_entropy", "2.inner.1.balance_loss", "2.inner.1.z_loss")) {
            assertTrue(names.contains(name), name + " in " + names);
        }
        // experts.png is drawn by the CLI's RunPlots listener (tested in cli), not by the library Trainer.
    }

    private static SpecRegistry specs() {
        return SpecRegistry.load(MoeTransformerTest.class.getClassLoader());
    }
}
