package dev.metaforge.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingCluster;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaSparkContext;

/** Helpers shared by the Spark tests: example specs with test-sized fields, runs, parameter comparisons. */
final class SparkTestRuns {
    /** The repository's examples directory (tests run in spark/). */
    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    private SparkTestRuns() {
    }

    /** {@code examples/<name>} with {@code edit} applied to its JSON, written into {@code dir}. */
    static Path spec(Path dir, String name, Consumer<ObjectNode> edit) {
        try {
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = (ObjectNode) json.readTree(EXAMPLES.resolve(name).toFile());
            edit.accept(root);
            Path out = dir.resolve(name);
            Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectNode experiment(ObjectNode root) {
        return (ObjectNode) root.get("experiment");
    }

    /** Trains {@code specFile} into {@code out}, in process or through {@code session}. */
    static TrainResult train(Engine engine, Path specFile, Path out, TrainingCluster.Session session, boolean resume, Integer steps) {
        try {
            SpecRegistry specs = SpecRegistry.load(SparkTestRuns.class.getClassLoader());
            TrainSpec spec = specs.read(specFile, TrainSpec.class);
            if (steps != null) {
                spec = spec.withSteps(steps);
            }
            StringWriter progress = new StringWriter();
            Trainer trainer = new Trainer(engine, specs, new PrintWriter(progress, true), false);
            if (session != null) {
                trainer = trainer.withObjectiveDecorator(session);
            }
            return trainer.train(spec, specFile.getParent(), out, resume);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, TensorData> params(Path runDir) {
        try {
            return Checkpoint.load(runDir.resolve(Trainer.CHECKPOINT_FILE)).params();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** max |a - b| over every entry, and max |a - b| / max(|b|, floor): [abs, rel]. */
    static double[] difference(Map<String, TensorData> a, Map<String, TensorData> b) {
        if (!a.keySet().equals(b.keySet())) {
            throw new AssertionError("different parameter names: " + a.keySet() + " vs " + b.keySet());
        }
        double abs = 0;
        double rel = 0;
        for (String name : a.keySet()) {
            double[] x = a.get(name).toDoubles();
            double[] y = b.get(name).toDoubles();
            for (int i = 0; i < x.length; i++) {
                double d = Math.abs(x[i] - y[i]);
                abs = Math.max(abs, d);
                rel = Math.max(rel, d / Math.max(Math.abs(y[i]), 1e-3));
            }
        }
        return new double[] {abs, rel};
    }

    /** A session over an existing context (not stopped at close). */
    static SparkTrainingSession session(JavaSparkContext spark, int shards, Map<String, String> properties) {
        TrainingCluster.Config config = new TrainingCluster.Config(spark.master(), properties, shards, null,
                new PrintWriter(new StringWriter(), true));
        return new SparkTrainingSession(spark, false, SparkSettings.parse(config), config.log());
    }

    /** A shared local context: local[threads, 4 attempts], no UI, bound to 127.0.0.1. */
    static JavaSparkContext localContext(int threads) {
        TrainingCluster.Config config = new TrainingCluster.Config("local[" + threads + "]", Map.of(), 0, null,
                new PrintWriter(new StringWriter(), true));
        return new JavaSparkContext(SparkSettings.parse(config).toSparkConf());
    }

    /** The training losses of a run's metrics.jsonl, in order. */
    static java.util.List<Double> losses(Path runDir) {
        try {
            ObjectMapper json = new ObjectMapper();
            java.util.List<Double> out = new java.util.ArrayList<>();
            for (String line : Files.readAllLines(runDir.resolve(Trainer.METRICS_FILE))) {
                JsonNode node = json.readTree(line);
                if (node.has("loss")) {
                    out.add(node.get("loss").asDouble());
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
