package dev.metaforge.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.checkpoint.AtomicFiles;
import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.SafetensorsFormatException;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.interop.TorchExport;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.ModelExperiment;
import dev.metaforge.api.train.TrainingException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code metaforge export SPEC-or-RUNDIR [--checkpoint FILE] --format torch --out FILE.safetensors}:
 * writes the trained module's parameters (and BatchNorm buffers) as a PyTorch state dict, names and
 * orientation ready for {@code load_state_dict(strict=True)}, and {@code model.py} beside it defining
 * the equivalent {@code torch.nn} module (see {@link TorchExport} for the types that export). No
 * backend runs: the checkpoint's values are rearranged in Java. Errors (a module type with no torch
 * equivalent, a checkpoint that does not fit the spec) exit with 2 before any file is written.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a trained model for PyTorch: a safetensors state dict and model.py.",
                "Exportable module types: linear, mlp, sequential, conv2d, batchnorm, layernorm, embedding, maxpool2d, avgpool2d,"
                        + " flatten, dropout, activation, attention, residual, transformer-block.",
                "Example: metaforge export runs/regression-sin --format torch --out sin.safetensors",
                "Then in Python: import model; net = model.load('sin.safetensors'); y = net(model.preprocess(x))"})
public final class ExportCommand implements Callable<Integer> {
    /** The file the generated module is written to, beside the state dict unless {@code --model-py} says otherwise. */
    static final String MODEL_PY = "model.py";

    @ParentCommand
    MetaforgeCommand root;

    @Spec
    CommandSpec command;

    @Parameters(index = "0", paramLabel = "SPEC-or-RUNDIR",
            description = "A spec file, or a run directory written by train (its spec.json and checkpoint.safetensors).")
    Path source;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "The checkpoint (default: the run directory's, or runs/<spec name>/checkpoint.safetensors).")
    Path checkpoint;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "torch",
            description = "Target format; only 'torch' (PyTorch state dict in safetensors + model.py). Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "The safetensors file to write.")
    Path out;

    @Option(names = "--model-py", paramLabel = "FILE",
            description = "Where to write the module's Python source (default: " + MODEL_PY + " beside --out).")
    Path modelPy;

    @Override
    public Integer call() {
        PrintWriter err = command.commandLine().getErr();
        try {
            if (!format.equals("torch")) {
                return fail(err, "unknown --format '" + format + "'; supported: torch");
            }
            Path pyFile = modelPy != null ? modelPy : siblingOf(out, MODEL_PY);
            if (pyFile.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                return fail(err, "--out and --model-py name the same file " + out);
            }
            SpecRegistry specs = SpecRegistry.load(root.context().classLoader());
            TrainedModel model = TrainedModel.load(specs, source, checkpoint, err);
            ModelExperiment experiment = model.experiment();
            TorchExport export = TorchExport.plan(model.module(), model.modelJson(), TrainedModel.MODEL_PATH, experiment.exampleShape());
            Map<String, TensorData> stateDict;
            try {
                stateDict = export.stateDict(model.checkpoint().params(), model.checkpoint().objectiveState(), model.checkpoint().step());
            } catch (IllegalArgumentException e) {
                return fail(err, "checkpoint does not fit " + model.specFile() + ": " + e.getMessage());
            }
            String python = export.modelPy(model.specFile().getFileName().toString(), experiment.exampleShape(), experiment.inputMean(),
                    experiment.inputStd(), model.spec().engineDType());
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "pt");   // what safetensors.torch writes: a PyTorch state dict
            metadata.put("metaforge_spec", model.specFile().getFileName().toString());
            metadata.put("metaforge_step", Long.toString(model.checkpoint().step()));
            metadata.put("metaforge_backend", model.checkpoint().backend());
            createParent(out);
            createParent(pyFile);
            Safetensors.write(out, stateDict, metadata);
            AtomicFiles.writeString(pyFile, python);
            PrintWriter stdout = command.commandLine().getOut();
            stdout.println(summary(out, pyFile, stateDict));
            stdout.flush();
            return 0;
        } catch (SpecException | TrainingException | IllegalArgumentException | SafetensorsFormatException e) {
            // IllegalArgumentException here is TorchExportException (a type with no torch equivalent) or a bad model spec.
            return fail(err, e.getMessage());
        } catch (IOException e) {
            return fail(err, TrainCommand.describe(e));
        }
    }

    private static Path siblingOf(Path file, String name) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? Path.of(name) : parent.resolve(name);
    }

    private static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }

    private static String summary(Path out, Path pyFile, Map<String, TensorData> stateDict) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode node = json.createObjectNode();
        node.put("safetensors", out.toString());
        node.put("modelPy", pyFile.toString());
        ObjectNode tensors = node.putObject("tensors");
        stateDict.forEach((name, t) -> tensors.put(name, t.shape().toString()));
        try {
            return json.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the export summary as JSON", e);
        }
    }

    private int fail(PrintWriter err, String message) {
        err.println("metaforge " + command.name() + ": " + message);
        err.flush();
        return TrainCommand.EXIT_USAGE;
    }
}
