package dev.metaforge.cli;

import dev.metaforge.api.checkpoint.SafetensorsFormatException;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.data.ArrayFiles;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.ModelExperiment;
import dev.metaforge.api.train.TrainingException;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendNotFoundException;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code metaforge predict SPEC-or-RUNDIR [--checkpoint FILE] --input x.npy|x.csv --output y.npy|y.csv}:
 * runs the trained module on the input's examples (axis 0) and writes its outputs.
 *
 * <p>The input is what the experiment's data looks like before it reaches the model: each example
 * is laid out as the experiment lays it out ({@code inputShape}) and normalised as it normalises it
 * ({@code (x - mean) / std}); the model then runs as the experiment evaluates it (a classifier in
 * eval mode with its checkpointed state, e.g. BatchNorm running statistics; a regression's plain
 * call). Outputs are written in the spec's dtype. Errors exit with 2 before the output is written.
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Run a trained model on the examples of a .npy or .csv file and write its outputs.",
                "Inputs are laid out and normalised as the experiment does (inputShape, mean, std).",
                "Example: metaforge predict runs/regression-sin --input x.csv --output y.csv"})
public final class PredictCommand implements Callable<Integer> {
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

    @Option(names = "--input", paramLabel = "FILE", required = true,
            description = "Examples along axis 0: .npy (float32 or float64, little-endian, C order) or .csv (one example per line).")
    Path input;

    @Option(names = "--output", paramLabel = "FILE", required = true, description = "Where to write the outputs: .npy or .csv.")
    Path output;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend to run on (djl, dl4j, or reference). Default: the selection rule, as for train.")
    String backend;

    @Option(names = "--device", paramLabel = "DEVICE", converter = DeviceConverter.class,
            description = "Device to compute on: cpu (default), gpu or gpu:N. A backend without that device says so and exits 2.")
    Device device;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1024",
            description = "Examples per forward call (bounds memory; results do not depend on it). Default: ${DEFAULT-VALUE}.")
    int batch;

    @Override
    public Integer call() {
        PrintWriter err = command.commandLine().getErr();
        try {
            if (batch <= 0) {
                return fail(err, "--batch must be positive, got " + batch);
            }
            for (Path p : List.of(input, output)) {
                if (!ArrayFiles.isSupported(p)) {
                    return fail(err, p + ": unknown file type; use .npy or .csv");
                }
            }
            if (!Files.isRegularFile(input)) {
                return fail(err, "input " + input + " does not exist (or is not a file)");
            }
            SpecRegistry specs = SpecRegistry.load(root.context().classLoader());
            TrainedModel model = TrainedModel.load(specs, source, checkpoint, err);
            TensorData x = ArrayFiles.read(input);
            Shape layout = layout(model.experiment(), x.shape());
            TensorData y;
            try (Backend chosen = TrainCommand.openBackend(root.context(), backend, device)) {
                Engine engine = Engine.of(chosen, model.spec().engineDType());
                y = predict(engine, model, x, layout);
            }
            ArrayFiles.write(output, y);
            err.println("metaforge predict: " + x.shape().dim(0) + " examples " + x.shape() + " -> " + y.shape() + " written to " + output);
            err.flush();
            return 0;
        } catch (SpecException | TrainingException | BackendNotFoundException | UnsupportedCapabilityException
                 | SafetensorsFormatException e) {
            return fail(err, e.getMessage());
        } catch (IOException e) {
            return fail(err, TrainCommand.describe(e));
        }
    }

    /**
     * The shape one example takes for the model: the experiment's layout when it declares one (the
     * input's examples must hold as many values), else the input's own.
     */
    private Shape layout(ModelExperiment experiment, Shape inputShape) {
        if (inputShape.dim(0) == 0) {
            throw new TrainingException(input + " holds no examples (shape " + inputShape + ")");
        }
        Shape example = inputShape.without(0);
        List<Integer> declared = experiment.exampleShape();
        if (declared.isEmpty()) {
            return example;
        }
        Shape wanted = Shape.of(declared.stream().mapToInt(Integer::intValue).toArray());
        if (example.size() != wanted.size()) {
            throw new TrainingException(input + " has shape " + inputShape + ": each example holds " + example.size()
                    + " values, but the model reads examples of shape " + wanted + " (" + wanted.size() + " values); give [N, "
                    + wanted.size() + "] or [N, " + String.join(", ", declared.stream().map(String::valueOf).toList()) + "]");
        }
        return wanted;
    }

    private TensorData predict(Engine engine, TrainedModel model, TensorData x, Shape layout) {
        Module module = model.module();
        ModelExperiment experiment = model.experiment();
        boolean withState = experiment.evaluatesWithState();
        checkFits(model, withState);
        double[] values = x.toDoubles();
        double mean = experiment.inputMean();
        double std = experiment.inputStd();
        int n = x.shape().dim(0);
        int perExample = layout.sizeAsInt();
        DType dtype = engine.defaultDType();
        double[] outDoubles = null;
        int[] outDims = null;
        int outPer = 0;
        try (Scope whole = Scope.open()) {
            Params params = tensors(engine, model.checkpoint().params(), dtype);
            Params state = withState ? tensors(engine, model.checkpoint().objectiveState(), dtype) : Params.empty();
            for (int from = 0; from < n; from += batch) {
                int count = Math.min(batch, n - from);
                try (Scope perBatch = Scope.open()) {
                    double[] rows = new double[count * perExample];
                    for (int i = 0; i < rows.length; i++) {
                        rows[i] = (values[from * perExample + i] - mean) / std;
                    }
                    Tensor in = engine.tensor(rows, prepend(count, layout), dtype);
                    Tensor out;
                    try {
                        out = withState ? module.forward(params, in, ModuleCall.eval(state)).output() : module.apply(params, in);
                    } catch (IllegalArgumentException e) {
                        throw new TrainingException("the model cannot take the examples of " + input + " (laid out as " + in.shape()
                                + "): " + e.getMessage(), e);
                    }
                    if (out.rank() == 0 || out.dim(0) != count) {
                        throw new TrainingException("the model maps " + in.shape() + " to " + out.shape()
                                + ", not one output per example; predict needs outputs [N, ...]");
                    }
                    if (outDoubles == null) {
                        outDims = out.shape().dims();
                        outPer = out.shape().without(0).sizeAsInt();
                        outDoubles = new double[n * outPer];
                    }
                    System.arraycopy(out.toDoubles(), 0, outDoubles, from * outPer, count * outPer);
                }
            }
        }
        outDims[0] = n;
        Shape shape = Shape.of(outDims);
        if (dtype == DType.FLOAT32) {
            float[] f = new float[outDoubles.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) outDoubles[i];   // exact: the values came from float32
            }
            return TensorData.ofFloats(f, shape);
        }
        return TensorData.ofDoubles(outDoubles, shape);
    }

    /** The checkpoint holds exactly the module's parameters (and, when used, its state), with the declared shapes. */
    private static void checkFits(TrainedModel model, boolean withState) {
        Map<String, Shape> declared = new LinkedHashMap<>();
        for (ParamSpec p : model.module().parameters()) {
            declared.put(p.name(), p.shape());
        }
        check(model, "parameter", declared, model.checkpoint().params());
        if (withState) {
            Map<String, Shape> state = new LinkedHashMap<>();
            for (StateSpec s : model.module().stateSpecs()) {
                state.put(s.name(), s.shape());
            }
            check(model, "state", state, model.checkpoint().objectiveState());
        }
    }

    private static void check(TrainedModel model, String what, Map<String, Shape> declared, Map<String, TensorData> stored) {
        if (!declared.keySet().equals(stored.keySet())) {
            TreeSet<String> missing = new TreeSet<>(declared.keySet());
            missing.removeAll(stored.keySet());
            TreeSet<String> extra = new TreeSet<>(stored.keySet());
            extra.removeAll(declared.keySet());
            throw new TrainingException("the checkpoint does not fit the model of " + model.specFile() + ": " + what + " entries "
                    + (missing.isEmpty() ? "" : "missing " + missing + " ") + (extra.isEmpty() ? "" : "not declared " + extra + " ")
                    + "(was it trained from another spec?)");
        }
        declared.forEach((name, shape) -> {
            if (!stored.get(name).shape().equals(shape)) {
                throw new TrainingException("the checkpoint does not fit the model of " + model.specFile() + ": " + what + " '" + name
                        + "' has shape " + stored.get(name).shape() + " but the model declares " + shape);
            }
        });
    }

    private static Params tensors(Engine engine, Map<String, TensorData> data, DType dtype) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        data.forEach((name, d) -> {
            Tensor t = d.toTensor(engine);
            out.put(name, t.dtype() == dtype ? t : t.cast(dtype));
        });
        return Params.of(out);
    }

    private static Shape prepend(int n, Shape shape) {
        int[] dims = new int[shape.rank() + 1];
        dims[0] = n;
        System.arraycopy(shape.dims(), 0, dims, 1, shape.rank());
        return Shape.of(dims);
    }

    private int fail(PrintWriter err, String message) {
        err.println("metaforge " + command.name() + ": " + message);
        err.flush();
        return TrainCommand.EXIT_USAGE;
    }
}
