package dev.metaforge.plugins.hyper.ghn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.hyper.GradientCheck;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The {@code ghn} experiment over the CNN space ({@code "space": {"type": "cnn"}}) on a generated
 * 4-class task read as 1×6×6 images, float64 reference backend: the held-out claim, the loss gradient
 * against finite differences, the space's draws, the predicted shapes and spec errors by JSON path.
 */
class GhnCnnTest {
    private static final Path EXAMPLES = Path.of("..", "..", "examples");
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());

    /** The synthetic CNN experiment; {@code space} and {@code extra} are spliced in. */
    private static String json(String space, String extra, int steps, long seed) {
        return "{\"experiment\": {\"type\": \"ghn\","
                + " \"train\": {\"type\": \"gaussian-clusters\", \"seed\": 3, \"toClass\": 4, \"examplesPerClass\": 100,"
                + "   \"informativeDims\": 36, \"noiseDims\": 0, \"clusterStd\": 0.5, \"noiseStd\": 1.0},"
                + " \"space\": {\"type\": \"cnn\"" + space + "},"
                + " \"embed\": 16, \"decoderHidden\": 32, \"rank\": 2, \"batchSize\": 32, \"finetuneSteps\": 10" + extra + "},"
                + " \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.003}, \"steps\": " + steps + ", \"seed\": " + seed
                + ", \"dtype\": \"float64\", \"logEvery\": 50, \"evalEvery\": 0, \"checkpointEvery\": 0}";
    }

    private static final String SPACE = ", \"image\": [1, 6, 6], \"depths\": [1, 2], \"widths\": [4, 8], \"kernels\": [1, 3],"
            + " \"residual\": [false, true], \"heldOut\": 4";

    private GhnObjective build(TrainSpec spec) {
        return assertInstanceOf(GhnObjective.class, spec.experiment().build(new BuildContext(engine, specs, Path.of("."), spec.seed())));
    }

    /** Mean held-out accuracies after {@code steps} GHN steps: predicted and random init, per seed. */
    private double[] heldOut(String extra, int steps, long seed) {
        GhnObjective objective = build(specs.read(json(SPACE, extra, steps, seed), TrainSpec.class, "ghn.json"));
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.003), seed)) {
            for (int i = 0; i < steps; i++) {
                loop.step();
            }
            Map<String, Double> eval = loop.evaluate();
            return new double[] {eval.get("heldout.predicted.accuracy"), eval.get("heldout.random.accuracy")};
        }
    }

    @Test
    void predictedWeightsOfHeldOutCnnsBeatRandomInitialisation() {
        // Chance is 0.25. Independent reference: the same held-out CNNs at their declared random
        // initialisation, scored on the same test examples.
        double predicted = 0;
        double random = 0;
        int seeds = 2;
        for (long seed = 1; seed <= seeds; seed++) {
            double[] r = heldOut("", 200, seed);
            predicted += r[0] / seeds;
            random += r[1] / seeds;
        }
        assertTrue(predicted > random + 0.3, "held-out accuracy: predicted " + predicted + ", random init " + random);
        assertTrue(predicted > 0.6, "held-out predicted accuracy " + predicted);
    }

    @Test
    void trainingNeverDrawsAHeldOutCnnAndDrawsEveryOther() {
        ArchitectureSpace space = new ArchitectureSpace("cnn", List.of(1), List.of(4), List.of("relu"), List.of(1, 3), List.of(false, true),
                null, 3, 7L);
        Set<ArchitectureSpace.Architecture> heldOut = new HashSet<>(space.heldOutArchitectures());
        assertEquals(3, heldOut.size());
        RandomStream rng = RandomStream.of(1);
        Set<ArchitectureSpace.Architecture> seen = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            ArchitectureSpace.Architecture a = space.drawTraining(rng, heldOut);
            assertFalse(heldOut.contains(a), a.name());
            assertTrue(a.isCnn());
            seen.add(a);
        }
        // 2 kernels for the stem x 2 for the block x 2 residual choices = 8 architectures, 3 held out.
        assertEquals(8 - 3, seen.size());
    }

    @Test
    void predictedCnnParametersHaveTheModulesShapesAndRun() {
        GhnObjective objective = build(specs.read(json(SPACE, "", 1, 0), TrainSpec.class, "ghn.json"));
        ArchitectureSpace.Architecture arch = new ArchitectureSpace.Architecture(List.of(8, 8, 8), Activation.RELU, List.of(3, 1, 3), true);
        Module cnn = arch.build(objective.example(), objective.classes());
        assertEquals(Shape.of(1, 6, 6), objective.example());
        try (Scope s = Scope.open()) {
            Params predicted = objective.ghn().predict(engine, objective.init(RandomStream.of(1)), cnn, RandomStream.of(2));
            int convs = 0;
            for (ParamSpec p : cnn.parameters()) {
                assertArrayEquals(p.shape().dims(), predicted.get(p.name()).shape().dims(), p.name());
                convs += p.shape().rank() == 4 ? 1 : 0;
            }
            assertEquals(3, convs);
            assertArrayEquals(new int[] {5, 4}, cnn.apply(predicted, engine.zeros(Shape.of(5, 1, 6, 6), DType.FLOAT64)).shape().dims());
        }
    }

    @Test
    void theDecoderTableCountsTheTrainedTensors() {
        GhnObjective objective = build(specs.read(json(SPACE, "", 1, 0), TrainSpec.class, "ghn.json"));
        long trained = 0;
        try (Scope s = Scope.open()) {
            Params p = objective.init(RandomStream.of(1));
            for (String name : p.names()) {
                trained += p.get(name).shape().size();
            }
        }
        // The decoder serves 8 channels x 8 (rows: out channels or the head's 8 inputs; cols: in channels or 4 classes), 3x3 taps.
        DecoderSize size = new DecoderSize(16, 32, 8, 8, 3);
        assertEquals("decoder,parameters\nlogah-rank-2," + trained + "\nfull," + (trained - size.lowRank(2) + size.full()) + "\n",
                objective.sizeTable());
    }

    @Test
    void predictedParametersOfSeveralGhnsRunAsOneWeightBatch() {
        // Weight-batch identity: the predictions of two graph hypernetworks (two initialisations) for the
        // same CNN, and for an MLP, stacked on a leading axis and run once, equal each run on its own.
        GhnObjective cnnGhn = build(specs.read(json(SPACE, "", 1, 0), TrainSpec.class, "ghn.json"));
        GhnObjective mlpGhn = build(specs.read(json(", \"depths\": [2], \"widths\": [5, 7], \"heldOut\": 2", "", 1, 0)
                .replace("{\"type\": \"cnn\"", "{\"type\": \"mlp\""), TrainSpec.class, "ghn.json"));
        List<GhnObjective> objectives = List.of(cnnGhn, mlpGhn);
        List<Module> modules = List.of(
                new ArchitectureSpace.Architecture(List.of(8, 8, 8), Activation.RELU, List.of(3, 1, 3), true)
                        .build(cnnGhn.example(), cnnGhn.classes()),
                new ArchitectureSpace.Architecture(List.of(5, 7), Activation.TANH).build(mlpGhn.example(), mlpGhn.classes()));
        double[] image = new double[3 * 36];
        for (int i = 0; i < image.length; i++) {
            image[i] = Math.sin(0.37 * i);
        }
        try (Scope s = Scope.open()) {
            Tensor x = engine.tensor(image, 3, 1, 6, 6);
            for (int k = 0; k < 2; k++) {
                Module m = modules.get(k);
                GhnObjective objective = objectives.get(k);
                Tensor in = k == 0 ? x : x.reshape(3, 36);
                Params a = objective.ghn().predict(engine, objective.init(RandomStream.of(1)), m, RandomStream.of(2));
                Params b = objective.ghn().predict(engine, objective.init(RandomStream.of(3)), m, RandomStream.of(2));
                Map<String, Tensor> stacked = new java.util.LinkedHashMap<>();
                for (String name : a.names()) {
                    stacked.put(name, Tensor.stack(List.of(a.get(name), b.get(name)), 0));
                }
                Tensor batched = m.apply(Params.of(stacked), in);
                assertArrayEquals(new int[] {2, 3, 4}, batched.shape().dims());
                double[] got = batched.toDoubles();
                double[] first = m.apply(a, in).toDoubles();
                double[] second = m.apply(b, in).toDoubles();
                assertFalse(java.util.Arrays.equals(first, second));
                for (int i = 0; i < 12; i++) {
                    assertEquals(first[i], got[i], 1e-12);
                    assertEquals(second[i], got[12 + i], 1e-12);
                }
            }
        }
    }

    @Test
    void lossGradientOfACnnMatchesFiniteDifferences() {
        GhnObjective objective = build(specs.read(json(", \"image\": [1, 4, 4], \"depths\": [1], \"widths\": [2, 3], \"kernels\": [1, 3],"
                + " \"heldOut\": 2", "", 1, 0).replace("\"informativeDims\": 36", "\"informativeDims\": 16")
                .replace("\"embed\": 16, \"decoderHidden\": 32", "\"embed\": 3, \"decoderHidden\": 4").replace("\"batchSize\": 32", "\"batchSize\": 6"),
                TrainSpec.class, "ghn.json"));
        ArchitectureSpace.Architecture arch = new ArchitectureSpace.Architecture(List.of(3, 3), Activation.RELU, List.of(3, 1), true);
        try (Scope s = Scope.open()) {
            // Every GHN tensor (type table, shape projection, message weights, decoder, bias head) against central differences.
            GradientCheck.check(engine, objective.init(RandomStream.of(4)), p -> objective.lossOf(p, arch, 11), 1e-6, 6, 2);
        }
    }

    @Test
    void badCnnSpecsNameTheJsonPath() {
        SpecException even = assertThrows(SpecException.class, () -> specs.read(json(", \"kernels\": [3, 4]", "", 1, 0), TrainSpec.class,
                "g.json"));
        assertTrue(even.getMessage().contains("$.experiment.space.kernels") && even.getMessage().contains("odd"), even.getMessage());
        SpecException mlpField = assertThrows(SpecException.class, () -> specs.read(json(", \"kernels\": [3]", "", 1, 0)
                .replace("\"type\": \"cnn\", ", "").replace("\"space\": {\"type\": \"cnn\",", "\"space\": {"), TrainSpec.class, "g.json"));
        assertTrue(mlpField.getMessage().contains("$.experiment.space.kernels") && mlpField.getMessage().contains("\"type\": \"cnn\""),
                mlpField.getMessage());
        SpecException type = assertThrows(SpecException.class, () -> specs.read(json("", "", 1, 0).replace("\"cnn\"", "\"resnet\""),
                TrainSpec.class, "g.json"));
        assertTrue(type.getMessage().contains("$.experiment.space.type") && type.getMessage().contains("mlp, cnn"), type.getMessage());
        // Flat examples without an image shape, and an image of the wrong size: found when the dataset is built.
        TrainSpec flat = specs.read(json("", "", 1, 0), TrainSpec.class, "g.json");
        SpecException noImage = assertThrows(SpecException.class, () -> build(flat));
        assertTrue(noImage.getMessage().contains("$.experiment.space.image") && noImage.getMessage().contains("[36]"), noImage.getMessage());
        TrainSpec wrong = specs.read(json(", \"image\": [1, 5, 5]", "", 1, 0), TrainSpec.class, "g.json");
        SpecException wrongImage = assertThrows(SpecException.class, () -> build(wrong));
        assertTrue(wrongImage.getMessage().contains("$.experiment.space.image") && wrongImage.getMessage().contains("25"),
                wrongImage.getMessage());
        for (SpecException e : List.of(even, mlpField, type, noImage, wrongImage)) {
            assertFalse(e.getMessage().contains("dev.metaforge"), "Java class name in: " + e.getMessage());
        }
    }

    @Test
    void cnnExamplesRead() {
        TrainSpec fmnist = specs.read(EXAMPLES.resolve("ghn-fashion-mnist-cnn.json"), TrainSpec.class);
        GhnExperimentSpec ghn = assertInstanceOf(GhnExperimentSpec.class, fmnist.experiment());
        assertTrue(ghn.space().cnn());
        assertEquals(specs.read(specs.write(fmnist), TrainSpec.class, "written"), fmnist);
        TrainSpec clusters = specs.read(EXAMPLES.resolve("ghn-cnn-clusters.json"), TrainSpec.class);
        try (TrainingLoop loop = TrainingLoop.start(build(clusters), clusters.optimizer().build(), clusters.seed())) {
            assertTrue(Double.isFinite(loop.step()));
        }
    }
}
