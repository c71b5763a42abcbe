package dev.metaforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.cli.CliContext;
import dev.metaforge.cli.MetaforgeCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code metaforge train examples/maml-sinusoid.json --spark local[2] --steps 40} as a user runs
 * it: the CLI finds this module through {@code ServiceLoader}, and the run's parameters match the
 * in-process run's ({@code metaforge train ... --steps 40}, the reference) within
 * {@link SparkTrainingTest#TOLERANCE}; the run directory holds the same files.
 *
 * <p>40 steps, as in {@link SparkTrainingTest}, where that tolerance was measured: two shards sum
 * the tasks' float32 meta-gradients in another order, and Adam carries that rounding difference
 * forward. How fast it grows depends on the host's kernels: after 200 steps it was below 1e-5 on
 * one CI-class host and 4.3e-5 on another (AMD EPYC, where libtorch takes its AVX-512 kernels).
 */
class SparkCliTest {
    private static final String STEPS = "40";
    record Run(int exitCode, String out, String err) {
    }

    static Run metaforge(String... args) {
        CliContext context = new CliContext(SparkCliTest.class.getClassLoader(), false, Map.of(), new Properties());
        CommandLine cl = MetaforgeCommand.commandLine(context);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void theMamlExampleOnLocal2MatchesTheInProcessRun(@TempDir Path dir) throws IOException {
        String spec = SparkTestRuns.EXAMPLES.resolve("maml-sinusoid.json").toString();
        Run local = metaforge("train", spec, "--steps", STEPS, "--out", dir.resolve("local").toString());
        assertEquals(0, local.exitCode(), local.err());
        Run spark = metaforge("train", spec, "--steps", STEPS, "--out", dir.resolve("spark").toString(), "--spark", "local[2]");
        assertEquals(0, spark.exitCode(), spark.err());
        assertTrue(spark.err().contains("spark local[2,4]: 2 shards of 25 tasks per step"), spark.err());
        assertTrue(spark.err().contains("step " + STEPS + "/" + STEPS), spark.err());
        for (String file : List.of("metrics.jsonl", "loss.png", "checkpoint.safetensors", "spec.json")) {
            assertTrue(Files.isRegularFile(dir.resolve("spark").resolve(file)), file);
        }
        assertEquals(Files.readString(dir.resolve("local").resolve("spec.json")), Files.readString(dir.resolve("spark").resolve("spec.json")));
        double[] diff = SparkTestRuns.difference(SparkTestRuns.params(dir.resolve("spark")), SparkTestRuns.params(dir.resolve("local")));
        System.err.printf("metaforge train maml-sinusoid --steps " + STEPS + ", --spark local[2] vs in process: max abs %.3g, max rel %.3g%n",
                diff[0], diff[1]);
        assertTrue(diff[0] <= SparkTrainingTest.TOLERANCE, "max abs parameter difference " + diff[0]);
        JsonNode a = new ObjectMapper().readTree(local.out()).get("eval");
        JsonNode b = new ObjectMapper().readTree(spark.out()).get("eval");
        assertEquals(a.get("mse_after_10").asDouble(), b.get("mse_after_10").asDouble(), 1e-4 * a.get("mse_after_10").asDouble());
    }

    @Test
    void anUnreachableMasterFailsFastNamingIt(@TempDir Path dir) throws IOException {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();   // closed again: nothing listens there
        }
        long start = System.nanoTime();
        Run r = metaforge("train", SparkTestRuns.EXAMPLES.resolve("maml-sinusoid.json").toString(), "--steps", "5",
                "--out", dir.resolve("x").toString(), "--spark", "spark://127.0.0.1:" + port);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("cannot reach the Spark master spark://127.0.0.1:" + port) && r.err().contains("--spark"), r.err());
        assertTrue(seconds < 10, "took " + seconds + " s");
    }
}
