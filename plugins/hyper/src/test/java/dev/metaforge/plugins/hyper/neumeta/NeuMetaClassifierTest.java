package dev.metaforge.plugins.hyper.neumeta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.hyper.GradientCheck;
import dev.metaforge.spi.DType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code neumeta} classification task (the paper's pipeline) on a generated 4-class task
 * (Gaussian clusters, 4 informative and 4 noise dimensions) on the float64 reference backend.
 * Independent references: a plain-Java forward pass of the host weights (accuracy of the smoothed
 * source and of every sampled width), central differences (the loss gradient).
 */
class NeuMetaClassifierTest {
    private static final Path EXAMPLES = Path.of("..", "..", "examples");
    private static final String CLUSTERS = "{\"type\": \"gaussian-clusters\", \"seed\": 3, \"toClass\": 4, \"examplesPerClass\": 60,"
            + " \"informativeDims\": 4, \"noiseDims\": 4, \"clusterStd\": 0.7, \"noiseStd\": 1.0}";
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());

    /** The experiment as JSON; {@code extra} is spliced into the experiment object. */
    private static String json(String extra, int steps) {
        return "{\"experiment\": {\"type\": \"neumeta\", \"train\": " + CLUSTERS + ", \"testFraction\": 0.25,"
                + " \"frequencies\": 2, \"hidden\": [16, 16], \"minWidth\": 2, \"maxWidth\": 8, \"widths\": [2, 4, 8], \"batch\": 32,"
                + " \"sourceSteps\": 200, \"sourceLearningRate\": 0.01" + extra + "},"
                + " \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.003}, \"steps\": " + steps + ", \"seed\": 1,"
                + " \"dtype\": \"float64\", \"logEvery\": 50, \"evalEvery\": 0, \"checkpointEvery\": 0}";
    }

    private NeuMetaClassifierObjective build(TrainSpec spec) {
        return assertInstanceOf(NeuMetaClassifierObjective.class,
                spec.experiment().build(new BuildContext(engine, specs, Path.of("."), spec.seed())));
    }

    /** The test split the experiment uses, rebuilt here from the dataset spec. */
    private LabelledDataset testSet() {
        LabelledDataset all = specs.read(CLUSTERS, LabelledDatasetSpec.class, "clusters").build(new BuildContext(engine, specs,
                Path.of("."), 0));
        return all.subset(NeuMetaExperimentSpec.stratifiedSplit(all, 0.25)[1]);
    }

    /** Plain-Java ReLU MLP forward and arg-max accuracy: the reference for every accuracy the objective reports. */
    private static double referenceAccuracy(NeuronSmoothing.Mlp net, LabelledDataset data) {
        int correct = 0;
        for (int r = 0; r < data.size(); r++) {
            double[] x = data.example(r);
            for (int l = 0; l < net.weights().size(); l++) {
                double[][] w = net.weights().get(l);
                double[] y = new double[w.length];
                for (int o = 0; o < w.length; o++) {
                    double s = net.biases().get(l)[o];
                    for (int i = 0; i < x.length; i++) {
                        s += w[o][i] * x[i];
                    }
                    y[o] = l + 1 < net.weights().size() ? Math.max(0, s) : s;
                }
                x = y;
            }
            int best = 0;
            for (int c = 1; c < x.length; c++) {
                if (x[c] > x[best]) {
                    best = c;
                }
            }
            correct += best == data.label(r) ? 1 : 0;
        }
        return correct / (double) data.size();
    }

    private static Map<String, Double> train(NeuMetaClassifierObjective objective, int steps) {
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.003), 1)) {
            for (int i = 0; i < steps; i++) {
                loop.advance();
            }
            return loop.evaluate();
        }
    }

    @Test
    void atTheSourceWidthTheFittedCoordinateNetworkReproducesTheSourceAccuracy() {
        // Reconstruction only (no task loss would still leave the task term; weight it up so the fit dominates).
        TrainSpec spec = specs.read(json(", \"reconWeight\": 20, \"regWeight\": 0", 400), TrainSpec.class, "n.json");
        NeuMetaClassifierObjective objective = build(spec);
        Map<String, Double> eval = train(objective, 400);
        LabelledDataset test = testSet();
        // The smoothed source, scored by the plain-Java forward: the reported figure, and the unsmoothed
        // source's (smoothing preserves the function, so accuracies agree).
        double reference = referenceAccuracy(objective.smoothedSource(), test);
        assertEquals(reference, eval.get("smoothed.accuracy"), 1e-12);
        assertEquals(eval.get("source.accuracy"), eval.get("smoothed.accuracy"), 1e-12);
        assertTrue(reference > 0.7, "the source learnt the task: " + reference);
        // The margin: the coordinate network is a smooth function of neuron index, not a lookup table.
        assertEquals(reference, eval.get("accuracy@width8"), 0.06, eval.toString());
        // Untrained, the same coordinate network is far from the source (so the check above can fail).
        Map<String, Double> untrained = train(build(spec), 0);
        assertTrue(untrained.get("accuracy@width8") < reference - 0.2, untrained.toString());
    }

    @Test
    void everySampledWidthIsScoredThroughTheSameMlp() {
        NeuMetaClassifierObjective objective = build(specs.read(json("", 60), TrainSpec.class, "n.json"));
        LabelledDataset test = testSet();
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.003), 1)) {
            for (int i = 0; i < 60; i++) {
                loop.advance();
            }
            Map<String, Double> eval = loop.evaluate();
            for (int w : List.of(2, 4, 8)) {
                try (Scope s = Scope.open()) {
                    Params sampled = objective.implicit().sample(engine, loop.params(), objective.sizes(w));
                    // Shapes are those of the target Mlp's declared parameters.
                    for (var p : objective.network(w).parameters()) {
                        assertEquals(p.shape(), sampled.get(p.name()).shape(), p.name());
                    }
                    double reference = referenceAccuracy(NeuronSmoothing.Mlp.fromParams(sampled, 2), test);
                    assertEquals(reference, eval.get("accuracy@width" + w), 1e-12, "width " + w);
                    assertEquals(reference, objective.accuracy(w, sampled), 1e-12, "width " + w);
                }
            }
        }
    }

    @Test
    void withAStemTheInputLayerIsTheSmoothedSourcesAndTheRestIsGenerated() {
        NeuMetaClassifierObjective objective = build(specs.read(json(", \"stem\": 6", 40), TrainSpec.class, "n.json"));
        LabelledDataset test = testSet();
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.003), 1)) {
            for (int i = 0; i < 40; i++) {
                loop.advance();
            }
            Map<String, Double> eval = loop.evaluate();
            NeuronSmoothing.Mlp source = objective.smoothedSource();
            assertEquals(List.of(8, 6, 8, 4), source.sizes());
            assertEquals(referenceAccuracy(source, test), eval.get("source.accuracy"), 1e-12);
            for (int w : List.of(2, 8)) {
                try (Scope s = Scope.open()) {
                    Params sampled = objective.sample(loop.params(), w);
                    assertEquals(List.of(8, 6, w, 4), objective.sizes(w));
                    NeuronSmoothing.Mlp host = NeuronSmoothing.Mlp.fromParams(sampled, 3);
                    for (int o = 0; o < 6; o++) {
                        assertEquals(java.util.Arrays.toString(source.weights().get(0)[o]), java.util.Arrays.toString(host.weights().get(0)[o]));
                    }
                    assertEquals(java.util.Arrays.toString(source.biases().get(0)), java.util.Arrays.toString(host.biases().get(0)));
                    assertEquals(referenceAccuracy(host, test), eval.get("accuracy@width" + w), 1e-12, "width " + w);
                }
            }
            // Only the generated layers are compared with the source: at the source width they differ from it.
            try (Scope s = Scope.open()) {
                NeuronSmoothing.Mlp host = NeuronSmoothing.Mlp.fromParams(objective.sample(loop.params(), 8), 3);
                assertFalse(java.util.Arrays.equals(source.biases().get(1), host.biases().get(1)));
            }
        }
    }

    @Test
    void lossGradientMatchesFiniteDifferences() {
        NeuMetaClassifierObjective objective = build(specs.read(json("", 1).replace("[16, 16]", "[5]")
                .replace("\"sourceSteps\": 200", "\"sourceSteps\": 20"), TrainSpec.class, "n.json"));
        try (Scope s = Scope.open()) {
            Params params = objective.init(RandomStream.of(4));
            // Task, reconstruction and norm terms together, for one draw of width and batch.
            GradientCheck.check(engine, params, p -> objective.loss(p, 0, RandomStream.of(11)), 1e-6, 6, 2);
        }
    }

    @Test
    void trainerWritesThePerWidthTableWhoseFiguresAreTheMetrics(@TempDir Path dir) throws Exception {
        TrainSpec spec = specs.read(json(", \"sourceWidth\": 6, \"baselineSteps\": 150, \"baselineLearningRate\": 0.01", 30),
                TrainSpec.class, "n.json");
        TrainResult result = new Trainer(engine, specs, new PrintWriter(new StringWriter()), false)
                .train(spec, Path.of("."), dir.resolve("run"), false);
        List<String> lines = Files.readAllLines(dir.resolve("run").resolve(NeuMetaClassifierObjective.TABLE));
        assertEquals("width,parameters,neumeta_accuracy,independent_accuracy,source_accuracy", lines.get(0));
        // Widths 2, 4, 8 and the source width 6, in order.
        assertEquals(5, lines.size(), String.join("\n", lines));
        int[] widths = {2, 4, 6, 8};
        Map<String, Double> eval = result.eval();
        for (int r = 0; r < widths.length; r++) {
            String[] cells = lines.get(1 + r).split(",", -1);
            int w = widths[r];
            assertEquals(Integer.toString(w), cells[0]);
            // 8 inputs, 4 classes: (8 + 1)·w + (w + 1)·4 parameters.
            assertEquals(Integer.toString(9 * w + 4 * (w + 1)), cells[1]);
            assertEquals(eval.get("accuracy@width" + w), Double.parseDouble(cells[2]), 5e-5);
            assertEquals(eval.get("independent.accuracy@width" + w), Double.parseDouble(cells[3]), 5e-5);
            // Independently trained networks learn the task (chance is 0.25).
            assertTrue(Double.parseDouble(cells[3]) > 0.6, lines.get(1 + r));
            assertEquals(w == 6 ? String.format(java.util.Locale.ROOT, "%.4f", eval.get("source.accuracy")) : "", cells[4]);
        }
    }

    @Test
    void sameSeedSameRun() {
        TrainSpec spec = specs.read(json("", 5), TrainSpec.class, "n.json");
        assertEquals(train(build(spec), 5), train(build(spec), 5));
    }

    @Test
    void badSpecsNameTheJsonPathBeforeAnyFileIsWritten(@TempDir Path dir) {
        SpecException empty = assertThrows(SpecException.class, () -> specs.read(json(", \"widths\": []", 1)
                .replace("\"widths\": [2, 4, 8], ", ""), TrainSpec.class, "n.json"));
        assertTrue(empty.getMessage().contains("$.experiment") && empty.getMessage().contains("'widths' is empty"), empty.getMessage());
        SpecException zero = assertThrows(SpecException.class, () -> specs.read(json(", \"widths\": [4, 0]", 1)
                .replace("\"widths\": [2, 4, 8], ", ""), TrainSpec.class, "n.json"));
        assertTrue(zero.getMessage().contains("$.experiment.widths"), zero.getMessage());
        SpecException orphan = assertThrows(SpecException.class, () -> specs.read(
                "{\"experiment\": {\"type\": \"neumeta\", \"sourceSteps\": 5}, \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.001},"
                        + " \"steps\": 1}", TrainSpec.class, "n.json"));
        assertTrue(orphan.getMessage().contains("'sourceSteps'") && orphan.getMessage().contains("'train'"), orphan.getMessage());
        // Missing IDX files: the error names the field, where it looked and how to install Fashion-MNIST.
        TrainSpec missing = specs.read(json("", 1).replace(CLUSTERS,
                "{\"type\": \"idx\", \"images\": \"no-such-images.gz\", \"labels\": \"no-such-labels.gz\"}"), TrainSpec.class, "n.json");
        Path run = dir.resolve("run");
        SpecException files = assertThrows(SpecException.class, () -> new Trainer(engine, specs, new PrintWriter(new StringWriter()), false)
                .train(missing, dir, run, false));
        assertTrue(files.getMessage().contains("$.experiment.train") && files.getMessage().contains(dir.resolve("no-such-images.gz")
                .toString()) && files.getMessage().contains("apt-get install dataset-fashion-mnist"), files.getMessage());
        assertFalse(Files.exists(run), "no run directory for a spec that cannot build");
        for (SpecException e : List.of(empty, zero, orphan, files)) {
            assertFalse(e.getMessage().contains("dev.metaforge"), "Java class name in: " + e.getMessage());
        }
    }

    @Test
    void examplesRead() {
        TrainSpec fmnist = specs.read(EXAMPLES.resolve("neumeta-fashion-mnist.json"), TrainSpec.class);
        NeuMetaExperimentSpec neumeta = assertInstanceOf(NeuMetaExperimentSpec.class, fmnist.experiment());
        assertTrue(neumeta.widths().size() >= 4, neumeta.widths().toString());
        assertEquals(specs.read(specs.write(fmnist), TrainSpec.class, "written"), fmnist);
        // The generated-data example trains without any file; the sin example is still the regression task.
        TrainSpec clusters = specs.read(EXAMPLES.resolve("neumeta-clusters.json"), TrainSpec.class);
        try (TrainingLoop loop = TrainingLoop.start(build(clusters), clusters.optimizer().build(), clusters.seed())) {
            assertTrue(Double.isFinite(loop.step()));
        }
        TrainSpec sin = specs.read(EXAMPLES.resolve("neumeta-sin.json"), TrainSpec.class);
        assertInstanceOf(NeuMetaObjective.class, sin.experiment().build(new BuildContext(engine, specs, Path.of("."), 0)));
    }
}
