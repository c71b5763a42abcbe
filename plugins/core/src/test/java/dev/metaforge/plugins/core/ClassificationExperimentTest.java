package dev.metaforge.plugins.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The classification experiment on small generated IDX files (never the real data), through the trainer. */
class ClassificationExperimentTest {
    private final SpecRegistry specs = SpecRegistry.of(List.of(new CorePlugin(), new TestStatefulModules()));
    private final StringWriter progress = new StringWriter();

    @TempDir
    Path dir;

    private Trainer trainer() {
        return new Trainer(Engine.of(new ReferenceBackend(), DType.FLOAT32), specs, new PrintWriter(progress, true), false);
    }

    /** 3 classes of 6x6 images: 90 training and 30 test examples in dir. */
    private void writeData() throws IOException {
        TestImages.write(dir, "train", 90, 3, 6, 1);
        TestImages.write(dir, "test", 30, 3, 6, 2);
    }

    private static String experiment(String model, String extra) {
        return "{\"type\": \"classification\", \"model\": " + model + ","
                + " \"train\": {\"type\": \"idx\", \"images\": \"train-images-idx3-ubyte.gz\", \"labels\": \"train-labels-idx1-ubyte.gz\"},"
                + " \"test\": {\"type\": \"idx\", \"images\": \"test-images-idx3-ubyte.gz\", \"labels\": \"test-labels-idx1-ubyte.gz\"},"
                + " \"batchSize\": 16, \"evalBatchSize\": 7" + extra + "}";
    }

    private TrainSpec trainSpec(String experiment, int steps, String dtype) {
        return specs.read("{\"experiment\": " + experiment + ", \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.05},"
                + " \"steps\": " + steps + ", \"seed\": 3, \"dtype\": \"" + dtype + "\", \"logEvery\": 5, \"evalEvery\": 10}",
                TrainSpec.class, "inline");
    }

    @Test
    void trainsAnMlpAndEvaluatesTheWholeTestSet() throws IOException {
        writeData();
        TrainSpec spec = trainSpec(experiment("{\"type\": \"mlp\", \"sizes\": [36, 16, 3]}", ", \"mean\": 0.3, \"std\": 0.3"), 60, "float32");
        TrainResult result = trainer().train(spec, dir, dir.resolve("run"), false);
        assertEquals(List.of("accuracy", "loss"), List.copyOf(result.eval().keySet()));
        assertTrue(result.eval().get("accuracy") >= 0.95, result.eval().toString());
        List<JsonNode> lines = metrics(dir.resolve("run"));
        assertTrue(lines.get(0).get("loss").asDouble() > 2 * result.finalLoss(), "loss fell: " + lines.get(0) + " -> " + result.finalLoss());
    }

    /** Evaluation = accuracy and mean cross-entropy over every test example, checked against float64 loops. */
    @Test
    void evaluationMatchesAnIndependentFloat64Computation() throws IOException {
        writeData();
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        ExperimentSpec spec = specs.read(experiment("{\"type\": \"linear\", \"in\": 36, \"out\": 3}", ", \"mean\": 0.5, \"std\": 0.25"),
                ExperimentSpec.class, "inline");
        Objective objective = spec.build(new BuildContext(engine, specs, dir, 0));
        LabelledDataset test = new IdxSpec("test-images-idx3-ubyte.gz", "test-labels-idx1-ubyte.gz", 1.0, null, null)
                .build(new BuildContext(engine, specs, dir, 0));
        try (Scope scope = Scope.open()) {
            Params p = objective.init(RandomStream.of(5));
            Map<String, Double> metrics = objective.evaluate(p);
            for (String described : objective.metricDescriptions().keySet()) {
                assertTrue(described.equals("training loss") || metrics.containsKey(described.substring("eval ".length())),
                        "a description for a metric that is never reported: " + described + " (reported: " + metrics.keySet() + ")");
            }
            assertEquals(metrics.size() + 1, objective.metricDescriptions().size(), "every reported metric is described");
            double[] w = p.get("weight").toDoubles();
            double[] b = p.get("bias").toDoubles();
            int hits = 0;
            double loss = 0;
            for (int i = 0; i < test.size(); i++) {
                double[] x = test.example(i);
                double[] logits = new double[3];
                for (int c = 0; c < 3; c++) {
                    logits[c] = b[c];
                    for (int k = 0; k < 36; k++) {
                        logits[c] += ((x[k] / 255 - 0.5) / 0.25) * w[k * 3 + c];
                    }
                }
                int best = 0;
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < 3; c++) {
                    if (logits[c] > max) {
                        max = logits[c];
                        best = c;
                    }
                }
                double sum = 0;
                for (double l : logits) {
                    sum += Math.exp(l - max);
                }
                loss += max + Math.log(sum) - logits[test.label(i)];
                hits += best == test.label(i) ? 1 : 0;
            }
            assertEquals(hits / 30.0, metrics.get("accuracy"), 0.0);
            assertEquals(loss / 30, metrics.get("loss"), 1e-12);
        }
    }

    /** Batches come from the step's random stream alone: same stream, same loss; another stream, another batch. */
    @Test
    void batchesAreDrawnFromTheStepRandomStream() throws IOException {
        writeData();
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        ExperimentSpec spec = specs.read(experiment("{\"type\": \"mlp\", \"sizes\": [36, 8, 3]}", ""), ExperimentSpec.class, "inline");
        Objective a = spec.build(new BuildContext(engine, specs, dir, 0));
        Objective b = spec.build(new BuildContext(engine, specs, dir, 0));
        try (Scope scope = Scope.open()) {
            Params p = a.init(RandomStream.of(1));
            double first = a.loss(p, 7, RandomStream.of(42)).item();
            assertEquals(first, b.loss(p, 7, RandomStream.of(42)).item(), 0.0);
            assertEquals(first, a.loss(p, 8, RandomStream.of(42)).item(), 0.0, "the step number does not matter, the stream does");
            assertNotEquals(first, a.loss(p, 7, RandomStream.of(43)).item());
        }
    }

    /**
     * A stateful, stochastic model (running mean as state, noise from the step's stream, an
     * auxiliary loss): 30 steps straight versus 12 + resume to 30, float64, agree exactly in
     * every logged number, the parameters and the model's state, which is in the checkpoint.
     */
    @Test
    void resumeContinuesBitForBitWithAStatefulModel() throws IOException {
        writeData();
        String model = "{\"type\": \"sequential\", \"layers\": [{\"type\": \"linear\", \"in\": 36, \"out\": 8},"
                + " {\"type\": \"test-running-centre\", \"features\": 8}, {\"type\": \"activation\", \"function\": \"relu\"},"
                + " {\"type\": \"linear\", \"in\": 8, \"out\": 3}]}";
        TrainSpec spec = trainSpec(experiment(model, ", \"inputShape\": [36]"), 30, "float64");
        trainer().train(spec, dir, dir.resolve("straight"), false);
        trainer().train(spec.withSteps(12), dir, dir.resolve("resumed"), false);
        trainer().train(spec, dir, dir.resolve("resumed"), true);

        List<JsonNode> a = metrics(dir.resolve("straight"));
        List<JsonNode> b = metrics(dir.resolve("resumed"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("step"), b.get(i).get("step"));
            assertEquals(a.get(i).get("loss"), b.get(i).get("loss"), "line " + (i + 1));
            assertEquals(a.get(i).get("eval"), b.get(i).get("eval"), "line " + (i + 1));
        }
        assertTrue(a.get(0).toString().contains("1.penalty"), "the auxiliary loss is logged: " + a.get(0));
        Checkpoint x = Checkpoint.load(dir.resolve("straight").resolve(Trainer.CHECKPOINT_FILE));
        Checkpoint y = Checkpoint.load(dir.resolve("resumed").resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(x.params(), y.params());
        assertEquals(List.of("1.mean"), List.copyOf(x.objectiveState().keySet()));
        assertEquals(x.objectiveState(), y.objectiveState());
        TensorData mean = x.objectiveState().get("1.mean");
        double norm = 0;
        for (double v : mean.toDoubles()) {
            norm += Math.abs(v);
        }
        assertTrue(norm > 0, "the running mean moved");
    }

    @Test
    void missingDataIsAClearErrorAndLeavesNoRunDirectory() throws IOException {
        Path out = dir.resolve("never");
        TrainSpec spec = trainSpec(experiment("{\"type\": \"mlp\", \"sizes\": [36, 3]}", ""), 5, "float32");
        SpecException e = assertThrows(SpecException.class, () -> trainer().train(spec, dir, out, false));
        assertTrue(e.getMessage().contains("$.experiment") && e.getMessage().contains("field 'train'")
                && e.getMessage().contains(dir.resolve("train-images-idx3-ubyte.gz").toString())
                && e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
        assertFalse(Files.exists(out), "nothing is created for a run that cannot start");
    }

    /** Issue 8: convolution specs that cannot run are refused before training, naming the JSON path; no run directory is left. */
    @Test
    void convolutionalSpecsThatCannotRunAreRefusedBeforeTheRunDirectoryExists() throws IOException {
        writeData();
        String tooLarge = "{\"type\": \"sequential\", \"layers\": [{\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2,"
                + " \"kernel\": 7}, {\"type\": \"flatten\", \"startAxis\": -3}, {\"type\": \"linear\", \"in\": 2, \"out\": 3}]}";
        String wrongChannels = "{\"type\": \"sequential\", \"layers\": [{\"type\": \"conv2d\", \"inChannels\": 3, \"outChannels\": 2,"
                + " \"kernel\": 3}, {\"type\": \"flatten\", \"startAxis\": -3}, {\"type\": \"linear\", \"in\": 32, \"out\": 3}]}";
        for (String model : List.of(tooLarge, wrongChannels)) {
            Path out = dir.resolve("never");
            TrainSpec spec = trainSpec(experiment(model, ", \"inputShape\": [1, 6, 6]"), 5, "float32");
            SpecException e = assertThrows(SpecException.class, () -> trainer().train(spec, dir, out, false));
            assertTrue(e.jsonPath().startsWith("$.experiment"), e.jsonPath() + ": " + e.getMessage());
            assertTrue(e.getMessage().contains("[1, 6, 6]") || e.getMessage().contains("6x6") || e.getMessage().contains("channels"),
                    e.getMessage());
            assertFalse(Files.exists(out), "nothing is created for a spec that cannot run: " + e.getMessage());
        }
        SpecException heads = assertThrows(SpecException.class, () -> trainSpec(experiment(
                "{\"type\": \"attention\", \"d\": 6, \"heads\": 4}", ""), 5, "float32"));
        assertTrue(heads.getMessage().contains("field 'heads'") && heads.getMessage().contains("$.experiment.model"), heads.getMessage());
    }

    @Test
    void aModelThatDoesNotFitTheDataIsRejectedWhenBuilt() throws IOException {
        writeData();
        BuildContext context = new BuildContext(Engine.of(new ReferenceBackend(), DType.FLOAT32), specs, dir, 0);
        IllegalArgumentException outputs = assertThrows(IllegalArgumentException.class, () -> specs.read(
                experiment("{\"type\": \"mlp\", \"sizes\": [36, 2]}", ""), ExperimentSpec.class, "inline").build(context));
        assertTrue(outputs.getMessage().contains("gives 2 logits per example, but the labels go up to 2: it needs at least 3 outputs"),
                outputs.getMessage());
        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class, () -> specs.read(
                experiment("{\"type\": \"mlp\", \"sizes\": [6, 3]}", ", \"inputShape\": [6, 6]"), ExperimentSpec.class, "inline")
                .build(context));
        assertTrue(rows.getMessage().contains("field 'model' maps inputs of shape [N, 6, 6] to [N, 6, 3], but a classifier must give"
                + " logits [N, classes]"), rows.getMessage());
        IllegalArgumentException inputs = assertThrows(IllegalArgumentException.class, () -> specs.read(
                experiment("{\"type\": \"mlp\", \"sizes\": [5, 3]}", ""), ExperimentSpec.class, "inline").build(context));
        assertTrue(inputs.getMessage().contains("field 'model' cannot take inputs of shape [N, 36]"), inputs.getMessage());
        IllegalArgumentException layout = assertThrows(IllegalArgumentException.class, () -> specs.read(
                experiment("{\"type\": \"mlp\", \"sizes\": [36, 3]}", ", \"inputShape\": [1, 28, 28]"), ExperimentSpec.class, "inline")
                .build(context));
        assertTrue(layout.getMessage().contains("field 'inputShape' [1, 28, 28] holds 784 values") && layout.getMessage().contains("[6, 6]"),
                layout.getMessage());
    }

    @Test
    void defaultsAreFashionMnistAndTheSpecReadsBack() {
        ClassificationExperimentSpec spec = (ClassificationExperimentSpec) specs.read(
                "{\"type\": \"classification\", \"model\": {\"type\": \"mlp\", \"sizes\": [784, 10]}}", ExperimentSpec.class, "inline");
        assertEquals(IdxSpec.fashionMnist("train"), spec.train());
        assertEquals(IdxSpec.fashionMnist("test"), spec.test());
        assertEquals(128, spec.batchSize());
        assertEquals(1000, spec.evalBatchSize());
        assertEquals(0.0, spec.mean());
        assertEquals(1.0, spec.std());
        assertEquals(spec, specs.read(specs.write(spec), ExperimentSpec.class, "round trip"));
        SpecException std = assertThrows(SpecException.class, () -> specs.read(
                "{\"type\": \"classification\", \"model\": {\"type\": \"mlp\", \"sizes\": [784, 10]}, \"std\": 0}", ExperimentSpec.class, "x"));
        assertTrue(std.getMessage().contains("'std'"), std.getMessage());
    }

    /** examples/fashion-mnist-mlp.json reads as documented (the slow FashionMnistClassificationTest trains it). */
    @Test
    void theFashionMnistExampleReads() {
        Path file = Path.of("..", "..", "examples", "fashion-mnist-mlp.json");
        TrainSpec example = SpecRegistry.load(getClass().getClassLoader()).read(file, TrainSpec.class);
        ClassificationExperimentSpec spec = (ClassificationExperimentSpec) example.experiment();
        assertEquals(new MlpSpec(List.of(784, 256, 10), "relu", "identity", "torch"), spec.model());
        assertEquals(IdxSpec.fashionMnist("train"), spec.train());
        assertEquals(IdxSpec.fashionMnist("test"), spec.test());
        assertEquals(List.of(784), spec.inputShape());
        assertEquals(3000, example.steps());
    }

    static List<JsonNode> metrics(Path run) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve(Trainer.METRICS_FILE))) {
            out.add(json.readTree(line));
        }
        return out;
    }
}
