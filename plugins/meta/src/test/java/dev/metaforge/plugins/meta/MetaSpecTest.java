package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.core.CorePlugin;
import dev.metaforge.spi.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The JSON specs of the family: names, defaults, strict errors, round trips, and that each builds a working objective. */
class MetaSpecTest {
    // The labelled datasets (gaussian-clusters, idx, image-folder) come from the core plugin.
    private final SpecRegistry specs = SpecRegistry.of(List.of(new MetaPlugin(), new CorePlugin(), new TestModules()));
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final BuildContext context = new BuildContext(engine, specs, Path.of("."), 0);

    private static final String SINUSOID_MODEL = "\"model\": {\"type\": \"test-mlp\", \"sizes\": [1, 8, 1], \"activation\": \"relu\"},"
            + " \"tasks\": {\"type\": \"sinusoid\", \"k\": 5}, \"metaBatch\": 3, \"evalTasks\": 7";
    private static final String CLUSTERS = "{\"type\": \"few-shot\", \"ways\": 3, \"shots\": 2, \"queries\": 2,"
            + " \"dataset\": {\"type\": \"gaussian-clusters\", \"fromClass\": %d, \"toClass\": %d, \"examplesPerClass\": 6,"
            + " \"informativeDims\": 2, \"noiseDims\": 2}}";

    static String experiment(String type) {
        return switch (type) {
            case "maml" -> "{\"type\": \"maml\", " + SINUSOID_MODEL + ", \"innerSteps\": 2, \"firstOrder\": true}";
            case "meta-sgd" -> "{\"type\": \"meta-sgd\", " + SINUSOID_MODEL + "}";
            case "anil" -> "{\"type\": \"anil\", " + SINUSOID_MODEL + ", \"headPrefix\": \"1.\"}";
            case "reptile" -> "{\"type\": \"reptile\", " + SINUSOID_MODEL + ", \"innerSteps\": 3}";
            case "protonet" -> "{\"type\": \"protonet\", \"model\": {\"type\": \"test-mlp\", \"sizes\": [4, 6, 3], \"activation\": \"tanh\"},"
                    + " \"tasks\": " + String.format(CLUSTERS, 0, 8) + ", \"evalSampler\": " + String.format(CLUSTERS, 8, 12)
                    + ", \"metaBatch\": 2, \"evalTasks\": 5}";
            default -> throw new IllegalArgumentException(type);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"maml", "meta-sgd", "anil", "reptile", "protonet"})
    void everyExperimentReadsBuildsTrainsAndEvaluates(String type) {
        ExperimentSpec spec = specs.read(experiment(type), ExperimentSpec.class, type + ".json");
        assertEquals(spec, specs.read(specs.write(spec), ExperimentSpec.class, "round trip"), "write then read gives the same spec");
        Objective objective = spec.build(context);
        try (Scope ignored = Scope.open()) {
            Params params = objective.init(RandomStream.of(0));
            Tensor loss = objective.loss(params.requiringGrad(), 0, RandomStream.of(1));
            assertTrue(Double.isFinite(loss.item()) && loss.size() == 1, type + " loss " + loss);
            Map<String, Double> metrics = objective.evaluate(params);
            List<String> expected = switch (type) {
                case "protonet" -> List.of("loss", "accuracy");
                default -> List.of("mse_after_1", "mse_after_10");
            };
            assertEquals(expected, List.copyOf(metrics.keySet()));
            metrics.values().forEach(v -> assertTrue(Double.isFinite(v), type + " metrics " + metrics));
        }
    }

    @Test
    void omittedFieldsTakeThePapersDefaults() {
        MamlExperimentSpec maml = (MamlExperimentSpec) specs.read("{\"type\": \"maml\", \"model\": {\"type\": \"test-mlp\","
                + " \"sizes\": [1, 40, 40, 1], \"activation\": \"relu\"}, \"tasks\": {\"type\": \"sinusoid\"}}", ExperimentSpec.class, "m");
        assertEquals(1, maml.innerSteps());
        assertEquals(0.01, maml.innerLr());
        assertEquals(false, maml.firstOrder());
        assertEquals(25, maml.metaBatch());
        assertEquals(1000, maml.evalTasks());
        assertEquals(List.of(1, 10), maml.evalSteps());
        SinusoidTasksSpec tasks = assertInstanceOf(SinusoidTasksSpec.class, maml.tasks());
        assertEquals(new SinusoidTasksSpec(10, 10, 0.1, 5.0, Math.PI, -5.0, 5.0), tasks);
    }

    @Test
    void unknownNamesAndFieldsAreErrorsNamingWhatIsKnown() {
        SpecException type = assertThrows(SpecException.class, () -> specs.read(
                "{\"type\": \"maml\", \"model\": {\"type\": \"test-mlp\", \"sizes\": [1, 1], \"activation\": \"relu\"},"
                        + " \"tasks\": {\"type\": \"sinewave\"}}", ExperimentSpec.class, "bad.json"));
        assertEquals("$.tasks", type.jsonPath());
        assertTrue(type.getMessage().contains("[few-shot, sinusoid]"), type.getMessage());
        SpecException field = assertThrows(SpecException.class, () -> specs.read(
                "{\"type\": \"reptile\", \"model\": {\"type\": \"test-mlp\", \"sizes\": [1, 1], \"activation\": \"relu\"},"
                        + " \"tasks\": {\"type\": \"sinusoid\"}, \"firstOrder\": true}", ExperimentSpec.class, "bad.json"));
        assertTrue(field.getMessage().contains("unknown field 'firstOrder'") && field.getMessage().contains("innerLr"), field.getMessage());
        SpecException missing = assertThrows(SpecException.class, () -> specs.read(
                "{\"type\": \"maml\", \"tasks\": {\"type\": \"sinusoid\"}}", ExperimentSpec.class, "bad.json"));
        assertTrue(missing.getMessage().contains("\"model\""), missing.getMessage());
    }

    @Test
    void aPrototypicalNetworkOnRegressionTasksIsAClearError() {
        ExperimentSpec spec = specs.read("{\"type\": \"protonet\", \"model\": {\"type\": \"test-mlp\", \"sizes\": [1, 4],"
                + " \"activation\": \"relu\"}, \"tasks\": {\"type\": \"sinusoid\"}}", ExperimentSpec.class, "p.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spec.build(context));
        assertTrue(e.getMessage().contains("few-shot"), e.getMessage());
    }

    @Test
    void theExampleSpecIsFinnsSettingAndTrains() {
        // examples/maml-sinusoid.json, read as `metaforge train` reads it (every plugin on the classpath).
        SpecRegistry all = SpecRegistry.load(getClass().getClassLoader());
        Path file = Path.of("..", "..", "examples", "maml-sinusoid.json");
        TrainSpec train = all.read(file, TrainSpec.class);
        assertEquals(10_000, train.steps());
        MamlExperimentSpec maml = assertInstanceOf(MamlExperimentSpec.class, train.experiment());
        assertEquals(List.of(1, 10), maml.evalSteps());
        assertEquals(1000, maml.evalTasks());
        assertEquals(25, maml.metaBatch());
        assertEquals(new SinusoidTasksSpec(10, MamlSinusoid.QUERY_POINTS, 0.1, 5.0, Math.PI, -5.0, 5.0), maml.tasks());
        BuildContext fileContext = new BuildContext(engine, all, file.getParent(), train.seed());
        MetaObjective objective = assertInstanceOf(MetaObjective.class, maml.build(fileContext));
        Maml learner = assertInstanceOf(Maml.class, objective.learner());
        assertEquals(List.of(1, 0.01, false, TaskLoss.MSE), List.of(learner.innerSteps(), learner.innerLr(), learner.firstOrder(), learner.loss()));
        Mlp network = assertInstanceOf(Mlp.class, learner.module());
        assertEquals(List.of(1, 40, 40, 1), network.sizes());
        assertEquals(Activation.RELU, network.hidden());
        try (TrainingLoop loop = TrainingLoop.start(objective, train.optimizer().build(), train.seed())) {
            double first = loop.step();
            for (int i = 0; i < 4; i++) {
                loop.step();
            }
            assertTrue(Double.isFinite(first), "meta-loss " + first);
        }
    }

    @Test
    void thePluginRegistersItsNamesThroughTheServiceLoader() {
        SpecRegistry loaded = SpecRegistry.load(getClass().getClassLoader());
        assertTrue(loaded.names(ExperimentSpec.class).containsAll(List.of("anil", "maml", "meta-sgd", "protonet", "reptile")),
                loaded.names(ExperimentSpec.class).toString());
        assertEquals(List.of("few-shot", "sinusoid"), loaded.names(TaskSamplerSpec.class));
        assertEquals(List.of("gaussian-clusters", "idx", "image-folder"), loaded.names(LabelledDatasetSpec.class));
    }
}
