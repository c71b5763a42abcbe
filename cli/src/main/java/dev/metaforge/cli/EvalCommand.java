package dev.metaforge.cli;

import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.EvalResult;
import dev.metaforge.api.train.Evaluator;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingException;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.BackendNotFoundException;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code metaforge eval SPEC.json [--checkpoint FILE] [--backend NAME]}: loads a checkpoint written
 * by {@code train}, evaluates the spec's objective on it and prints the metrics as JSON on standard
 * output. Errors print one line and exit with 2.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a checkpoint of a spec and print its metrics as JSON.",
                "Example: metaforge eval examples/regression-sin.json --checkpoint runs/regression-sin/checkpoint.safetensors"})
public final class EvalCommand implements Callable<Integer> {
    @ParentCommand
    MetaforgeCommand root;

    @Spec
    CommandSpec command;

    @Parameters(index = "0", paramLabel = "SPEC.json", description = "The spec the checkpoint was trained from.")
    Path specFile;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "The checkpoint (default: runs/<spec file name>/checkpoint.safetensors, where train writes it).")
    Path checkpoint;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend to evaluate on (djl, dl4j, or reference). Default: the selection rule, as for train.")
    String backend;

    @Option(names = "--device", paramLabel = "DEVICE", converter = DeviceConverter.class,
            description = "Device to compute on: cpu (default), gpu or gpu:N. A backend without that device says so and exits 2.")
    Device device;

    @Override
    public Integer call() {
        PrintWriter err = command.commandLine().getErr();
        try {
            SpecRegistry specs = SpecRegistry.load(root.context().classLoader());
            TrainSpec spec = TrainCommand.readSpec(specs, specFile);
            Path file = checkpoint != null ? checkpoint
                    : Path.of("runs", TrainCommand.specName(specFile), dev.metaforge.api.train.Trainer.CHECKPOINT_FILE);
            if (!Files.isRegularFile(file)) {
                return fail(err, "checkpoint " + file + " does not exist; train first (metaforge train " + specFile
                        + ") or pass --checkpoint FILE");
            }
            EvalResult result;
            try (Backend chosen = TrainCommand.openBackend(root.context(), backend, device)) {
                result = new Evaluator(Engine.of(chosen, spec.engineDType()), specs).evaluate(spec, TrainCommand.baseDir(specFile), file);
            }
            PrintWriter out = command.commandLine().getOut();
            out.println(result.toJson());
            out.flush();
            return 0;
        } catch (SpecException | TrainingException | BackendNotFoundException | UnsupportedCapabilityException e) {
            return fail(err, e.getMessage());
        } catch (IOException e) {
            return fail(err, TrainCommand.describe(e));
        } catch (UncheckedIOException e) {
            // A reader's error inside a spec's build (e.g. an IdxFormatException): the message names the file.
            return fail(err, e.getMessage());
        }
    }

    private int fail(PrintWriter err, String message) {
        err.println("metaforge " + command.name() + ": " + message);
        err.flush();
        return TrainCommand.EXIT_USAGE;
    }
}
