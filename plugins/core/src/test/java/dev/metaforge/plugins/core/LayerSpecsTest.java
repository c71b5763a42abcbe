package dev.metaforge.plugins.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.nn.TransformerBlock;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The layer specs (conv2d ... transformer-block), read through the ServiceLoader-assembled registry as the CLI reads them. */
class LayerSpecsTest {
    private final SpecRegistry specs = SpecRegistry.load(LayerSpecsTest.class.getClassLoader());
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);

    private ModuleSpec read(String json) {
        return specs.read(json, ModuleSpec.class, "spec.json");
    }

    @Test
    void registersEveryLayerName() {
        assertTrue(specs.names(ModuleSpec.class).containsAll(List.of("conv2d", "maxpool2d", "avgpool2d", "batchnorm", "layernorm",
                "dropout", "embedding", "flatten", "residual", "attention", "transformer-block")), specs.names(ModuleSpec.class).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"type\": \"conv2d\", \"inChannels\": 4, \"outChannels\": 6, \"kernel\": [3, 2], \"stride\": [2, 1], \"padding\": 1,"
                + " \"dilation\": [1, 2], \"groups\": 2, \"bias\": false, \"init\": \"xavier\"}",
        "{\"type\": \"maxpool2d\", \"kernel\": 3, \"stride\": 2, \"padding\": 1}",
        "{\"type\": \"avgpool2d\", \"kernel\": [2, 4]}",
        "{\"type\": \"batchnorm\", \"features\": 8, \"eps\": 0.001, \"momentum\": 0.2, \"affine\": false}",
        "{\"type\": \"layernorm\", \"features\": 8, \"eps\": 1e-6}",
        "{\"type\": \"dropout\", \"p\": 0.25}",
        "{\"type\": \"embedding\", \"vocab\": 50, \"dim\": 8}",
        "{\"type\": \"flatten\", \"startAxis\": -3}",
        "{\"type\": \"residual\", \"inner\": {\"type\": \"sequential\", \"layers\": [{\"type\": \"linear\", \"in\": 4, \"out\": 4},"
                + " {\"type\": \"activation\", \"function\": \"relu\"}]}}",
        "{\"type\": \"attention\", \"d\": 8, \"heads\": 2, \"causal\": true}",
        "{\"type\": \"transformer-block\", \"d\": 8, \"heads\": 4, \"dropout\": 0.1, \"causal\": true}"})
    void layersSurviveWritingAndReadingBack(String json) {
        ModuleSpec spec = read(json);
        assertEquals(spec, read(specs.write(spec)));
    }

    @Test
    void defaultsFollowPyTorch() {
        assertEquals(new Conv2dSpec(3, 8, List.of(5, 5), List.of(1, 1), List.of(0, 0), List.of(1, 1), 1, true, "torch"),
                read("{\"type\": \"conv2d\", \"inChannels\": 3, \"outChannels\": 8, \"kernel\": 5}"));
        assertEquals(new MaxPool2dSpec(List.of(2, 3), List.of(2, 3), List.of(0, 0)), read("{\"type\": \"maxpool2d\", \"kernel\": [2, 3]}"),
                "the stride defaults to the kernel");
        assertEquals(new BatchNormSpec(4, 1e-5, 0.1, true), read("{\"type\": \"batchnorm\", \"features\": 4}"));
        assertEquals(new LayerNormSpec(4, 1e-5, true), read("{\"type\": \"layernorm\", \"features\": 4}"));
        assertEquals(new DropoutSpec(0.5), read("{\"type\": \"dropout\"}"));
        assertEquals(new FlattenSpec(1, -1), read("{\"type\": \"flatten\"}"));
        assertEquals(new AttentionSpec(8, 2, false, true), read("{\"type\": \"attention\", \"d\": 8, \"heads\": 2}"));
        assertEquals(new TransformerBlockSpec(8, 2, 32, 0.0, false), read("{\"type\": \"transformer-block\", \"d\": 8, \"heads\": 2}"),
                "the feed-forward width defaults to 4 d");
    }

    @Test
    void specsBuildTheLayersTheyDescribe() {
        Conv2d conv = (Conv2d) read("{\"type\": \"conv2d\", \"inChannels\": 4, \"outChannels\": 6, \"kernel\": [3, 2], \"stride\": [2, 1],"
                + " \"padding\": 1, \"dilation\": [1, 2], \"groups\": 2}").build();
        assertEquals(Shape.of(6, 2, 3, 2), conv.parameters().get(0).shape());
        assertEquals(List.of(2, 1), List.of(conv.options().stride()[0], conv.options().stride()[1]));
        assertEquals(List.of(1, 2), List.of(conv.options().dilation()[0], conv.options().dilation()[1]));
        assertEquals(List.of(1, 1), List.of(conv.options().padding()[0], conv.options().padding()[1]));
        assertEquals(2, conv.options().groups());
        assertEquals(new TransformerBlock(8, 2, 32, 0.0, true),
                read("{\"type\": \"transformer-block\", \"d\": 8, \"heads\": 2, \"causal\": true}").build());
        Module residual = read("{\"type\": \"residual\", \"inner\": {\"type\": \"batchnorm\", \"features\": 3}}").build();
        assertEquals(List.of("inner.weight", "inner.bias"), residual.parameters().stream().map(ParamSpec::name).toList());
        assertEquals(List.of("inner.running_mean", "inner.running_var"), residual.stateSpecs().stream().map(StateSpec::name).toList());
    }

    /** A small CNN read from JSON trains a step with state and evaluates: the layers compose through Sequential. */
    @Test
    void aConvolutionalNetworkFromJsonRunsWithState() {
        Module net = read("{\"type\": \"sequential\", \"layers\": ["
                + "{\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 4, \"kernel\": 3, \"padding\": 1},"
                + "{\"type\": \"batchnorm\", \"features\": 4}, {\"type\": \"activation\", \"function\": \"relu\"},"
                + "{\"type\": \"maxpool2d\", \"kernel\": 2}, {\"type\": \"dropout\", \"p\": 0.2}, {\"type\": \"flatten\"},"
                + "{\"type\": \"linear\", \"in\": 16, \"out\": 3}]}").build();
        try (Scope s = Scope.open()) {
            Params p = net.init(engine, RandomStream.of(1));
            Tensor x = engine.uniform(Shape.of(5, 1, 4, 4), -1, 1, 2);
            ModuleOutput train = net.forward(p, x, ModuleCall.train(net.initState(engine, 0), RandomStream.of(3)));
            assertEquals(Shape.of(5, 3), train.output().shape());
            assertEquals(List.of("1.running_mean", "1.running_var"), train.state().names());
            assertEquals(Shape.of(5, 3), net.forward(p, x, ModuleCall.eval(train.state())).output().shape());
            assertEquals(16, net.structure().group("5.out").size());
        }
    }

    /** Shapes that only the input reveals are clear errors at the first call, naming the shapes. */
    @Test
    void mismatchedShapesFailAtTheFirstCallNamingThem() {
        Module net = read("{\"type\": \"sequential\", \"layers\": ["
                + "{\"type\": \"conv2d\", \"inChannels\": 3, \"outChannels\": 8, \"kernel\": 3},"
                + "{\"type\": \"conv2d\", \"inChannels\": 4, \"outChannels\": 2, \"kernel\": 3}]}").build();
        try (Scope s = Scope.open()) {
            Params p = net.init(engine, RandomStream.of(1));
            IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                    () -> net.apply(p, engine.zeros(2, 3, 9, 9)));
            assertTrue(channels.getMessage().contains("[2, 8, 7, 7]") && channels.getMessage().contains("has 8 channels"),
                    channels.getMessage());
            Module conv = read("{\"type\": \"conv2d\", \"inChannels\": 3, \"outChannels\": 8, \"kernel\": 5}").build();
            IllegalArgumentException kernel = assertThrows(IllegalArgumentException.class,
                    () -> conv.apply(conv.init(engine, RandomStream.of(2)), engine.zeros(1, 3, 4, 4)));
            assertTrue(kernel.getMessage().contains("[1, 3, 4, 4]") && kernel.getMessage().contains("5x5"), kernel.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "conv2d without inChannels | {\"type\": \"conv2d\", \"outChannels\": 2, \"kernel\": 3}                          | field 'inChannels' is required",
        "conv2d without kernel     | {\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2}                      | field 'kernel' is required",
        "conv2d zero channels      | {\"type\": \"conv2d\", \"inChannels\": 0, \"outChannels\": 2, \"kernel\": 3}       | field 'inChannels' must be > 0, got 0",
        "conv2d zero kernel        | {\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2, \"kernel\": [3, 0]}  | field 'kernel' must hold integers >= 1, got [3, 0]",
        "conv2d three sizes        | {\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2, \"kernel\": [3, 3, 3]} | field 'kernel' must be one integer or two [height, width]",
        "conv2d negative padding   | {\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2, \"kernel\": 3, \"padding\": -1} | field 'padding' must hold integers >= 0",
        "conv2d zero stride        | {\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2, \"kernel\": 3, \"stride\": 0} | field 'stride' must hold integers >= 1",
        "conv2d groups vs in       | {\"type\": \"conv2d\", \"inChannels\": 8, \"outChannels\": 6, \"kernel\": 3, \"groups\": 3} | field 'groups': 3 does not divide inChannels = 8",
        "conv2d groups vs out      | {\"type\": \"conv2d\", \"inChannels\": 6, \"outChannels\": 4, \"kernel\": 3, \"groups\": 3} | field 'groups': 3 does not divide outChannels = 4",
        "conv2d zero groups        | {\"type\": \"conv2d\", \"inChannels\": 6, \"outChannels\": 4, \"kernel\": 3, \"groups\": 0} | field 'groups' must be > 0, got 0",
        "conv2d unknown init       | {\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2, \"kernel\": 3, \"init\": \"he\"} | field 'init' is 'he'",
        "maxpool2d without kernel  | {\"type\": \"maxpool2d\"}                                                          | field 'kernel' is required",
        "maxpool2d wide padding    | {\"type\": \"maxpool2d\", \"kernel\": 2, \"padding\": 2}                            | field 'padding' must be at most half the kernel [2, 2], got [2, 2]",
        "avgpool2d zero stride     | {\"type\": \"avgpool2d\", \"kernel\": 2, \"stride\": 0}                             | field 'stride' must hold integers >= 1",
        "batchnorm zero features   | {\"type\": \"batchnorm\", \"features\": 0}                                         | field 'features' must be > 0, got 0",
        "batchnorm without features | {\"type\": \"batchnorm\"}                                                        | field 'features' is required",
        "batchnorm momentum        | {\"type\": \"batchnorm\", \"features\": 2, \"momentum\": 1.5}                       | field 'momentum' must be in [0, 1], got 1.5",
        "batchnorm eps             | {\"type\": \"batchnorm\", \"features\": 2, \"eps\": 0}                              | field 'eps' must be a finite number > 0, got 0.0",
        "layernorm negative        | {\"type\": \"layernorm\", \"features\": -4}                                        | field 'features' must be > 0, got -4",
        "dropout one               | {\"type\": \"dropout\", \"p\": 1}                                                   | field 'p' must be in [0, 1), got 1.0",
        "dropout negative          | {\"type\": \"dropout\", \"p\": -0.1}                                                | field 'p' must be in [0, 1), got -0.1",
        "embedding zero vocab      | {\"type\": \"embedding\", \"vocab\": 0, \"dim\": 4}                                 | field 'vocab' must be > 0, got 0",
        "embedding without dim     | {\"type\": \"embedding\", \"vocab\": 4}                                            | field 'dim' is required",
        "flatten reversed axes     | {\"type\": \"flatten\", \"startAxis\": 2, \"endAxis\": 1}                           | field 'endAxis' (1) must not come before field 'startAxis' (2)",
        "residual without inner    | {\"type\": \"residual\"}                                                           | field 'inner' is required",
        "attention heads           | {\"type\": \"attention\", \"d\": 64, \"heads\": 6}                                  | field 'heads': 6 does not divide d = 64",
        "attention zero width      | {\"type\": \"attention\", \"d\": 0, \"heads\": 2}                                   | field 'd' must be > 0, got 0",
        "block heads               | {\"type\": \"transformer-block\", \"d\": 64, \"heads\": 6}                          | field 'heads': 6 does not divide d = 64",
        "block zero heads          | {\"type\": \"transformer-block\", \"d\": 64, \"heads\": 0}                          | field 'heads' must be > 0, got 0",
        "block zero hidden         | {\"type\": \"transformer-block\", \"d\": 8, \"heads\": 2, \"hidden\": 0}            | field 'hidden' must be > 0, got 0",
        "block dropout             | {\"type\": \"transformer-block\", \"d\": 8, \"heads\": 2, \"dropout\": 1.0}         | field 'dropout' must be in [0, 1), got 1.0",
        "unknown conv2d field      | {\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2, \"kernel\": 3, \"kernelSize\": 3} | unknown field 'kernelSize'"})
    void invalidLayerFieldsAreNamed(String name, String json, String expected) {
        SpecException e = assertThrows(SpecException.class, () -> read(json));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }
}
