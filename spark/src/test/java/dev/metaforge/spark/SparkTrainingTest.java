package dev.metaforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.TrainingException;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Distributed training against the single-process run (the reference: the same spec trained by
 * the {@code Trainer} in this JVM on the same backend), on one shared {@code local[3]} Spark
 * context (three task slots: shard i of a step runs as task i) and the default backend, float32.
 *
 * <p>Tolerance: one shard is the single-process step bit for bit. With two or three shards only
 * the order of the float32 additions that sum the tasks' meta-gradients differs; after 40 Adam
 * steps of MAML the parameters differ by at most {@value #TOLERANCE} (absolute, parameters of
 * order 0.1-1; measured: 6e-8, one float32 ulp at 0.5-1).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkTrainingTest {
    /** Largest absolute parameter difference accepted between a sharded and the single-process run. */
    static final double TOLERANCE = 1e-5;
    private static final int STEPS = 40;
    private JavaSparkContext spark;
    private Engine engine;

    @BeforeAll
    void start() {
        spark = SparkTestRuns.localContext(3);
        engine = Engine.create();
    }

    @AfterAll
    void stop() {
        if (spark != null) {
            spark.stop();
        }
        if (engine != null) {
            engine.close();
        }
    }

    private Path mamlSpec(Path dir) {
        return SparkTestRuns.spec(dir, "maml-sinusoid.json", root -> {
            SparkTestRuns.experiment(root).put("evalTasks", 50).putArray("evalSteps").add(1);
            root.put("logEvery", 10).put("evalEvery", 0).put("checkpointEvery", 0);
        });
    }

    private Map<String, TensorData> run(Path spec, Path out, int shards, Map<String, String> properties, boolean resume, int steps) {
        try (SparkTrainingSession session = SparkTestRuns.session(spark, shards, properties)) {
            SparkTestRuns.train(engine, spec, out, session, resume, steps);
        }
        return SparkTestRuns.params(out);
    }

    @Test
    void mamlOnOneTwoAndThreeShardsMatchesTheSingleProcessRun(@TempDir Path dir) {
        Path spec = mamlSpec(dir);
        SparkTestRuns.train(engine, spec, dir.resolve("local"), null, false, STEPS);
        Map<String, TensorData> reference = SparkTestRuns.params(dir.resolve("local"));
        for (int shards = 1; shards <= 3; shards++) {
            Map<String, TensorData> distributed = run(spec, dir.resolve("spark" + shards), shards, Map.of(), false, STEPS);
            double[] diff = SparkTestRuns.difference(distributed, reference);
            System.err.printf("MAML sinusoid, %d steps, %d shard(s) vs single process: max abs %.3g, max rel %.3g%n",
                    STEPS, shards, diff[0], diff[1]);
            if (shards == 1) {
                assertEquals(0.0, diff[0], "one shard is the single-process step, bit for bit");
            } else {
                assertTrue(diff[0] <= TOLERANCE, shards + " shards: max abs difference " + diff[0]);
            }
        }
    }

    @Test
    void aFailedTaskIsRetriedAndTheRunIsIdentical(@TempDir Path dir) {
        Path spec = mamlSpec(dir);
        int steps = 12;
        Map<String, TensorData> clean = run(spec, dir.resolve("clean"), 2, Map.of(), false, steps);
        Map<String, TensorData> retried = run(spec, dir.resolve("retried"), 2, Map.of(SparkSettings.INJECT_FAILURE, "5:1"), false, steps);
        assertEquals(0.0, SparkTestRuns.difference(retried, clean)[0], "the retried shard recomputes the same numbers");
        assertEquals(SparkTestRuns.losses(dir.resolve("clean")), SparkTestRuns.losses(dir.resolve("retried")), "logged losses");
    }

    @Test
    void aResumedDistributedRunEqualsAnUninterruptedOne(@TempDir Path dir) {
        Path spec = mamlSpec(dir);
        int steps = 12;
        Map<String, TensorData> whole = run(spec, dir.resolve("whole"), 3, Map.of(), false, steps);
        run(spec, dir.resolve("resumed"), 3, Map.of(), false, steps / 2);
        Map<String, TensorData> resumed = run(spec, dir.resolve("resumed"), 3, Map.of(), true, steps);
        assertEquals(0.0, SparkTestRuns.difference(resumed, whole)[0], "resumed = uninterrupted, bit for bit");
    }

    @Test
    void regressionSplitsItsBatchOverExecutors(@TempDir Path dir) {
        Path spec = SparkTestRuns.spec(dir, "regression-sin.json", root -> root.put("logEvery", 10));
        int steps = 30;
        SparkTestRuns.train(engine, spec, dir.resolve("local"), null, false, steps);
        Map<String, TensorData> distributed = run(spec, dir.resolve("spark"), 3, Map.of(), false, steps);
        double[] diff = SparkTestRuns.difference(distributed, SparkTestRuns.params(dir.resolve("local")));
        System.err.printf("regression, %d steps, 3 shards vs single process: max abs %.3g%n", steps, diff[0]);
        assertTrue(diff[0] <= TOLERANCE, "max abs difference " + diff[0]);
    }

    @Test
    void executorsWithoutTheBackendFailBeforeTheFirstStep(@TempDir Path dir) {
        Path spec = mamlSpec(dir);
        TrainingException e = assertThrows(TrainingException.class,
                () -> run(spec, dir.resolve("x"), 2, Map.of(SparkSettings.EXECUTOR_BACKEND, "nosuch"), false, 5));
        assertTrue(e.getMessage().contains("could not set up shard") && e.getMessage().contains("metaforge-backend-djl")
                && e.getMessage().contains("nosuch"), e.getMessage());
    }

    @Test
    void aMipHypernetworkSplitsItsConditionsOverExecutors(@TempDir Path dir) {
        Path spec = SparkTestRuns.spec(dir, "mip-loss-weighting.json", root -> {
            ((com.fasterxml.jackson.databind.node.ObjectNode) SparkTestRuns.experiment(root).get("task")).put("evaluationConditions", 3);
            root.put("logEvery", 10).put("evalEvery", 0).put("checkpointEvery", 0);
        });
        int steps = 30;
        SparkTestRuns.train(engine, spec, dir.resolve("local"), null, false, steps);
        Map<String, TensorData> distributed = run(spec, dir.resolve("spark"), 3, Map.of(), false, steps);
        double[] diff = SparkTestRuns.difference(distributed, SparkTestRuns.params(dir.resolve("local")));
        System.err.printf("MIP hypernetwork, %d steps, 3 shards vs single process: max abs %.3g%n", steps, diff[0]);
        assertTrue(diff[0] <= TOLERANCE, "max abs difference " + diff[0]);
    }

    @Test
    void anExperimentThatCannotShardIsRefusedWithTheOnesThatCan(@TempDir Path dir) {
        // The continual experiment keeps task snapshots between steps (objective state): it stays in one process.
        Path spec = SparkTestRuns.spec(dir, "continual-split-blobs.json", root -> { });
        TrainingException e = assertThrows(TrainingException.class, () -> run(spec, dir.resolve("x"), 2, Map.of(), false, 5));
        assertTrue(e.getMessage().contains("cannot run on Spark") && e.getMessage().contains("maml"), e.getMessage());
    }
}
