package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static dev.metaforge.api.nn.LayerChecks.randomParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LayerNormTest {
    private final Engine engine = LayerChecks.engine();
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** Independent reference: each row's mean and biased variance as float64 loops. */
    @Test
    void normalisesEachRowOfTheLastAxis() {
        LayerNorm norm = new LayerNorm(5, 1e-3, true);
        Tensor x = random(engine, 1, 2, 3, 5).mul(4.0).add(2.0);
        Params p = randomParams(engine, norm, 2);
        double[] xs = x.toDoubles();
        double[] w = p.get("weight").toDoubles();
        double[] b = p.get("bias").toDoubles();
        double[] expected = new double[xs.length];
        for (int row = 0; row < 6; row++) {
            double mean = 0;
            for (int j = 0; j < 5; j++) {
                mean += xs[row * 5 + j] / 5;
            }
            double var = 0;
            for (int j = 0; j < 5; j++) {
                var += Math.pow(xs[row * 5 + j] - mean, 2) / 5;
            }
            for (int j = 0; j < 5; j++) {
                expected[row * 5 + j] = (xs[row * 5 + j] - mean) / Math.sqrt(var + 1e-3) * w[j] + b[j];
            }
        }
        assertArrayEquals(expected, norm.apply(p, x).toDoubles(), 1e-12);
        // Train and eval agree: no state, no randomness.
        assertArrayEquals(expected, norm.forward(p, x, LayerChecks.train(Params.empty(), 1)).output().toDoubles(), 1e-12);
    }

    @Test
    void declaresScaleAndBiasTiedToItsInputGroup() {
        LayerNorm norm = LayerNorm.of(4);
        Params init = norm.init(engine, RandomStream.of(1));
        assertArrayEquals(new double[] {1, 1, 1, 1}, init.get("weight").toDoubles());
        assertArrayEquals(new double[] {0, 0, 0, 0}, init.get("bias").toDoubles());
        assertEquals(List.of(ParamKind.SCALE, ParamKind.BIAS), norm.parameters().stream().map(ParamSpec::kind).toList());
        ModuleStructure s = Sequential.of(Linear.of(2, 4), norm, Linear.of(4, 1)).structure();
        LayerInfo layer = s.layers().get(1);
        assertEquals("layernorm", layer.kind());
        assertEquals("0.out", layer.input());
        assertEquals("0.out", layer.output());
        assertEquals("1.weight", layer.param("scale"));
        assertEquals(List.of(), new LayerNorm(4, 1e-5, false).parameters());
    }

    @Test
    void wrongWidthIsAnErrorNamingTheShape() {
        LayerNorm norm = LayerNorm.of(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> norm.apply(randomParams(engine, norm, 1), random(engine, 1, 2, 3)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("does not end in 4"), e.getMessage());
    }
}
