package dev.metaforge.plugins.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.optim.OptimizerSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The core plugin's specs, read through the registry that ServiceLoader assembles, as the CLI does. */
class CoreSpecsTest {
    private final SpecRegistry specs = SpecRegistry.load(CoreSpecsTest.class.getClassLoader());
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);

    private <T> T read(String json, Class<T> type) {
        return specs.read(json, type, "spec.json");
    }

    @Test
    void registersItsNamesThroughServiceLoader() {
        assertTrue(specs.names(ModuleSpec.class).containsAll(List.of("activation", "linear", "mlp", "sequential")),
                specs.names(ModuleSpec.class).toString());
        assertTrue(specs.names(OptimizerSpec.class).containsAll(List.of("adam", "adamw", "sgd")));
        assertTrue(specs.names(ExperimentSpec.class).contains("regression"));
    }

    @Test
    void readsModulesWithDefaults() {
        MlpSpec mlp = (MlpSpec) read("{\"type\": \"mlp\", \"sizes\": [2, 5, 1]}", ModuleSpec.class);
        assertEquals(new MlpSpec(List.of(2, 5, 1), "relu", "identity", "torch"), mlp);
        Module built = mlp.build();
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), built.parameters().stream().map(ParamSpec::name).toList());
        assertEquals(Shape.of(2, 5), built.parameters().get(0).shape());

        LinearSpec linear = (LinearSpec) read("{\"type\": \"linear\", \"in\": 3, \"out\": 4, \"bias\": false, \"init\": \"XAVIER\"}",
                ModuleSpec.class);
        assertEquals(new LinearSpec(3, 4, false, "xavier"), linear);
        assertEquals(1, linear.build().parameters().size());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"type\": \"mlp\", \"sizes\": [1, 8, 1], \"activation\": \"tanh\", \"outputActivation\": \"sigmoid\", \"init\": \"kaiming_uniform_fan_out\"}",
        "{\"type\": \"linear\", \"in\": 3, \"out\": 4, \"bias\": true, \"init\": \"torch\"}",
        "{\"type\": \"sequential\", \"layers\": [{\"type\": \"linear\", \"in\": 1, \"out\": 3}, {\"type\": \"activation\", \"function\": \"sin\"}]}",
        "{\"type\": \"activation\", \"function\": \"leaky_relu\"}"})
    void modulesSurviveWritingAndReadingBack(String json) {
        ModuleSpec spec = read(json, ModuleSpec.class);
        assertEquals(spec, read(specs.write(spec), ModuleSpec.class));
    }

    /** Each initialisation stays within its bound and comes close to it (200 uniform draws). */
    @ParameterizedTest
    @CsvSource({"torch, 0.1414213562", "kaiming_uniform_fan_in, 0.3464101615", "kaiming_uniform_fan_out, 1.2247448714",
                "xavier, 0.3333333333"})
    void initialisationsUseTheirBounds(String init, double bound) {
        // in = 50, out = 4: torch 1/sqrt(50), kaiming fan_in sqrt(6/50), fan_out sqrt(6/4), xavier sqrt(6/54)
        Module linear = new LinearSpec(50, 4, true, init).build();
        try (Scope scope = Scope.open()) {
            double[] w = linear.init(engine, RandomStream.of(1)).get("weight").toDoubles();
            double max = 0;
            for (double v : w) {
                max = Math.max(max, Math.abs(v));
            }
            assertTrue(max <= bound && max > 0.9 * bound, init + ": max |w| " + max + " vs bound " + bound);
        }
    }

    /** A sequential [linear 1->3, tanh, linear 3->1] against the same network written as float64 loops. */
    @Test
    void sequentialAppliesItsLayersInOrder() {
        Module net = read("{\"type\": \"sequential\", \"layers\": [{\"type\": \"linear\", \"in\": 1, \"out\": 3},"
                + " {\"type\": \"activation\", \"function\": \"tanh\"}, {\"type\": \"linear\", \"in\": 3, \"out\": 1}]}", ModuleSpec.class).build();
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), net.parameters().stream().map(ParamSpec::name).toList());
        try (Scope scope = Scope.open()) {
            Params p = net.init(engine, RandomStream.of(3));
            double[] w0 = p.get("0.weight").toDoubles();
            double[] b0 = p.get("0.bias").toDoubles();
            double[] w2 = p.get("2.weight").toDoubles();
            double b2 = p.get("2.bias").item();
            double[] xs = {-1.5, 0.25, 2.0};
            Tensor y = net.apply(p, engine.tensor(xs, 3, 1));
            for (int n = 0; n < xs.length; n++) {
                double expected = b2;
                for (int j = 0; j < 3; j++) {
                    expected += Math.tanh(xs[n] * w0[j] + b0[j]) * w2[j];
                }
                assertEquals(expected, y.toDoubles()[n], 1e-12);
            }
        }
    }

    @Test
    void unknownTypesAndFieldsNameThePathAndTheKnownNames() {
        String optimizer = "\"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.01}, \"steps\": 5";
        SpecException type = assertThrows(SpecException.class, () -> read("{\"experiment\": {\"type\": \"regression\","
                + " \"model\": {\"type\": \"mlpp\"}, \"task\": {\"function\": \"sin\"}}, " + optimizer + "}", TrainSpec.class));
        assertEquals("$.experiment.model", type.jsonPath());
        assertTrue(type.getMessage().contains("unknown type 'mlpp'") && type.getMessage().contains("linear")
                && type.getMessage().contains("mlp") && type.getMessage().contains("sequential"), type.getMessage());

        SpecException field = assertThrows(SpecException.class, () -> read("{\"experiment\": {\"type\": \"regression\","
                + " \"model\": {\"type\": \"mlp\", \"sizes\": [1, 1], \"activaton\": \"relu\"}, \"task\": {\"function\": \"sin\"}}, "
                + optimizer + "}", TrainSpec.class));
        assertEquals("$.experiment.model.activaton", field.jsonPath());
        assertTrue(field.getMessage().contains("unknown field 'activaton'") && field.getMessage().contains("activation"), field.getMessage());

        SpecException taskField = assertThrows(SpecException.class, () -> read("{\"experiment\": {\"type\": \"regression\","
                + " \"model\": {\"type\": \"mlp\", \"sizes\": [1, 1]}, \"task\": {\"function\": \"sin\", \"xmin\": 0}}, "
                + optimizer + "}", TrainSpec.class));
        assertEquals("$.experiment.task.xmin", taskField.jsonPath());
        assertTrue(taskField.getMessage().contains("xMin"), taskField.getMessage());

        SpecException optimizerType = assertThrows(SpecException.class, () -> read("{\"type\": \"adagrad\"}", OptimizerSpec.class));
        assertTrue(optimizerType.getMessage().contains("[adam, adamw, sgd]"), optimizerType.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown activation | {\"type\": \"mlp\", \"sizes\": [1, 2], \"activation\": \"relu6\"}   | field 'activation': unknown activation 'relu6'; known: [identity, relu",
        "unknown init       | {\"type\": \"mlp\", \"sizes\": [1, 2], \"init\": \"he\"}              | field 'init' is 'he', not a known initialisation; known: [torch, kaiming_uniform_fan_in, kaiming_uniform_fan_out, xavier]",
        "one size           | {\"type\": \"mlp\", \"sizes\": [4]}                                   | field 'sizes' needs at least the input and output widths",
        "zero width         | {\"type\": \"mlp\", \"sizes\": [1, 0, 1]}                             | field 'sizes' must hold positive widths, got 0 at index 1",
        "missing sizes      | {\"type\": \"mlp\"}                                                  | field 'sizes' is required",
        "missing in         | {\"type\": \"linear\", \"out\": 2}                                   | field 'in' is required",
        "negative out       | {\"type\": \"linear\", \"in\": 1, \"out\": -2}                       | field 'out' must be > 0, got -2",
        "empty sequential   | {\"type\": \"sequential\", \"layers\": []}                           | field 'layers' must hold at least one module",
        "missing function   | {\"type\": \"activation\"}                                           | field 'function' is required"})
    void invalidModuleFieldsAreNamed(String name, String json, String expected) {
        SpecException e = assertThrows(SpecException.class, () -> read(json, ModuleSpec.class));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "missing learning rate | {\"type\": \"adam\"}                                       | field 'learningRate' is required",
        "negative rate         | {\"type\": \"sgd\", \"learningRate\": -0.1}                | field 'learningRate' must be a finite number > 0, got -0.1",
        "beta out of range     | {\"type\": \"adamw\", \"learningRate\": 0.1, \"beta2\": 1} | field 'beta2' must be in [0, 1), got 1.0",
        "negative momentum     | {\"type\": \"sgd\", \"learningRate\": 0.1, \"momentum\": -1} | field 'momentum' must be a finite number >= 0"})
    void invalidOptimizerFieldsAreNamed(String name, String json, String expected) {
        SpecException e = assertThrows(SpecException.class, () -> read(json, OptimizerSpec.class));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void optimizerDefaultsMatchPyTorch() {
        assertEquals(new AdamSpec(0.01, 0.9, 0.999, 1e-8, 0.0), read("{\"type\": \"adam\", \"learningRate\": 0.01}", OptimizerSpec.class));
        assertEquals(new AdamWSpec(0.01, 0.9, 0.999, 1e-8, 0.01), read("{\"type\": \"adamw\", \"learningRate\": 0.01}", OptimizerSpec.class));
        assertEquals(new SgdSpec(0.1, 0.0, 0.0), read("{\"type\": \"sgd\", \"learningRate\": 0.1}", OptimizerSpec.class));
    }

    @Test
    void regressionTaskFieldsAreValidated() {
        SpecException function = assertThrows(SpecException.class, () -> read("{\"type\": \"regression\", \"model\": {\"type\": \"mlp\","
                + " \"sizes\": [1, 1]}, \"task\": {\"function\": \"sine\"}}", ExperimentSpec.class));
        assertTrue(function.getMessage().contains("'sine', not a known function; known: [sin, cos, tanh, square, cube, abs, gaussian, sinc]"),
                function.getMessage());
        SpecException range = assertThrows(SpecException.class, () -> read("{\"type\": \"regression\", \"model\": {\"type\": \"mlp\","
                + " \"sizes\": [1, 1]}, \"task\": {\"function\": \"sin\", \"xMin\": 2, \"xMax\": 1}}", ExperimentSpec.class));
        assertTrue(range.getMessage().contains("xMin < xMax"), range.getMessage());
        SpecException model = assertThrows(SpecException.class, () -> read("{\"type\": \"regression\", \"task\": {\"function\": \"sin\"}}",
                ExperimentSpec.class));
        assertTrue(model.getMessage().contains("field 'model' is required"), model.getMessage());
    }
}
