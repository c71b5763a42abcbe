package dev.metaforge.cli;

import static dev.metaforge.cli.TrainCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.cli.TrainCommandTest.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 13, pre-flight: sizes of 2^31-1 ran out of heap, a [1, 65536, 65536, 1] model asked the
 * backend for 17 GB, and a model/task mismatch surfaced in the first step as a bare exception (exit
 * 1) after the run directory was created. Each is now refused with exit 2 before anything is
 * created or allocated (the surefire heap is 3 GB: an attempted allocation would fail the test).
 */
class PreflightCommandTest {
    private static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private Path example(String name, String from, String to) throws IOException {
        String text = Files.readString(EXAMPLES.resolve(name));
        assertTrue(text.contains(from), "the example " + name + " holds " + from);
        Path file = dir.resolve(name);
        Files.writeString(file, text.replace(from, to));
        return file;
    }

    private static void assertRefused(Run r, String... expected) {
        assertEquals(2, r.exitCode(), r.err());
        for (String e : expected) {
            assertTrue(r.err().contains(e), "expected '" + e + "' in: " + r.err());
        }
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.err().contains("OutOfMemoryError"), r.err());
    }

    @Test
    void aModelThatDoesNotFitTheTaskIsExitTwoWithNothingInTheRunDirectory() throws IOException {
        Path spec = example("regression-sin.json", "[1, 32, 32, 1]", "[3, 32, 32, 1]");
        Path out = dir.resolve("runs").resolve("mismatch");
        Run r = run("train", spec.toString(), "--backend", "reference", "--out", out.toString());
        assertRefused(r, spec + " at $.experiment", "the first training step", "[64, 1]", "3", "first and last mlp \"sizes\"");
        assertFalse(Files.exists(dir.resolve("runs")), "nothing was created");

        // A directory the user made beforehand is left as it was.
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "mine");
        assertRefused(run("train", spec.toString(), "--backend", "reference", "--out", out.toString()), "$.experiment");
        try (var files = Files.list(out)) {
            assertEquals(List.of("notes.txt"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void aModelOfSeventeenGigabytesIsRefusedBeforeAllocating() throws IOException {
        Path spec = example("regression-sin.json", "[1, 32, 32, 1]", "[1, 65536, 65536, 1]");
        Path out = dir.resolve("big");
        Run r = run("train", spec.toString(), "--backend", "reference", "--out", out.toString(), "--memory-budget", "8g");
        assertRefused(r, "$.experiment", "initialising the parameters", "[65536, 65536]", "16.0 GiB", "memory budget of 8.0 GiB",
                "--memory-budget");
        assertFalse(Files.exists(out));
        // a dry run says the same and also exits with 2
        assertRefused(run("train", spec.toString(), "--backend", "reference", "--dry-run", "--memory-budget", "8g"), "[65536, 65536]");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "width       | regression-sin.json     | [1, 32, 32, 1]          | [1, 2147483647, 1]       | $.experiment.model.sizes[1]",
        "innerSteps  | maml-sinusoid.json      | \"innerSteps\": 1,      | \"innerSteps\": 2147483647, | $.experiment.innerSteps",
        "contexts    | mip-loss-weighting.json | \"contextsPerStep\": 16 | \"contextsPerStep\": 2147483647 | $.experiment.contextsPerStep"})
    void sizesOfTwoToTheThirtyOneAreRefusedWithTheirPath(String name, String example, String from, String to, String path)
            throws IOException {
        Path spec = example(example, from, to);
        Path out = dir.resolve(name);
        Run r = run("train", spec.toString(), "--backend", "reference", "--out", out.toString());
        assertRefused(r, spec + " at " + path, "2147483647");
        assertFalse(Files.exists(out));
    }

    @Test
    void aHugeInnerLoopWithinItsRangeStopsAtTheBudgetNotTheHeap() throws IOException {
        Path spec = example("maml-sinusoid.json", "\"innerSteps\": 1,", "\"innerSteps\": 10000,");
        long start = System.nanoTime();
        Run r = run("train", spec.toString(), "--backend", "reference", "--out", dir.resolve("inner").toString(),
                "--memory-budget", "64m");
        assertRefused(r, "$.experiment", "the first training step needs more than the memory budget of 64.0 MiB");
        assertTrue(System.nanoTime() - start < 20e9, "stopped early");
    }

    @Test
    void dryRunPrintsParametersPerModuleAndTheEstimateAndWritesNothing() throws IOException {
        Path spec = example("regression-sin.json", "\"steps\": 600", "\"steps\": 600");
        Path out = dir.resolve("dry");
        Run r = run("train", spec.toString(), "--backend", "reference", "--out", out.toString(), "--dry-run");
        assertEquals(0, r.exitCode(), r.err());
        for (String line : List.of("pre-flight (shape-only pass, reference, float32): OK", "parameters: 1,153", "  1 ", "1,056",
                "memory of one training step: ", "largest array: [256, 32] float32", "memory budget: ")) {
            assertTrue(r.out().contains(line), "expected '" + line + "' in: " + r.out());
        }
        assertFalse(Files.exists(out), "a dry run creates nothing");
    }

    @Test
    void everyShippedExamplePassesThePreflight() throws IOException {
        try (var files = Files.list(EXAMPLES)) {
            for (Path example : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                Run r = run("train", example.toString(), "--backend", "reference", "--dry-run");
                if (r.exitCode() != 0 && r.err().contains("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
                        && !Files.exists(Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))) {
                    // An example on the real data, on a machine without Debian's dataset-fashion-mnist: the pre-flight
                    // must refuse it saying where it looked and how to install the files, not pass or fail otherwise.
                    assertTrue(r.err().contains("apt-get install dataset-fashion-mnist"), example + ": " + r.err());
                    continue;
                }
                assertEquals(0, r.exitCode(), example + ": " + r.err());
                assertTrue(r.out().contains("): OK"), r.out());
            }
        }
    }

    @Test
    void aMalformedBudgetIsAUsageError() throws IOException {
        Path spec = example("regression-sin.json", "\"steps\": 600", "\"steps\": 600");
        assertRefused(run("train", spec.toString(), "--backend", "reference", "--memory-budget", "lots"),
                "--memory-budget: memory budget 'lots' is not a size");
    }
}
