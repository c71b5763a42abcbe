package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.ParamLayout;
import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Any module as a hypernetwork target: selection, merging, weight batches and shape errors. */
class HyperTargetTest {
    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = HyperFixtures.engine();
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static List<String> names(List<ParamSpec> specs) {
        return specs.stream().map(ParamSpec::name).toList();
    }

    @Test
    void selectsAllByNameOrByKind() {
        Mlp mlp = Mlp.of(List.of(2, 3, 1), Activation.RELU);
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), names(HyperTarget.of(mlp).generated()));
        HyperTarget weights = new HyperTarget(mlp, ParamSelection.kinds(ParamKind.WEIGHT));
        assertEquals(List.of("0.weight", "1.weight"), names(weights.generated()));
        assertEquals(List.of("0.bias", "1.bias"), names(weights.ordinary()));
        HyperTarget one = new HyperTarget(mlp, ParamSelection.names("1.bias"));
        assertEquals(List.of("1.bias"), names(one.generated()));
        assertEquals(2 * 3 + 3 * 1, weights.generatedCount());
    }

    @Test
    void unknownNameAndEmptySelectionAreClearErrors() {
        Mlp mlp = Mlp.of(List.of(2, 3, 1), Activation.RELU);
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> new HyperTarget(mlp, ParamSelection.names("2.weight")));
        assertTrue(unknown.getMessage().contains("'2.weight'") && unknown.getMessage().contains("0.weight [2, 3] weight"),
                unknown.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> new HyperTarget(mlp, ParamSelection.kinds(ParamKind.EMBEDDING)));
        assertTrue(none.getMessage().contains("matches no parameter"), none.getMessage());
    }

    @Test
    void mergedParametersReproduceTheModuleExactly() {
        // The module itself with all parameters is the reference.
        Sequential net = Sequential.of(Linear.of(2, 3), Activation.TANH, Linear.of(3, 2));
        Params all = net.init(engine, RandomStream.of(4));
        HyperTarget target = new HyperTarget(net, ParamSelection.kinds(ParamKind.WEIGHT));
        Params generated = all.filter(n -> n.endsWith("weight"));
        Params ordinary = all.filter(n -> n.endsWith("bias"));
        Tensor x = HyperFixtures.uniform(engine, 5, 6, 2);
        assertArrayEquals(net.apply(all, x).toDoubles(), target.apply(generated, ordinary, x).toDoubles(), 0.0);
    }

    @Test
    void ordinaryParametersAreSharedAcrossAWeightBatch() {
        Mlp mlp = Mlp.of(List.of(2, 3, 1), Activation.RELU);
        HyperTarget target = new HyperTarget(mlp, ParamSelection.kinds(ParamKind.WEIGHT));
        Params a = mlp.init(engine, RandomStream.of(1));
        Params b = mlp.init(engine, RandomStream.of(2));
        Params ordinary = a.filter(n -> n.endsWith("bias"));
        Params batched = Params.of(Map.of(
                "0.weight", Tensor.stack(List.of(a.get("0.weight"), b.get("0.weight")), 0),
                "1.weight", Tensor.stack(List.of(a.get("1.weight"), b.get("1.weight")), 0)));
        Tensor x = HyperFixtures.uniform(engine, 3, 4, 2);
        Tensor y = target.apply(batched, ordinary, x);
        assertEquals(Shape.of(2, 4, 1), y.shape());
        Params second = b.filter(n -> n.endsWith("weight")).merge(ordinary);
        assertArrayEquals(mlp.apply(second, x).toDoubles(), y.slice(0, 1, 2).toDoubles(), 1e-12);
    }

    @Test
    void shapeMismatchNamesTheParameter() {
        Mlp mlp = Mlp.of(List.of(2, 3, 1), Activation.RELU);
        HyperTarget target = new HyperTarget(mlp, ParamSelection.kinds(ParamKind.WEIGHT));
        Params wrong = Params.of(Map.of("0.weight", engine.zeros(3, 2), "1.weight", engine.zeros(3, 1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.weightBatch(wrong));
        assertTrue(e.getMessage().contains("'0.weight'") && e.getMessage().contains("[3, 2]") && e.getMessage().contains("[2, 3]"),
                e.getMessage());
        Params mixed = Params.of(Map.of("0.weight", engine.zeros(4, 2, 3), "1.weight", engine.zeros(5, 3, 1)));
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class, () -> target.weightBatch(mixed));
        assertTrue(batch.getMessage().contains("weight batch 5"), batch.getMessage());
        Params missing = Params.of(Map.of("0.weight", engine.zeros(2, 3)));
        IllegalArgumentException names = assertThrows(IllegalArgumentException.class, () -> target.weightBatch(missing));
        assertTrue(names.getMessage().contains("missing [1.weight]"), names.getMessage());
    }

    @Test
    void layoutSplitsAndFlattensRowMajor() {
        Mlp mlp = Mlp.of(List.of(2, 3, 1), Activation.RELU);
        ParamLayout layout = new ParamLayout(mlp.parameters());
        assertEquals(13, layout.size());
        double[] flat = new double[2 * 13];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = i;
        }
        Params split = layout.split(engine.tensor(flat, 2, 13));
        assertEquals(Shape.of(2, 2, 3), split.get("0.weight").shape());
        assertArrayEquals(new double[] {6, 7, 8, 19, 20, 21}, split.get("0.bias").toDoubles(), 0.0);
        assertArrayEquals(flat, layout.flatten(split, 2).toDoubles(), 0.0);
    }
}
