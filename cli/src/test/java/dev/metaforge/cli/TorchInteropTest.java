package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.data.ArrayFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch round trip itself: {@code metaforge export} output loads into the generated
 * {@code model.py} with {@code load_state_dict(strict=True)}, and torch's forward pass (eval mode)
 * on the same inputs equals {@code metaforge predict}'s outputs to float32 rounding. Skipped, with
 * the reason, where no Python with torch and numpy is installed.
 */
class TorchInteropTest {
    /** Loads each export with its own model.py and saves torch's outputs; prints one line per model. */
    private static final String SCRIPT = String.join("\n",
            "import importlib.util, sys",
            "import numpy as np, torch",
            "torch.set_num_threads(1)",
            "for i in range(1, len(sys.argv), 4):",
            "    model_py, weights, x_file, y_file = sys.argv[i:i + 4]",
            "    spec = importlib.util.spec_from_file_location('model%d' % i, model_py)",
            "    model = importlib.util.module_from_spec(spec)",
            "    spec.loader.exec_module(model)",
            "    net = model.load(weights)",
            "    with torch.no_grad():",
            "        y = net(model.preprocess(np.load(x_file)))",
            "    np.save(y_file, y.numpy())",
            "    print('torch', model_py, tuple(y.shape), y.dtype)");

    @TempDir
    Path dir;

    private record Case(String name, Path modelPy, Path weights, Path x, Path predicted, Path torch) {
    }

    @Test
    void torchLoadsTheExportAndPredictsWhatMetaforgePredicts() throws Exception {
        String python = findPython();
        assumeTrue(python != null, "no python3 with torch and numpy here (tried /usr/bin/python3 and python3 on the PATH);"
                + " install them (e.g. apt-get install python3-torch python3-numpy) to run the PyTorch round trip");
        List<Case> cases = new ArrayList<>();
        cases.add(exported("cnn", ExportCommandTest.CNN.formatted("float32"), 16, 17));
        cases.add(exported("attention", ExportCommandTest.ATTENTION.formatted("float32"), 12, 29));
        cases.add(trainedSin());

        Path script = dir.resolve("torch_forward.py");
        Files.writeString(script, SCRIPT);
        List<String> command = new ArrayList<>(List.of(python, script.toString()));
        for (Case c : cases) {
            command.addAll(List.of(c.modelPy().toString(), c.weights().toString(), c.x().toString(), c.torch().toString()));
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python did not finish: " + output);
        assertEquals(0, p.exitValue(), output);

        for (Case c : cases) {
            TensorData ours = ArrayFiles.read(c.predicted());
            TensorData theirs = ArrayFiles.read(c.torch());
            assertArrayEquals(ours.shape().dims(), theirs.shape().dims(), c.name());
            assertEquals(ours.dtype(), theirs.dtype(), c.name());
            double[] a = ours.toDoubles();
            double[] b = theirs.toDoubles();
            double maxAbs = 0;
            double scale = 0;
            for (int i = 0; i < a.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
                scale = Math.max(scale, Math.abs(a[i]));
            }
            // Recorded for the notes: the figure is what float32 rounding leaves between two implementations.
            System.out.printf("torch vs predict, %s (%s): max abs diff %.3g over %d outputs (max |y| %.3g)%n", c.name(), ours.dtype(),
                    maxAbs, a.length, scale);
            double tolerance = ours.dtype() == dev.metaforge.spi.DType.FLOAT64 ? 1e-12 : 1e-5;
            assertTrue(maxAbs <= tolerance * Math.max(1, scale), c.name() + ": max abs diff " + maxAbs + "\n" + output);
        }
    }

    /** A checkpoint with random parameters and state, exported and predicted on random inputs. */
    private Case exported(String name, String json, int perExample, long seed) throws IOException {
        Path sub = Files.createDirectories(dir.resolve(name));
        Path spec = ExportCommandTest.checkpointFor(sub, name, json, seed);
        Path checkpoint = sub.resolve(name + ".safetensors");
        Path weights = sub.resolve("torch").resolve(name + ".safetensors");
        TrainCommandTest.Run export = TrainCommandTest.run("export", spec.toString(), "--checkpoint", checkpoint.toString(),
                "--out", weights.toString());
        assertEquals(0, export.exitCode(), export.err());
        Path x = ExportCommandTest.inputs(sub.resolve("x.npy"), new Random(seed), 5, perExample, true);
        Path y = sub.resolve("y.npy");
        TrainCommandTest.Run predict = TrainCommandTest.run("predict", spec.toString(), "--checkpoint", checkpoint.toString(),
                "--input", x.toString(), "--output", y.toString(), "--backend", "reference");
        assertEquals(0, predict.exitCode(), predict.err());
        return new Case(name, sub.resolve("torch").resolve("model.py"), weights, x, y, sub.resolve("y_torch.npy"));
    }

    /** A regression MLP trained for a few steps (float64), exported from its run directory. */
    private Case trainedSin() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("sin"));
        Path spec = sub.resolve("sin.json");
        Files.writeString(spec, ExportCommandTest.SIN);
        Path run = sub.resolve("run");
        TrainCommandTest.Run train = TrainCommandTest.run("train", spec.toString(), "--backend", "reference", "--out", run.toString());
        assertEquals(0, train.exitCode(), train.err());
        Path weights = sub.resolve("sin.safetensors");
        TrainCommandTest.Run export = TrainCommandTest.run("export", run.toString(), "--out", weights.toString());
        assertEquals(0, export.exitCode(), export.err());
        Path x = sub.resolve("x.csv");
        Files.writeString(x, "-3.0\n-0.5\n0.0\n1.25\n3.0\n");
        // torch reads the same inputs from .npy
        Path xNpy = sub.resolve("x.npy");
        ArrayFiles.write(xNpy, ArrayFiles.read(x));
        Path y = sub.resolve("y.npy");
        TrainCommandTest.Run predict = TrainCommandTest.run("predict", run.toString(), "--input", x.toString(), "--output", y.toString(),
                "--backend", "reference");
        assertEquals(0, predict.exitCode(), predict.err());
        return new Case("sin (trained)", sub.resolve("model.py"), weights, xNpy, y, sub.resolve("y_torch.npy"));
    }

    /** Debian's /usr/bin/python3 (where apt's torch lives) first, then python3 on the PATH. */
    private static String findPython() {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import torch, numpy").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                // not installed under this name; try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }
}
