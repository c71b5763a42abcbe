package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.SafetensorsFile;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.data.ArrayFiles;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.ModelExperiment;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.cli.TorchReference.Arr;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code metaforge export --format torch} and {@code metaforge predict} without Python: the
 * exported file is read back and checked name by name against the checkpoint (transposed where
 * torch's layout differs), and a float64 forward pass written from PyTorch's semantics
 * ({@link TorchReference}) over the exported tensors alone must equal what {@code predict}
 * computes with Metaforge's modules on the reference backend.
 */
class ExportCommandTest {
    /** Conv, BatchNorm (running statistics as buffers), ReLU, max pooling, flatten, Linear; inputs normalised. */
    static final String CNN = """
            {"experiment": {"type": "classification",
              "model": {"type": "sequential", "layers": [
                {"type": "conv2d", "inChannels": 1, "outChannels": 2, "kernel": 3, "padding": 1},
                {"type": "batchnorm", "features": 2},
                {"type": "activation", "function": "relu"},
                {"type": "maxpool2d", "kernel": 2},
                {"type": "flatten", "startAxis": -3, "endAxis": -1},
                {"type": "linear", "in": 8, "out": 3}]},
              "inputShape": [1, 4, 4], "mean": 0.5, "std": 2.0},
             "optimizer": {"type": "adam", "learningRate": 0.001}, "steps": 10, "seed": 0, "dtype": "%s"}
            """;

    /** A transformer block, a residual MLP with sin, attention, layer norm and a Linear head on [N, 3, 4]. */
    static final String ATTENTION = """
            {"experiment": {"type": "classification",
              "model": {"type": "sequential", "layers": [
                {"type": "transformer-block", "d": 4, "heads": 2, "hidden": 8, "dropout": 0.1, "causal": true},
                {"type": "residual", "inner": {"type": "mlp", "sizes": [4, 5, 4], "activation": "sin"}},
                {"type": "attention", "d": 4, "heads": 2, "causal": false},
                {"type": "layernorm", "features": 4},
                {"type": "flatten", "startAxis": -2, "endAxis": -1},
                {"type": "linear", "in": 12, "out": 2}]},
              "inputShape": [3, 4]},
             "optimizer": {"type": "adam", "learningRate": 0.001}, "steps": 10, "seed": 0, "dtype": "%s"}
            """;

    static final String SIN = """
            {"experiment": {"type": "regression", "model": {"type": "mlp", "sizes": [1, 6, 6, 1], "activation": "tanh"},
              "task": {"function": "sin", "batch": 16, "evalPoints": 16}},
             "optimizer": {"type": "adam", "learningRate": 0.01}, "steps": 5, "seed": 1, "dtype": "float64",
             "logEvery": 5, "evalEvery": 5, "checkpointEvery": 5}
            """;

    @TempDir
    Path dir;

    static TrainCommandTest.Run run(String... args) {
        return TrainCommandTest.run(args);
    }

    /** A spec file and a checkpoint of its model with seeded random parameters and state (no training data needed). */
    static Path checkpointFor(Path dir, String name, String json, long seed) throws IOException {
        Path spec = dir.resolve(name + ".json");
        Files.writeString(spec, json);
        SpecRegistry specs = SpecRegistry.load(TrainTestPlugin.loader());
        TrainSpec train = specs.read(spec, TrainSpec.class);
        Module module = ((ModelExperiment) train.experiment()).model().build();
        Random random = new Random(seed);
        boolean f32 = train.engineDType() == DType.FLOAT32;
        Map<String, TensorData> params = new LinkedHashMap<>();
        for (ParamSpec p : module.parameters()) {
            params.put(p.name(), random(p.shape(), random, -0.8, 0.8, f32));
        }
        Map<String, TensorData> state = new LinkedHashMap<>();
        for (StateSpec s : module.stateSpecs()) {
            boolean variance = s.name().endsWith("running_var");
            state.put(s.name(), random(s.shape(), random, variance ? 0.3 : -0.5, variance ? 2.0 : 0.5, f32));
        }
        new Checkpoint(7, 0, "test", "reference", params, Map.of(), state, Map.of()).save(dir.resolve(name + ".safetensors"));
        return spec;
    }

    static TensorData random(Shape shape, Random random, double low, double high, boolean f32) {
        int n = shape.sizeAsInt();
        if (f32) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (low + (high - low) * random.nextDouble());
            }
            return TensorData.ofFloats(v, shape);
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = low + (high - low) * random.nextDouble();
        }
        return TensorData.ofDoubles(v, shape);
    }

    static Path inputs(Path file, Random random, int n, int perExample, boolean f32) throws IOException {
        ArrayFiles.write(file, random(Shape.of(n, perExample), random, -2, 2, f32));
        return file;
    }

    @Test
    void trainedMlpExportsTorchNamesWithTransposedWeightsAndItsForwardEqualsPredict() throws IOException {
        Path spec = dir.resolve("sin.json");
        Files.writeString(spec, SIN);
        Path runDir = dir.resolve("run");
        TrainCommandTest.Run train = run("train", spec.toString(), "--backend", "reference", "--out", runDir.toString());
        assertEquals(0, train.exitCode(), train.err());

        Path out = dir.resolve("torch").resolve("sin.safetensors");
        TrainCommandTest.Run export = run("export", runDir.toString(), "--format", "torch", "--out", out.toString());
        assertEquals(0, export.exitCode(), export.err());
        assertFalse(export.err().contains("warning"), export.err());
        Checkpoint checkpoint = Checkpoint.load(runDir.resolve("checkpoint.safetensors"));
        SafetensorsFile exported = Safetensors.read(out);

        // nn.Sequential(Linear, Tanh, Linear, Tanh, Linear): MLP layer i is torch module 2i, weight [out, in].
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"), List.copyOf(exported.tensors().keySet()));
        assertEquals("pt", exported.metadata().get("format"));
        for (int layer = 0; layer < 3; layer++) {
            TensorData ours = checkpoint.params().get(layer + ".weight");
            TensorData theirs = exported.tensor((2 * layer) + ".weight");
            assertTransposed(ours, theirs);
            assertArrayEquals(checkpoint.params().get(layer + ".bias").toDoubles(), exported.tensor((2 * layer) + ".bias").toDoubles());
        }
        String python = Files.readString(dir.resolve("torch").resolve("model.py"));
        assertTrue(python.contains("nn.Linear(1, 6, bias=True),\n        nn.Tanh(),\n        nn.Linear(6, 6, bias=True)"), python);
        assertTrue(python.contains("INPUT_SHAPE = [1]"), python);

        // predict's outputs (Metaforge's Mlp on the reference backend) = torch semantics over the exported tensors.
        Path x = dir.resolve("x.csv");
        Files.writeString(x, "-3\n-1.5\n0\n0.25\n2.5\n");
        Path y = dir.resolve("y.csv");
        TrainCommandTest.Run predict = run("predict", runDir.toString(), "--input", x.toString(), "--output", y.toString(),
                "--backend", "reference");
        assertEquals(0, predict.exitCode(), predict.err());
        TorchReference torch = new TorchReference(exported.tensors());
        Arr h = new Arr(new double[] {-3, -1.5, 0, 0.25, 2.5}, new int[] {5, 1});
        h = TorchReference.map(torch.linear(h, "0"), Math::tanh);
        h = TorchReference.map(torch.linear(h, "2"), Math::tanh);
        h = torch.linear(h, "4");
        TensorData predicted = ArrayFiles.read(y);
        assertArrayEquals(new int[] {5, 1}, predicted.shape().dims());
        assertArrayEquals(h.v(), predicted.toDoubles(), 1e-12);
    }

    @Test
    void convolutionWithBatchNormExportsItsRunningStatisticsAsBuffers() throws IOException {
        Path spec = checkpointFor(dir, "cnn", CNN.formatted("float64"), 11);
        Path out = dir.resolve("cnn-torch.safetensors");
        TrainCommandTest.Run export = run("export", spec.toString(), "--checkpoint", dir.resolve("cnn.safetensors").toString(),
                "--out", out.toString());
        assertEquals(0, export.exitCode(), export.err());
        assertTrue(export.err().contains("warning: checkpoint " + dir.resolve("cnn.safetensors") + " was not written by a run of "),
                export.err());
        Checkpoint checkpoint = Checkpoint.load(dir.resolve("cnn.safetensors"));
        SafetensorsFile exported = Safetensors.read(out);
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                "5.weight", "5.bias"), List.copyOf(exported.tensors().keySet()));
        // Conv and BatchNorm share torch's layout: bit for bit; the Linear head is transposed.
        for (String same : List.of("0.weight", "0.bias", "1.weight", "1.bias")) {
            assertEquals(checkpoint.params().get(same).shape(), exported.tensor(same).shape(), same);
            assertArrayEquals(checkpoint.params().get(same).toDoubles(), exported.tensor(same).toDoubles(), same);
        }
        for (String buffer : List.of("1.running_mean", "1.running_var")) {
            assertArrayEquals(checkpoint.objectiveState().get(buffer).toDoubles(), exported.tensor(buffer).toDoubles(), buffer);
        }
        TensorData tracked = exported.tensor("1.num_batches_tracked");
        assertEquals(DType.INT64, tracked.dtype());
        assertEquals(Shape.scalar(), tracked.shape());
        assertEquals(7L, tracked.toLongs()[0]);
        assertTransposed(checkpoint.params().get("5.weight"), exported.tensor("5.weight"));
        String python = Files.readString(dir.resolve("model.py"));
        assertTrue(python.contains("nn.BatchNorm2d(2, eps=1.0E-5, momentum=0.1, affine=True)"), python);
        assertTrue(python.contains("nn.Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1, bias=True)"),
                python);
        assertTrue(python.contains("INPUT_MEAN = 0.5") && python.contains("INPUT_STD = 2.0"), python);

        Random random = new Random(5);
        Path x = inputs(dir.resolve("x.npy"), random, 3, 16, false);
        Path y = dir.resolve("y.npy");
        TrainCommandTest.Run predict = run("predict", spec.toString(), "--checkpoint", dir.resolve("cnn.safetensors").toString(),
                "--input", x.toString(), "--output", y.toString(), "--backend", "reference", "--batch", "2");
        assertEquals(0, predict.exitCode(), predict.err());

        TorchReference torch = new TorchReference(exported.tensors());
        Arr h = TorchReference.map(Arr.of(ArrayFiles.read(x)), v -> (v - 0.5) / 2.0).reshape(3, 1, 4, 4);
        h = torch.conv2d(h, "0", 1, 1, 1, 1);
        h = torch.batchNormEval(h, "1", 1e-5);
        h = TorchReference.map(h, v -> Math.max(v, 0));
        h = TorchReference.maxPool(h, 2).reshape(3, 8);
        h = torch.linear(h, "5");
        TensorData predicted = ArrayFiles.read(y);
        assertArrayEquals(new int[] {3, 3}, predicted.shape().dims());
        assertArrayEquals(h.v(), predicted.toDoubles(), 1e-12);
    }

    @Test
    void attentionIsPackedAsTorchsInProjectionAndTheBlockComputesTheSame() throws IOException {
        Path spec = checkpointFor(dir, "attn", ATTENTION.formatted("float64"), 23);
        Path out = dir.resolve("attn-torch.safetensors");
        TrainCommandTest.Run export = run("export", spec.toString(), "--checkpoint", dir.resolve("attn.safetensors").toString(),
                "--out", out.toString());
        assertEquals(0, export.exitCode(), export.err());
        Checkpoint checkpoint = Checkpoint.load(dir.resolve("attn.safetensors"));
        SafetensorsFile exported = Safetensors.read(out);
        assertEquals(List.of("0.ln1.weight", "0.ln1.bias", "0.ln2.weight", "0.ln2.bias",
                "0.attn.in_proj_weight", "0.attn.in_proj_bias", "0.attn.out_proj.weight", "0.attn.out_proj.bias",
                "0.fc1.weight", "0.fc1.bias", "0.fc2.weight", "0.fc2.bias",
                "1.inner.0.weight", "1.inner.0.bias", "1.inner.2.weight", "1.inner.2.bias",
                "2.in_proj_weight", "2.in_proj_bias", "2.out_proj.weight", "2.out_proj.bias",
                "3.weight", "3.bias", "5.weight", "5.bias"), List.copyOf(exported.tensors().keySet()));
        // in_proj_weight [3d, d] = [Wq^T; Wk^T; Wv^T], each of ours being [in, out].
        TensorData packed = exported.tensor("2.in_proj_weight");
        assertEquals(Shape.of(12, 4), packed.shape());
        double[] p = packed.toDoubles();
        List<String> projections = List.of("q", "k", "v");
        for (int block = 0; block < 3; block++) {
            double[] w = checkpoint.params().get("2." + projections.get(block) + ".weight").toDoubles();
            double[] b = checkpoint.params().get("2." + projections.get(block) + ".bias").toDoubles();
            for (int o = 0; o < 4; o++) {
                for (int i = 0; i < 4; i++) {
                    assertEquals(w[i * 4 + o], p[(block * 4 + o) * 4 + i], "in_proj_weight block " + block);
                }
                assertEquals(b[o], exported.tensor("2.in_proj_bias").toDoubles()[block * 4 + o]);
            }
        }
        assertTransposed(checkpoint.params().get("2.out.weight"), exported.tensor("2.out_proj.weight"));
        String python = Files.readString(dir.resolve("model.py"));
        for (String expected : List.of("class SelfAttention(nn.MultiheadAttention)", "class TransformerBlock(nn.Module)",
                "class Residual(nn.Module)", "class Sin(nn.Module)", "TransformerBlock(4, 2, 8, 0.1, True)",
                "SelfAttention(4, 2, causal=False, bias=True)")) {
            assertTrue(python.contains(expected), expected + " in\n" + python);
        }

        Random random = new Random(9);
        Path x = inputs(dir.resolve("x.csv"), random, 2, 12, false);
        Path y = dir.resolve("y.npy");
        TrainCommandTest.Run predict = run("predict", spec.toString(), "--checkpoint", dir.resolve("attn.safetensors").toString(),
                "--input", x.toString(), "--output", y.toString(), "--backend", "reference");
        assertEquals(0, predict.exitCode(), predict.err());

        TorchReference torch = new TorchReference(exported.tensors());
        Arr stream = Arr.of(ArrayFiles.read(x)).reshape(2, 3, 4);
        // transformer block in eval mode (dropout off): pre-LN, causal attention, GELU (tanh) feed-forward
        stream = TorchReference.add(stream, torch.selfAttention(torch.layerNorm(stream, "0.ln1", 1e-5), "0.attn", 2, true));
        Arr ff = TorchReference.map(torch.linear(torch.layerNorm(stream, "0.ln2", 1e-5), "0.fc1"), TorchReference::geluTanh);
        stream = TorchReference.add(stream, torch.linear(ff, "0.fc2"));
        Arr inner = TorchReference.map(torch.linear(stream, "1.inner.0"), Math::sin);
        stream = TorchReference.add(stream, torch.linear(inner, "1.inner.2"));
        stream = torch.selfAttention(stream, "2", 2, false);
        stream = torch.layerNorm(stream, "3", 1e-5).reshape(2, 12);
        Arr logits = torch.linear(stream, "5");
        TensorData predicted = ArrayFiles.read(y);
        assertArrayEquals(new int[] {2, 2}, predicted.shape().dims());
        assertArrayEquals(logits.v(), predicted.toDoubles(), 1e-12);
    }

    @Test
    void theModelViewAddsNothingToTheWrittenSpecSoTrajectoryHashesStay() throws IOException {
        SpecRegistry specs = SpecRegistry.load(TrainTestPlugin.loader());
        for (String json : List.of(CNN.formatted("float32"), SIN)) {
            TrainSpec spec = specs.read(json, TrainSpec.class, "test");
            String written = specs.write(spec);
            for (String word : List.of("exampleShape", "inputMean", "inputStd", "evaluatesWithState")) {
                assertFalse(written.contains(word), word + " in " + written);
            }
        }
    }

    @Test
    void aModuleWithNoTorchEquivalentIsRefusedByItsTypeNameBeforeAnyFileIsWritten() throws IOException {
        String moe = """
                {"experiment": {"type": "classification",
                  "model": {"type": "sequential", "layers": [
                    {"type": "linear", "in": 4, "out": 8},
                    {"type": "moe", "width": 8, "experts": 2, "expert": {"type": "mlp", "sizes": [8, 8, 8]},
                     "router": {"type": "topk", "k": 1}},
                    {"type": "linear", "in": 8, "out": 2}]},
                  "inputShape": [4]},
                 "optimizer": {"type": "adam", "learningRate": 0.001}, "steps": 10, "seed": 0, "dtype": "float32"}
                """;
        Path spec = checkpointFor(dir, "moe", moe, 3);
        Path out = dir.resolve("out").resolve("moe.safetensors");
        TrainCommandTest.Run r = run("export", spec.toString(), "--checkpoint", dir.resolve("moe.safetensors").toString(),
                "--out", out.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("module type 'moe' at $.experiment.model.layers[1] has no torch.nn equivalent"), r.err());
        assertTrue(r.err().contains("exportable module types: [linear, mlp, sequential, conv2d, batchnorm"), r.err());
        assertFalse(r.err().contains("dev.metaforge"), r.err());
        assertFalse(Files.exists(dir.resolve("out")), "nothing is created");
    }

    @Test
    void anExperimentWithoutOneModelIsRefusedNamingItsType() throws IOException {
        Path spec = dir.resolve("maml.json");
        Files.copy(Path.of("..", "examples", "maml-sinusoid.json"), spec);
        Files.writeString(dir.resolve("ck.safetensors"), "not read");
        TrainCommandTest.Run r = run("export", spec.toString(), "--checkpoint", dir.resolve("ck.safetensors").toString(),
                "--out", dir.resolve("m.safetensors").toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("at $.experiment: experiment type 'maml' does not train one module"), r.err());
        assertFalse(Files.exists(dir.resolve("m.safetensors")));
    }

    @Test
    void predictRefusesBadInputsNamingTheFileAndWritesNothing() throws IOException {
        Path spec = checkpointFor(dir, "cnn", CNN.formatted("float32"), 2);
        String ck = dir.resolve("cnn.safetensors").toString();
        Path y = dir.resolve("y.npy");

        // integers in a .npy: named with its dtype and what to do
        Path ints = dir.resolve("ints.npy");
        Files.write(ints, npy("<i4", "(2, 16)", new byte[2 * 16 * 4]));
        TrainCommandTest.Run r = run("predict", spec.toString(), "--checkpoint", ck, "--input", ints.toString(), "--output", y.toString(),
                "--backend", "reference");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains(ints + ": dtype '<i4' is not supported"), r.err());

        // examples of the wrong size: the file, its shape and the model's example shape
        Path wide = inputs(dir.resolve("wide.csv"), new Random(1), 2, 15, false);
        r = run("predict", spec.toString(), "--checkpoint", ck, "--input", wide.toString(), "--output", y.toString(), "--backend", "reference");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains(wide + " has shape [2, 15]: each example holds 15 values, but the model reads examples of shape [1, 4, 4]"),
                r.err());

        // a header line in a CSV
        Path header = dir.resolve("header.csv");
        Files.writeString(header, "a,b\n1,2\n");
        r = run("predict", spec.toString(), "--checkpoint", ck, "--input", header.toString(), "--output", y.toString(), "--backend", "reference");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains(header + ": line 1, column 1: 'a' is not a finite number (a header line?"), r.err());

        // an output type it cannot write
        r = run("predict", spec.toString(), "--checkpoint", ck, "--input", wide.toString(), "--output", dir.resolve("y.txt").toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("y.txt: unknown file type; use .npy or .csv"), r.err());
        assertFalse(Files.exists(y), "no output after an error");
    }

    /** A .npy v1.0 file built by hand from its documented layout. */
    static byte[] npy(String descr, String shape, byte[] data) {
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }");
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        List<Byte> out = new ArrayList<>();
        for (byte b : new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) (h.length & 0xff), (byte) (h.length >> 8)}) {
            out.add(b);
        }
        for (byte b : h) {
            out.add(b);
        }
        for (byte b : data) {
            out.add(b);
        }
        byte[] bytes = new byte[out.size()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = out.get(i);
        }
        return bytes;
    }

    /** theirs [out, in] holds ours [in, out] transposed, value for value. */
    static void assertTransposed(TensorData ours, TensorData theirs) {
        int in = ours.shape().dim(0);
        int out = ours.shape().dim(1);
        assertEquals(Shape.of(out, in), theirs.shape());
        double[] a = ours.toDoubles();
        double[] b = theirs.toDoubles();
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                assertEquals(a[i * out + o], b[o * in + i]);
            }
        }
    }
}
