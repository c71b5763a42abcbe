package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.hyper.ConditionedTaskSpec;
import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.hyper.TaskSequenceSpec;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainingLoop;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every spec type of the plugin: JSON in, component built and run, JSON back out; strict errors. */
class HyperSpecTest {
    /** A module spec standing in for the core plugin's "mlp", so these tests depend on no other plugin. */
    public record TestMlpSpec(List<Integer> sizes, String activation) implements ModuleSpec {
        @Override
        public Module build() {
            return Mlp.of(sizes, Activation.parse(activation));
        }
    }

    /** Registers {@link TestMlpSpec} as "test-mlp". */
    static final class TestModulesPlugin implements MetaforgePlugin {
        @Override
        public String name() {
            return "hyper-test-modules";
        }

        @Override
        public List<SpecType> specTypes() {
            return List.of(new SpecType(ModuleSpec.class, "test-mlp", TestMlpSpec.class));
        }
    }

    private Engine engine;
    private Scope scope;
    private SpecRegistry specs;

    @BeforeEach
    void open() {
        engine = HyperFixtures.engine();
        scope = Scope.open();
        specs = SpecRegistry.of(List.of(new HyperPlugin(), new TestModulesPlugin()));
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void pluginIsFoundThroughServiceLoaderWithEveryName() {
        SpecRegistry loaded = SpecRegistry.load(HyperSpecTest.class.getClassLoader());
        assertTrue(loaded.names(HyperNetworkSpec.class).containsAll(
                List.of("chunked", "hmlp", "hyperinterval", "mip", "recurrent", "task-conditioned")), loaded.names(HyperNetworkSpec.class).toString());
        assertTrue(loaded.names(ExperimentSpec.class).containsAll(List.of("continual", "hypernetwork")));
        assertEquals(List.of("loss-weighting", "sinusoid"), loaded.names(ConditionedTaskSpec.class));
        assertEquals(List.of("permuted", "split", "split-blobs"), loaded.names(TaskSequenceSpec.class));
    }

    @Test
    void everyHypernetworkSpecReadsBuildsGeneratesAndWritesBack() {
        HyperTarget target = new HyperTarget(Mlp.of(List.of(2, 6, 1), Activation.RELU), ParamSelection.all());
        List<String> examples = List.of(
                "{\"type\": \"hmlp\", \"contextSize\": 2, \"hidden\": [8], \"activation\": \"tanh\", \"init\": \"kaiming-fan-out\"}",
                "{\"type\": \"mip\", \"inputs\": 1, \"hidden\": [8, 8], \"activation\": \"relu\"}",
                "{\"type\": \"mip\", \"inputs\": 1, \"generator\": {\"type\": \"chunked\", \"contextSize\": 2, \"chunkSize\": 7}}",
                "{\"type\": \"chunked\", \"contextSize\": 2, \"chunkSize\": 5, \"chunkEmbeddingSize\": 3, \"hidden\": [8]}",
                "{\"type\": \"task-conditioned\", \"tasks\": 3, \"embeddingSize\": 4, \"hidden\": [8]}",
                "{\"type\": \"task-conditioned\", \"tasks\": 3, \"embeddingSize\": 4, \"generator\": {\"type\": \"chunked\", \"contextSize\": 4, \"chunkSize\": 6}}",
                "{\"type\": \"hyperinterval\", \"tasks\": 3, \"embeddingSize\": 4, \"hidden\": [8], \"perturbation\": 0.5}",
                "{\"type\": \"hyperinterval\", \"tasks\": 3, \"hidden\": [8], \"perturbation\": {\"epsilon\": 0.5, \"warmup\": 0.25}}",
                "{\"type\": \"task-conditioned\", \"tasks\": 3, \"embeddingSize\": 4, \"hidden\": [8], \"lookAhead\": true}",
                "{\"type\": \"recurrent\", \"contextSize\": 2, \"hiddenSize\": 8, \"chunkSize\": 5, \"chunkEmbeddingSize\": 3}",
                "{\"type\": \"ha-static\", \"contextSize\": 2, \"embeddingSize\": 3, \"chunkIn\": 3, \"chunkOut\": 2}");
        for (String json : examples) {
            HyperNetworkSpec spec = specs.read(json, HyperNetworkSpec.class, "example");
            HyperNetwork hyper = spec.build(target);
            Params h = hyper.init(engine, RandomStream.of(1));
            Params generated = hyper.generate(h, HyperFixtures.context(engine, hyper, 3, 2));
            assertEquals(3, target.weightBatch(generated), json);
            Tensor y = target.apply(generated, Params.empty(), HyperFixtures.uniform(engine, 3, 3, 4, 2));
            assertArrayEquals(new int[] {3, 4, 1}, y.shape().dims(), json);
            String written = specs.write(spec);
            assertEquals(spec, specs.read(written, HyperNetworkSpec.class, "written"), written);
        }
    }

    @Test
    void badSpecsNameThePathAndTheKnownNames() {
        SpecException unknown = assertThrows(SpecException.class,
                () -> specs.read("{\"type\": \"nope\"}", HyperNetworkSpec.class, "bad.json"));
        assertTrue(unknown.getMessage().contains("nope") && unknown.getMessage().contains("mip")
                && unknown.getMessage().contains("recurrent"), unknown.getMessage());
        SpecException both = assertThrows(SpecException.class, () -> specs.read(
                "{\"type\": \"mip\", \"hidden\": [4], \"generator\": {\"type\": \"hmlp\", \"contextSize\": 2}}",
                HyperNetworkSpec.class, "bad.json"));
        assertTrue(both.getMessage().contains("either 'generator' or 'hidden'"), both.getMessage());
        SpecException missing = assertThrows(SpecException.class,
                () -> specs.read("{\"type\": \"chunked\", \"contextSize\": 2}", HyperNetworkSpec.class, "bad.json"));
        assertTrue(missing.getMessage().contains("'chunkSize' is required"), missing.getMessage());
        SpecException kind = assertThrows(SpecException.class, () -> specs.read(
                "{\"type\": \"hypernetwork\", \"target\": {\"type\": \"test-mlp\", \"sizes\": [1, 2, 1], \"activation\": \"relu\"},"
                        + " \"generate\": {\"kinds\": [\"weights\"]}, \"task\": {\"type\": \"loss-weighting\"}}",
                ExperimentSpec.class, "bad.json"));
        assertTrue(kind.getMessage().contains("unknown parameter kind 'weights'") && kind.getMessage().contains("$.generate"),
                kind.getMessage());
    }

    @Test
    void hypernetworkExperimentTrainsThroughTheSharedLoopAndDefaultsToMip(@TempDir Path dir) throws Exception {
        String json = "{\"type\": \"hypernetwork\","
                + " \"target\": {\"type\": \"test-mlp\", \"sizes\": [1, 8, 1], \"activation\": \"relu\"},"
                + " \"generate\": {\"kinds\": [\"weight\"]},"
                + " \"task\": {\"type\": \"loss-weighting\"}, \"contextsPerStep\": 4, \"pointsPerContext\": 8}";
        ExperimentSpec spec = specs.read(json, ExperimentSpec.class, "experiment.json");
        Objective objective = spec.build(new BuildContext(engine, specs, dir, 0));
        HyperObjective hyper = (HyperObjective) objective;
        assertTrue(hyper.hypernetwork() instanceof MipHyperNetwork, "MIP is the default for scalar conditions");
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(1e-3), 3)) {
            assertTrue(loop.params().names().containsAll(List.of("hyper.theta0.0.weight", "hyper.net.0.weight", "target.0.bias")),
                    loop.params().names().toString());
            double before = loop.evaluate().get("mse");
            for (int i = 0; i < 30; i++) {
                assertTrue(Double.isFinite(loop.step()));
            }
            assertTrue(loop.evaluate().get("mse") < before, "30 steps should lower the evaluation MSE from " + before);
        }
        // θ0 from a safetensors file of the target's weights.
        Mlp mlp = Mlp.of(List.of(1, 8, 1), Activation.RELU);
        Params pretrained = mlp.init(engine, RandomStream.of(9)).filter(n -> n.endsWith("weight"));
        Safetensors.writeTensors(dir.resolve("theta0.safetensors"), pretrained.asMap(), Map.of());
        ExperimentSpec withTheta0 = specs.read(json.replace("\"contextsPerStep\"", "\"theta0\": \"theta0.safetensors\", \"contextsPerStep\""),
                ExperimentSpec.class, "experiment.json");
        Params init = withTheta0.build(new BuildContext(engine, specs, dir, 0)).init(RandomStream.of(1));
        for (String name : pretrained.names()) {
            assertArrayEquals(pretrained.get(name).toDoubles(), init.get("hyper.theta0." + name).toDoubles(), 0.0);
        }

        // Issue 13: a missing or invalid θ0 file was an untranslated UncheckedIOException; now a SpecException naming field and file.
        ExperimentSpec missing = specs.read(json.replace("\"contextsPerStep\"", "\"theta0\": \"nope.safetensors\", \"contextsPerStep\""),
                ExperimentSpec.class, "experiment.json");
        SpecException absent = assertThrows(SpecException.class, () -> missing.build(new BuildContext(engine, specs, dir, 0)));
        assertEquals("$.experiment.theta0", absent.jsonPath());
        assertTrue(absent.getMessage().contains(dir.resolve("nope.safetensors") + " does not exist"), absent.getMessage());
        java.nio.file.Files.writeString(dir.resolve("bad.safetensors"), "not safetensors");
        ExperimentSpec bad = specs.read(json.replace("\"contextsPerStep\"", "\"theta0\": \"bad.safetensors\", \"contextsPerStep\""),
                ExperimentSpec.class, "experiment.json");
        SpecException invalid = assertThrows(SpecException.class, () -> bad.build(new BuildContext(engine, specs, dir, 0)));
        assertTrue(invalid.getMessage().contains("invalid safetensors file " + dir.resolve("bad.safetensors")), invalid.getMessage());
    }

    @Test
    void continualExperimentBuildsFromJson(@TempDir Path dir) {
        String json = "{\"type\": \"continual\","
                + " \"target\": {\"type\": \"test-mlp\", \"sizes\": [2, 4, 2], \"activation\": \"relu\"},"
                + " \"hypernetwork\": {\"type\": \"hyperinterval\", \"tasks\": 2, \"embeddingSize\": 3, \"hidden\": [6]},"
                + " \"tasks\": {\"type\": \"split-blobs\", \"tasks\": 2, \"evaluationSize\": 20},"
                + " \"stepsPerTask\": 3, \"batchSize\": 8, \"regularization\": 0.1}";
        ExperimentSpec spec = specs.read(json, ExperimentSpec.class, "continual.json");
        assertEquals(spec, specs.read(specs.write(spec), ExperimentSpec.class, "written"));
        ContinualObjective objective = (ContinualObjective) spec.build(new BuildContext(engine, specs, dir, 0));
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(1e-2), 1)) {
            for (int i = 0; i < 6; i++) {
                loop.step();
            }
            assertEquals(1, objective.state().get("snapshot.center.0.weight").dim(0));
            assertTrue(loop.evaluate().containsKey("universal.accuracy"));
        } finally {
            objective.close();
        }
        IllegalArgumentException notConditioned = assertThrows(IllegalArgumentException.class, () -> specs.read(json.replace(
                "{\"type\": \"hyperinterval\", \"tasks\": 2, \"embeddingSize\": 3, \"hidden\": [6]}",
                "{\"type\": \"hmlp\", \"contextSize\": 2}"), ExperimentSpec.class, "c.json").build(new BuildContext(engine, specs, dir, 0)));
        assertTrue(notConditioned.getMessage().contains("task-conditioned"), notConditioned.getMessage());
    }
}
