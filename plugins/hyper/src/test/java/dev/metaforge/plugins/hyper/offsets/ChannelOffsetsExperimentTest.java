package dev.metaforge.plugins.hyper.offsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.io.PrintWriter;
import java.io.StringWriter;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.hyper.GradientCheck;
import dev.metaforge.spi.DType;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code channel-offsets} experiment end to end on generated data (4 Gaussian clusters of 16 values
 * read as 1×4×4 images, half of the shifted examples inverted), on the float64 reference backend.
 */
class ChannelOffsetsExperimentTest {
    private final SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);

    static final String MODEL = "{\"type\": \"sequential\", \"layers\": ["
            + "{\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 4, \"kernel\": 3, \"padding\": 1},"
            + " {\"type\": \"activation\", \"function\": \"relu\"},"
            + " {\"type\": \"conv2d\", \"inChannels\": 4, \"outChannels\": 4, \"kernel\": 3, \"padding\": 1},"
            + " {\"type\": \"activation\", \"function\": \"relu\"},"
            + " {\"type\": \"flatten\", \"startAxis\": -3, \"endAxis\": -1}, {\"type\": \"linear\", \"in\": 64, \"out\": 4}]}";

    static String json(String extra) {
        return json(32, 150, extra);
    }

    static String json(int batchSize, int sourceSteps, String extra) {
        return "{\"type\": \"channel-offsets\", \"model\": " + MODEL + ","
                + " \"encoder\": {\"type\": \"sequential\", \"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", \"in\": 16, \"out\": 8},"
                + " {\"type\": \"activation\", \"function\": \"tanh\"}]},"
                + " \"train\": {\"type\": \"gaussian-clusters\", \"seed\": 3, \"toClass\": 4, \"examplesPerClass\": 100,"
                + " \"informativeDims\": 8, \"noiseDims\": 8, \"clusterStd\": 0.5, \"noiseStd\": 1.0},"
                + " \"inputShape\": [1, 4, 4], \"shift\": {\"gain\": [0.5, 1.0], \"invert\": 0.5},"
                + " \"hidden\": [16], \"batchSize\": " + batchSize + ", \"evalExamples\": 80,"
                + " \"sourceSteps\": " + sourceSteps + ", \"finetuneSteps\": 100" + extra + "}";
    }

    private ChannelOffsetsObjective build(String json, Path dir, long seed) {
        ExperimentSpec spec = specs.read(json, ExperimentSpec.class, "offsets.json");
        return (ChannelOffsetsObjective) spec.build(new BuildContext(engine, specs, dir, seed));
    }

    @Test
    void offsetsAdaptTheFrozenNetworkToTheShiftedDomainWhileItStaysFrozen(@TempDir Path dir) {
        ChannelOffsetsObjective objective = build(json(", \"refinementSteps\": 2"), dir, 1);
        try (Scope s = Scope.open(); TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(3e-3), 1)) {
            Map<String, double[]> frozenBefore = values(objective.frozen());
            // Only the hypernetwork is trained: the frozen network's weights are not among the parameters.
            for (String name : loop.params().names()) {
                assertTrue(name.startsWith("encoder.") || name.startsWith("head."), name);
            }
            Map<String, Double> before = loop.evaluate();
            // Untrained, the head's last layer is zero: every refinement step is the frozen network itself.
            assertEquals(before.get("shifted.frozen.accuracy"), before.get("shifted.offsets.step2.accuracy"), 0.0);
            for (int i = 0; i < 300; i++) {
                loop.advance();
            }
            Map<String, Double> after = loop.evaluate();
            // Property (a): 300 steps later the frozen network is bit for bit what phase 1 left.
            Map<String, double[]> frozenAfter = values(objective.frozen());
            assertEquals(frozenBefore.keySet(), frozenAfter.keySet());
            frozenBefore.forEach((name, v) -> assertArrayEquals(v, frozenAfter.get(name), 0.0, name));
            // No tape reaches them: the loss reads the frozen tensors as constants.
            for (String name : objective.frozen().names()) {
                assertTrue(!objective.frozen().get(name).isTracked(), name + " must not require a gradient");
            }
            double source = after.get("source.frozen.accuracy");
            double shifted = after.get("shifted.frozen.accuracy");
            double offsets = after.get("shifted.offsets.step2.accuracy");
            String report = after.toString();
            assertTrue(source > 0.9, "phase 1 should learn the clean source task: " + report);
            assertTrue(shifted < source - 0.2, "the shift should cost the frozen network accuracy: " + report);
            assertTrue(offsets > shifted + 0.2, "the predicted offsets should recover much of it: " + report);
            assertTrue(after.get("offsets.mean_abs") > 0, report);
            assertTrue(after.containsKey("shifted.finetune.accuracy"), report);
        }
    }

    @Test
    void theHypernetworkGradientMatchesFiniteDifferences(@TempDir Path dir) {
        ChannelOffsetsObjective objective = build(json(6, 5, ", \"refinementSteps\": 2"), dir, 2);
        try (Scope s = Scope.open()) {
            Params init = objective.init(RandomStream.of(4));
            // Random everywhere (the zero last layer would leave the earlier head layers without gradient).
            Params params = init.mapNamed((name, t) -> engine.uniform(t.shape(), -0.5, 0.5, name.hashCode()));
            Params frozen = objective.frozen();
            GradientCheck.check(engine, params, p -> objective.lossWith(p, frozen, 7), 1e-5, 6, 8);
        }
    }

    @Test
    void theFrozenNetworkIsTheCheckpointedStateAndRestoresExactly(@TempDir Path dir) {
        ChannelOffsetsObjective trained = build(json(32, 20, ""), dir, 3);
        // Another run seed: its own phase 1 would freeze another network, so equality below comes from the state.
        ChannelOffsetsObjective restored = build(json(32, 20, ""), dir, 4);
        ChannelOffsetsObjective other = build(json(32, 20, ""), dir, 4);
        try (Scope s = Scope.open()) {
            trained.init(RandomStream.of(5));
            Params state = trained.state();
            assertEquals(trained.frozen().size(), state.size());
            Map<String, double[]> a = values(trained.frozen());
            double[] own = other.frozen().get("0.weight").toDoubles();
            assertTrue(Math.abs(own[0] - a.get("0.weight")[0]) > 1e-9, "seeds 3 and 4 should freeze different networks");
            restored.loadState(state);
            Map<String, double[]> b = values(restored.frozen());
            a.forEach((name, v) -> assertArrayEquals(v, b.get(name), 0.0, name));
            IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> restored.loadState(state.prefixed("x")));
            assertTrue(wrong.getMessage().contains("frozen"), wrong.getMessage());
        }
    }

    @Test
    void theCiExampleResumedFromItsCheckpointRepeatsTheUninterruptedRun(@TempDir Path dir) throws Exception {
        // The frozen network is objective state: a resumed run must read it back from the checkpoint, not
        // train a new one, to repeat the uninterrupted run exactly.
        Path file = Path.of("..", "..", "examples", "channel-offsets-clusters.json");
        TrainSpec spec = specs.read(file, TrainSpec.class).withSteps(40).withSchedule(20, 0, 0);
        Trainer trainer = new Trainer(engine, specs, new PrintWriter(new StringWriter()), false);
        TrainResult straight = trainer.train(spec, file.getParent(), dir.resolve("straight"), false);
        trainer.train(spec.withSteps(20), file.getParent(), dir.resolve("resumed"), false);
        TrainResult resumed = trainer.train(spec, file.getParent(), dir.resolve("resumed"), true);
        assertEquals(40, resumed.steps());
        assertEquals(straight.finalLoss(), resumed.finalLoss(), 0.0);
        assertEquals(straight.eval(), resumed.eval());
    }

    @Test
    void badSelectionsAndRefinementStepsAreSpecErrorsNamingThePath(@TempDir Path dir) {
        SpecException unknown = assertThrows(SpecException.class, () -> build(json(", \"select\": {\"names\": [\"0.weight\", \"7.weight\"]}"),
                dir, 1));
        assertEquals("$.experiment.select.names", unknown.jsonPath());
        assertTrue(unknown.getMessage().contains("'7.weight'") && unknown.getMessage().contains("2.weight [4, 4, 3, 3]"), unknown.getMessage());
        SpecException notConv = assertThrows(SpecException.class, () -> build(json(", \"select\": {\"kinds\": [\"weight\"]}"), dir, 1));
        assertEquals("$.experiment.select", notConv.jsonPath());
        assertTrue(notConv.getMessage().contains("'5.weight'") && notConv.getMessage().contains("not a conv kernel"), notConv.getMessage());
        SpecException noKernel = assertThrows(SpecException.class, () -> build(json("").replace(MODEL,
                "{\"type\": \"mlp\", \"sizes\": [16, 8, 4], \"activation\": \"relu\"}").replace("\"inputShape\": [1, 4, 4], ", ""), dir, 1));
        assertEquals("$.experiment.select", noKernel.jsonPath());
        assertTrue(noKernel.getMessage().contains("matches no parameter"), noKernel.getMessage());
        SpecException steps = assertThrows(SpecException.class, () -> build(json(", \"refinementSteps\": 0"), dir, 1));
        assertEquals("$.refinementSteps", steps.jsonPath(), steps.getMessage());
        assertTrue(steps.getMessage().contains(">= 1"), steps.getMessage());
        SpecException flatten = assertThrows(SpecException.class, () -> build(json("").replace(
                "{\"type\": \"flatten\", \"startAxis\": -3, \"endAxis\": -1}", "{\"type\": \"flatten\"}"), dir, 1));
        assertEquals("$.experiment.model", flatten.jsonPath());
        assertTrue(flatten.getMessage().contains("\"startAxis\": -3"), flatten.getMessage());
    }

    private static Map<String, double[]> values(Params params) {
        Map<String, double[]> out = new HashMap<>();
        for (String name : params.names()) {
            out.put(name, params.get(name).toDoubles());
        }
        return out;
    }
}
