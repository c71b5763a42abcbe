package dev.metaforge.plugins.hyper.ghn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ghn} experiment end to end on a generated 4-class task (Gaussian clusters, 4 informative
 * and 4 noise dimensions), on the float64 reference backend: the graph hypernetwork's defining claim on
 * held-out architectures, its loss gradient against finite differences, determinism, the CSV table and
 * spec errors by JSON path.
 */
class GhnExperimentTest {
    private static final Path EXAMPLES = Path.of("..", "..", "examples");
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());

    /** The synthetic experiment as JSON; {@code extra} is spliced into the experiment object. */
    private static String json(String extra, int steps, long seed) {
        return json("\"embed\": 16, \"decoderHidden\": 32, \"rank\": 4, \"batchSize\": 32", extra, steps, seed);
    }

    private static String json(String sizes, String extra, int steps, long seed) {
        return "{\"experiment\": {\"type\": \"ghn\","
                + " \"train\": {\"type\": \"gaussian-clusters\", \"seed\": 3, \"toClass\": 4, \"examplesPerClass\": 100,"
                + "   \"informativeDims\": 4, \"noiseDims\": 4, \"clusterStd\": 0.5, \"noiseStd\": 1.0},"
                + sizes + ", \"finetuneSteps\": 10" + extra + "},"
                + " \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.003}, \"steps\": " + steps + ", \"seed\": " + seed
                + ", \"dtype\": \"float64\", \"logEvery\": 50, \"evalEvery\": 0, \"checkpointEvery\": 0}";
    }

    private GhnObjective build(TrainSpec spec) {
        return assertInstanceOf(GhnObjective.class, spec.experiment().build(new BuildContext(engine, specs, Path.of("."), spec.seed())));
    }

    @Test
    void predictedWeightsOfHeldOutArchitecturesBeatRandomInitialisation() {
        // The GHN claim: one forward pass predicts all parameters of a never-seen architecture. Chance is
        // 0.25; random initialisation scores about that. Independent reference: the same architectures'
        // declared random initialisation, scored on the same test examples.
        double predicted = 0;
        double random = 0;
        int seeds = 3;
        for (long seed = 1; seed <= seeds; seed++) {
            TrainSpec spec = specs.read(json("", 250, seed), TrainSpec.class, "ghn.json");
            GhnObjective objective = build(spec);
            try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.003), seed)) {
                for (int i = 0; i < 250; i++) {
                    loop.step();
                }
                Map<String, Double> eval = loop.evaluate();
                predicted += eval.get("heldout.predicted.accuracy") / seeds;
                random += eval.get("heldout.random.accuracy") / seeds;
            }
        }
        assertTrue(predicted > random + 0.3, "held-out accuracy: predicted " + predicted + ", random init " + random);
        assertTrue(predicted > 0.7, "held-out predicted accuracy " + predicted);
    }

    @Test
    void trainingNeverDrawsAHeldOutArchitecture() {
        ArchitectureSpace space = ArchitectureSpace.mlp(List.of(1, 2), List.of(8, 16), List.of("relu", "tanh"), 4, 7L);
        Set<ArchitectureSpace.Architecture> heldOut = new HashSet<>(space.heldOutArchitectures());
        assertEquals(4, heldOut.size());
        assertEquals(space.heldOutArchitectures(), space.heldOutArchitectures());
        RandomStream rng = RandomStream.of(1);
        Set<ArchitectureSpace.Architecture> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            ArchitectureSpace.Architecture a = space.drawTraining(rng, heldOut);
            assertFalse(heldOut.contains(a), a.name());
            seen.add(a);
        }
        // The space holds 2·2 + 4·2 = 12 architectures; every one not held out is drawn.
        assertEquals(12 - 4, seen.size());
    }

    @Test
    void lossGradientMatchesFiniteDifferences() {
        TrainSpec spec = specs.read(json("\"embed\": 3, \"decoderHidden\": 4, \"rank\": 2, \"batchSize\": 8",
                ", \"space\": {\"depths\": [1, 2], \"widths\": [3, 5], \"heldOut\": 2}", 1, 0), TrainSpec.class, "ghn.json");
        GhnObjective objective = build(spec);
        ArchitectureSpace.Architecture arch = new ArchitectureSpace.Architecture(List.of(5, 3), dev.metaforge.api.nn.Activation.TANH);
        try (Scope s = Scope.open()) {
            Params params = objective.init(RandomStream.of(4));
            // Every GHN tensor (type table, shape projection, message weights, decoder) against central differences.
            GradientCheck.check(engine, params, p -> objective.lossOf(p, arch, 11), 1e-6, 6, 2);
        }
    }

    @Test
    void sameSeedSameRunDifferentSeedDifferentRun() {
        TrainSpec spec = specs.read(json("", 5, 9), TrainSpec.class, "ghn.json");
        double[][] finals = new double[3][];
        Map<String, Double>[] evals = new Map[3];
        long[] seeds = {9, 9, 10};
        for (int r = 0; r < 3; r++) {
            try (TrainingLoop loop = TrainingLoop.start(build(spec), Adam.adam(0.003), seeds[r])) {
                for (int i = 0; i < 5; i++) {
                    loop.step();
                }
                finals[r] = loop.params().get("dec.1.weight").toDoubles();
                evals[r] = loop.evaluate();
            }
        }
        assertArrayEquals(finals[0], finals[1], 0.0);
        assertEquals(evals[0], evals[1]);
        assertFalse(java.util.Arrays.equals(finals[0], finals[2]));
    }

    @Test
    void trainerWritesTheHeldOutTableWhoseMeansAreTheMetrics(@TempDir Path dir) throws Exception {
        TrainSpec spec = specs.read(json("", 20, 1), TrainSpec.class, "ghn.json");
        TrainResult result = new Trainer(engine, specs, new PrintWriter(new StringWriter()), false)
                .train(spec, Path.of("."), dir.resolve("run"), false);
        List<String> lines = Files.readAllLines(dir.resolve("run").resolve(GhnObjective.TABLE));
        assertEquals("architecture,parameters,predicted_accuracy,random_accuracy,predicted_sgd_accuracy,random_sgd_accuracy", lines.get(0));
        assertEquals(1 + 6, lines.size(), String.join("\n", lines));
        String[] columns = {"heldout.predicted.accuracy", "heldout.random.accuracy", "heldout.predicted_sgd.accuracy",
            "heldout.random_sgd.accuracy"};
        for (int c = 0; c < columns.length; c++) {
            double sum = 0;
            for (String line : lines.subList(1, lines.size())) {
                sum += Double.parseDouble(line.split(",")[2 + c]);
            }
            // Rows are printed to 4 decimals.
            assertEquals(result.eval().get(columns[c]), sum / 6, 1e-4, columns[c]);
        }
        assertTrue(Files.exists(dir.resolve("run").resolve(Trainer.METRICS_FILE)));
    }

    @Test
    void badSpecsNameTheJsonPath() {
        SpecException small = assertThrows(SpecException.class, () -> specs.read(json(
                ", \"space\": {\"depths\": [1], \"widths\": [4], \"activations\": [\"relu\"], \"heldOut\": 1}", 1, 0), TrainSpec.class, "g.json"));
        assertTrue(small.getMessage().contains("$.experiment.space.heldOut") && small.getMessage().contains("only 1 distinct"),
                small.getMessage());
        SpecException activation = assertThrows(SpecException.class, () -> specs.read(json(
                ", \"space\": {\"activations\": [\"rleu\"]}", 1, 0), TrainSpec.class, "g.json"));
        assertTrue(activation.getMessage().contains("$.experiment.space.activations") && activation.getMessage().contains("rleu"),
                activation.getMessage());
        SpecException misspelt = assertThrows(SpecException.class, () -> specs.read(json(
                ", \"space\": {\"depht\": [1]}", 1, 0), TrainSpec.class, "g.json"));
        assertTrue(misspelt.getMessage().contains("$.experiment.space.depht") && misspelt.getMessage().contains("depths"),
                misspelt.getMessage());
        SpecException missing = assertThrows(SpecException.class, () -> specs.read(
                "{\"experiment\": {\"type\": \"ghn\"}, \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.001}, \"steps\": 1}",
                TrainSpec.class, "g.json"));
        assertTrue(missing.getMessage().contains("$.experiment.train"), missing.getMessage());
        SpecException half = assertThrows(SpecException.class, () -> specs.read(json(", \"mean\": 0.5", 1, 0), TrainSpec.class, "g.json"));
        assertTrue(half.getMessage().contains("$.experiment.std"), half.getMessage());
        for (SpecException e : List.of(small, activation, misspelt, missing, half)) {
            assertFalse(e.getMessage().contains("dev.metaforge"), "Java class name in: " + e.getMessage());
        }
    }

    @Test
    void fashionMnistExampleReads() {
        TrainSpec spec = specs.read(EXAMPLES.resolve("ghn-fashion-mnist.json"), TrainSpec.class);
        GhnExperimentSpec ghn = assertInstanceOf(GhnExperimentSpec.class, spec.experiment());
        assertEquals(6, ghn.space().heldOut());
        assertNotEquals(0, spec.steps());
        assertEquals(specs.read(specs.write(spec), TrainSpec.class, "written"), spec);
        assertInstanceOf(ExperimentSpec.class, ghn);
        // The synthetic example (for CI and the TCK) builds without any file and steps.
        TrainSpec clusters = specs.read(EXAMPLES.resolve("ghn-clusters.json"), TrainSpec.class);
        try (TrainingLoop loop = TrainingLoop.start(build(clusters), clusters.optimizer().build(), clusters.seed())) {
            assertTrue(Double.isFinite(loop.step()));
        }
    }
}
