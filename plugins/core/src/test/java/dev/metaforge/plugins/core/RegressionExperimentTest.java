package dev.metaforge.plugins.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.EvalResult;
import dev.metaforge.api.train.Evaluator;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.PreflightException;
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

/** The regression experiment end to end through the trainer, on the reference backend. */
class RegressionExperimentTest {
    private static final Path EXAMPLE = Path.of("..", "..", "examples", "regression-sin.json");

    private final SpecRegistry specs = SpecRegistry.load(RegressionExperimentTest.class.getClassLoader());
    private final StringWriter progress = new StringWriter();

    @TempDir
    Path dir;

    private Trainer trainer(Engine engine) {
        return new Trainer(engine, specs, new PrintWriter(progress, true), false);
    }

    /** Evaluation = MSE and max |error| on the grid, checked against the MLP written as float64 loops. */
    @Test
    void evaluationMatchesAnIndependentFloat64Computation() {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        RegressionTask task = new RegressionTask("gaussian", -2, 3, 16, 11);
        RegressionExperimentSpec spec = new RegressionExperimentSpec(new MlpSpec(List.of(1, 4, 1), "tanh", "identity", "torch"), task);
        Objective objective = spec.build(new BuildContext(engine, specs, dir, 0));
        try (Scope scope = Scope.open()) {
            Params p = objective.init(RandomStream.of(5));
            Map<String, Double> metrics = objective.evaluate(p);
            for (String described : objective.metricDescriptions().keySet()) {
                assertTrue(described.equals("training loss") || metrics.containsKey(described.substring("eval ".length())),
                        "a description for a metric that is never reported: " + described + " (reported: " + metrics.keySet() + ")");
            }
            assertEquals(metrics.size() + 1, objective.metricDescriptions().size(), "every reported metric is described");
            double[] w0 = p.get("0.weight").toDoubles();
            double[] b0 = p.get("0.bias").toDoubles();
            double[] w1 = p.get("1.weight").toDoubles();
            double b1 = p.get("1.bias").item();
            double sum = 0;
            double max = 0;
            for (int i = 0; i < 11; i++) {
                double x = -2 + 5.0 * i / 10;
                double y = b1;
                for (int j = 0; j < 4; j++) {
                    y += Math.tanh(x * w0[j] + b0[j]) * w1[j];
                }
                double err = y - Math.exp(-x * x);
                sum += err * err;
                max = Math.max(max, Math.abs(err));
            }
            assertEquals(sum / 11, metrics.get("mse"), 1e-14);
            assertEquals(max, metrics.get("maxAbsError"), 1e-14);
        }
    }

    /** The shipped example trains: final MSE far below that of predicting 0 (mean of sin^2 = 0.5). */
    @Test
    void theExampleSpecTrainsSin() throws IOException {
        TrainSpec example = specs.read(EXAMPLE, TrainSpec.class);
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT32);
        TrainResult result = trainer(engine).train(example, EXAMPLE.getParent(), dir.resolve("regression-sin"), false);
        assertEquals(example.steps(), result.steps());
        assertTrue(result.eval().get("mse") < 0.01, "final eval " + result.eval());
        List<JsonNode> lines = metrics(dir.resolve("regression-sin"));
        double firstLoss = lines.get(0).get("loss").asDouble();
        assertTrue(result.finalLoss() < firstLoss / 10, "loss fell from " + firstLoss + " to " + result.finalLoss());
        assertEquals(example.steps(), Checkpoint.load(result.checkpoint()).step());
        EvalResult eval = new Evaluator(engine, specs).evaluate(example, EXAMPLE.getParent(), result.checkpoint());
        assertEquals(result.eval(), eval.metrics());
    }

    /** 30 steps straight versus 12 + resume to 30, float64: every logged number and the final weights agree exactly. */
    @Test
    void resumedRegressionRunEqualsUninterruptedRun() throws IOException {
        String json = "{\"experiment\": {\"type\": \"regression\", \"model\": {\"type\": \"mlp\", \"sizes\": [1, 8, 8, 1], \"activation\": \"tanh\"},"
                + " \"task\": {\"function\": \"cube\", \"xMin\": -1, \"xMax\": 1, \"batch\": 16}},"
                + " \"optimizer\": {\"type\": \"adamw\", \"learningRate\": 0.02}, \"steps\": 30, \"seed\": 4, \"dtype\": \"float64\","
                + " \"logEvery\": 5, \"evalEvery\": 10}";
        TrainSpec spec = specs.read(json, TrainSpec.class, "inline");
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT32);
        trainer(engine).train(spec, dir, dir.resolve("straight"), false);
        trainer(engine).train(spec.withSteps(12), dir, dir.resolve("resumed"), false);
        trainer(engine).train(spec, dir, dir.resolve("resumed"), true);

        List<JsonNode> a = metrics(dir.resolve("straight"));
        List<JsonNode> b = metrics(dir.resolve("resumed"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("step"), b.get(i).get("step"));
            assertEquals(a.get(i).get("loss"), b.get(i).get("loss"), "line " + (i + 1));
            assertEquals(a.get(i).get("eval"), b.get(i).get("eval"), "line " + (i + 1));
        }
        Checkpoint x = Checkpoint.load(dir.resolve("straight").resolve(Trainer.CHECKPOINT_FILE));
        Checkpoint y = Checkpoint.load(dir.resolve("resumed").resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(x.params(), y.params());
        assertEquals(x.optimizerState(), y.optimizerState());
        assertEquals(DType.FLOAT64, x.params().get("0.weight").dtype());
    }

    @Test
    void aModelWithTheWrongOutputWidthIsExplained() {
        TrainSpec spec = TrainSpec.of(new RegressionExperimentSpec(new MlpSpec(List.of(1, 4, 2), "relu", "identity", "torch"),
                new RegressionTask("sin", -1, 1, 8, 4)), new SgdSpec(0.1, 0, 0), 3);
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT32);
        // Refused by the pre-flight check (the first step on the shape-only backend), before the run directory exists.
        PreflightException e = assertThrows(PreflightException.class,
                () -> trainer(engine).train(spec, dir, dir.resolve("wide"), false));
        assertTrue(e.getMessage().contains("must give [N, 1]") && e.getMessage().contains("[8, 2]"), e.getMessage());
        assertEquals("$.experiment", e.jsonPath());
        assertTrue(!Files.exists(dir.resolve("wide")), "nothing was created");
        SpecException input = assertThrows(SpecException.class, () -> specs.read("{\"type\": \"regression\", \"model\": {\"type\": \"mlp\","
                + " \"sizes\": [1, 1]}, \"task\": {\"function\": \"sin\", \"batch\": 0}}", dev.metaforge.api.train.ExperimentSpec.class, "x"));
        assertTrue(input.getMessage().contains("field 'batch' must be > 0"), input.getMessage());
    }

    private static List<JsonNode> metrics(Path out) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve(Trainer.METRICS_FILE))) {
            lines.add(json.readTree(line));
        }
        return lines;
    }
}
