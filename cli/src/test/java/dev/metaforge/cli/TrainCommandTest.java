package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.ExperimentSpec;
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

/** {@code metaforge train} and {@code metaforge eval} on the reference backend with a test plugin. */
class TrainCommandTest {
    static final String SPEC = "{\"experiment\": {\"type\": \"cli-test-quadratic\", \"dims\": 3},"
            + " \"optimizer\": {\"type\": \"cli-test-sgd\", \"learningRate\": 0.1}, \"steps\": 40, \"seed\": 3,"
            + " \"dtype\": \"float64\", \"logEvery\": 10, \"evalEvery\": 20}";

    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    /** Runs the root command with train and eval attached (once the root lists them, as it is). */
    static Run run(String... args) {
        CliContext context = new CliContext(TrainTestPlugin.loader(), false, Map.of(), new Properties());
        CommandLine cl = MetaforgeCommand.commandLine(context);
        if (!cl.getSubcommands().containsKey("train")) {
            cl.addSubcommand(new TrainCommand());
        }
        if (!cl.getSubcommands().containsKey("eval")) {
            cl.addSubcommand(new EvalCommand());
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path spec(String json) throws IOException {
        Path file = dir.resolve("quadratic.json");
        Files.writeString(file, json);
        return file;
    }

    @Test
    void deviceChoiceIsCheckedBeforeAnythingIsCreated() throws IOException {
        Path out = dir.resolve("on-device");
        Run bad = run("train", spec(SPEC).toString(), "--backend", "reference", "--out", out.toString(), "--device", "tpu");
        assertEquals(2, bad.exitCode(), bad.err());
        assertTrue(bad.err().contains("unknown device 'tpu': use cpu, gpu or gpu:N"), bad.err());
        // The reference backend has one CPU: asking it for a GPU is refused with the capability, nothing written.
        Run gpu = run("train", spec(SPEC).toString(), "--backend", "reference", "--out", out.toString(), "--device", "gpu:1");
        assertEquals(2, gpu.exitCode(), gpu.err());
        assertTrue(gpu.err().contains("gpu:1"), gpu.err());
        assertFalse(Files.exists(out), "no run directory for a device that does not exist");
        Run cpu = run("train", spec(SPEC).toString(), "--backend", "reference", "--out", out.toString(), "--device", "cpu");
        assertEquals(0, cpu.exitCode(), cpu.err());
    }

    @Test
    void trainsWritesTheRunAndPrintsASummary() throws IOException {
        Path out = dir.resolve("out");
        Run r = run("train", spec(SPEC).toString(), "--backend", "reference", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        JsonNode summary = new ObjectMapper().readTree(r.out());
        assertEquals(40, summary.get("steps").asInt());
        assertTrue(summary.get("eval").get("distance").asDouble() < 0.1, r.out());
        for (String file : List.of("metrics.jsonl", "loss.png", "checkpoint.safetensors", "spec.json")) {
            assertTrue(Files.isRegularFile(out.resolve(file)), file);
        }
        assertTrue(r.err().contains("step 20/40  loss "), r.err());
        assertTrue(r.err().contains("eval step 20:  distance "), r.err());
        assertTrue(r.err().contains("on reference (float64)"), r.err());

        // eval of that checkpoint prints the same metrics
        Run e = run("eval", dir.resolve("quadratic.json").toString(), "--checkpoint", out.resolve("checkpoint.safetensors").toString(),
                "--backend", "reference");
        assertEquals(0, e.exitCode(), e.err());
        JsonNode eval = new ObjectMapper().readTree(e.out());
        assertEquals(40, eval.get("step").asInt());
        assertEquals(summary.get("eval").get("distance").asDouble(), eval.get("eval").get("distance").asDouble());
    }

    @Test
    void stepsOverrideAndResume() throws IOException {
        Path out = dir.resolve("out");
        Path specFile = spec(SPEC);
        Run first = run("train", specFile.toString(), "--backend", "reference", "--out", out.toString(), "--steps", "15");
        assertEquals(0, first.exitCode(), first.err());
        assertEquals(15, Checkpoint.load(out.resolve("checkpoint.safetensors")).step());
        assertTrue(Files.readString(out.resolve("spec.json")).contains("\"steps\" : 15"), "the resolved spec records the override");

        Run again = run("train", specFile.toString(), "--backend", "reference", "--out", out.toString());
        assertEquals(2, again.exitCode());
        assertTrue(again.err().contains("already holds a run") && again.err().contains("--resume"), again.err());

        Run resumed = run("train", specFile.toString(), "--backend", "reference", "--out", out.toString(), "--resume");
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertTrue(resumed.err().contains("resuming at step 15"), resumed.err());
        assertEquals(40, Checkpoint.load(out.resolve("checkpoint.safetensors")).step());
        assertEquals(40, new ObjectMapper().readTree(resumed.out()).get("steps").asInt());
    }

    /** Every user error is one line on stderr and exit code 2, never a stack trace. */
    @Test
    void errorsAreOneLineAndExitTwo() throws IOException {
        Path good = spec(SPEC);
        Path missing = dir.resolve("nope.json");
        assertOneLineError(run("train", missing.toString(), "--backend", "reference"), "metaforge train: spec file " + missing + " does not exist");

        Path typo = dir.resolve("typo.json");
        Files.writeString(typo, SPEC.replace("\"seed\"", "\"sead\""));
        assertOneLineError(run("train", typo.toString(), "--backend", "reference", "--out", dir.resolve("t").toString()),
                "at $.sead: unknown field 'sead' in the training spec; did you mean 'seed'?; known fields: [");

        Path unknownType = dir.resolve("type.json");
        Files.writeString(unknownType, SPEC.replace("cli-test-sgd", "sgdd"));
        assertOneLineError(run("train", unknownType.toString(), "--backend", "reference"), "unknown type 'sgdd' for optimizer; known types: [");

        Path notJson = dir.resolve("broken.json");
        Files.writeString(notJson, "{\"steps\": ");
        assertOneLineError(run("train", notJson.toString(), "--backend", "reference"), "metaforge train: " + notJson + " at $");

        assertOneLineError(run("train", good.toString(), "--backend", "nosuch", "--out", dir.resolve("x").toString()),
                "unknown backend 'nosuch'");
        assertOneLineError(run("train", good.toString(), "--backend", "reference", "--steps", "0"), "--steps must be a positive number");
        assertOneLineError(run("train", good.toString(), "--backend", "reference", "--out", dir.resolve("fresh").toString(), "--resume"),
                "cannot resume: ");

        Path noCheckpoint = dir.resolve("none.safetensors");
        assertOneLineError(run("eval", good.toString(), "--checkpoint", noCheckpoint.toString(), "--backend", "reference"),
                "metaforge eval: checkpoint " + noCheckpoint + " does not exist");
        Path corrupt = dir.resolve("corrupt.safetensors");
        Files.write(corrupt, new byte[] {5, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertOneLineError(run("eval", good.toString(), "--checkpoint", corrupt.toString(), "--backend", "reference"),
                "invalid safetensors file " + corrupt + ": header length 5 goes beyond the end of the file");
    }

    private static void assertOneLineError(Run r, String expected) {
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.out().isEmpty(), r.out());
    }

    @Test
    void specNamesAndDirectories() {
        assertEquals("regression-sin", TrainCommand.specName(Path.of("examples/regression-sin.json")));
        assertEquals("spec", TrainCommand.specName(Path.of("spec")));
        assertEquals(Path.of("examples").toAbsolutePath(), TrainCommand.baseDir(Path.of("examples/regression-sin.json")));
    }

    /** The shipped example, when the core plugin is on the CLI's classpath (metaforge-plugins-core). */
    @Test
    void trainsTheShippedExampleWhenTheCorePluginIsPresent() throws IOException {
        SpecRegistry specs = SpecRegistry.load(TrainTestPlugin.loader());
        assumeTrue(specs.names(ExperimentSpec.class).contains("regression"), "metaforge-plugins-core is not on the cli classpath");
        Path example = Path.of("..", "examples", "regression-sin.json");
        Run r = run("train", example.toString(), "--backend", "reference", "--out", dir.resolve("sin").toString(), "--steps", "200");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(new ObjectMapper().readTree(r.out()).get("eval").get("mse").asDouble() < 0.05, r.out());
    }

    /**
     * A corrupt or missing data file behind a spec (an IDX reader error inside the experiment's
     * build) is one line naming the file and exit code 2, and no run directory is created.
     */
    @Test
    void dataErrorsAreOneLineExitTwoAndLeaveNoRunDirectory() throws IOException {
        SpecRegistry specs = SpecRegistry.load(TrainTestPlugin.loader());
        assumeTrue(specs.names(ExperimentSpec.class).contains("protonet"), "the core and meta plugins are not on the cli classpath");
        // 3 examples of 2x2 pixels and a label file that declares 3 labels but holds 2
        Files.write(dir.resolve("images.idx"), new byte[] {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        Files.write(dir.resolve("labels.idx"), new byte[] {0, 0, 8, 1, 0, 0, 0, 3, 0, 1});
        String json = "{\"experiment\": {\"type\": \"protonet\", \"model\": {\"type\": \"mlp\", \"sizes\": [4, 2]},"
                + " \"tasks\": {\"type\": \"few-shot\", \"ways\": 2, \"shots\": 1, \"queries\": 1,"
                + " \"dataset\": {\"type\": \"idx\", \"images\": \"images.idx\", \"labels\": \"%s\"}}},"
                + " \"optimizer\": {\"type\": \"sgd\", \"learningRate\": 0.1}, \"steps\": 2}";
        Path spec = dir.resolve("idx.json");
        Files.writeString(spec, String.format(json, "labels.idx"));
        Path out = dir.resolve("idx-run");
        assertOneLineError(run("train", spec.toString(), "--backend", "reference", "--out", out.toString()),
                "invalid IDX file " + dir.resolve("labels.idx") + " at byte 10: expected 3 data bytes for dims [3] of ubyte, found 2"
                        + " (the file is truncated)");
        assertTrue(!Files.exists(out), "no run directory for a run that cannot start");

        Files.writeString(spec, String.format(json, "absent.idx"));
        assertOneLineError(run("train", spec.toString(), "--backend", "reference", "--out", out.toString()),
                dir.resolve("absent.idx") + " does not exist");
        assertTrue(!Files.exists(out), "no run directory for a run that cannot start");
    }
}
