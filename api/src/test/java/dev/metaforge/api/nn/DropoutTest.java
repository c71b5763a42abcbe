package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DropoutTest {
    private final Engine engine = LayerChecks.engine();
    private static final Dropout DROPOUT = new Dropout(0.3);
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /**
     * The mask follows from the stream's seed as documented: entry kept where
     * {@code engine.uniform(shape, 0, 1, seed) >= p}, with seed the stream's first draw; kept
     * entries are scaled by exactly 1 / (1 - p).
     */
    @Test
    void theMaskIsReproducibleFromTheSeed() {
        Tensor x = random(engine, 1, 40, 50).add(2.0); // away from 0, so a dropped entry is recognisable
        Tensor first = DROPOUT.forward(Params.empty(), x, ModuleCall.train(Params.empty(), RandomStream.of(42))).output();
        Tensor again = DROPOUT.forward(Params.empty(), x, ModuleCall.train(Params.empty(), RandomStream.of(42))).output();
        Tensor other = DROPOUT.forward(Params.empty(), x, ModuleCall.train(Params.empty(), RandomStream.of(43))).output();
        assertArrayEquals(first.toDoubles(), again.toDoubles(), 0.0, "same seed, same mask");
        assertTrue(LayerChecks.maxDifference(first, other) > 0, "another seed draws another mask");

        double[] u = engine.uniform(Shape.of(40, 50), 0, 1, RandomStream.of(42).nextSeed()).toDoubles();
        double[] xs = x.toDoubles();
        double[] ys = first.toDoubles();
        int dropped = 0;
        for (int i = 0; i < xs.length; i++) {
            double expected = u[i] >= 0.3 ? xs[i] / 0.7 : 0.0;
            assertEquals(expected, ys[i], 1e-12, "entry " + i);
            dropped += ys[i] == 0 ? 1 : 0;
        }
        // 2000 entries at p = 0.3: 600 expected, standard deviation about 20.
        assertTrue(dropped > 500 && dropped < 700, dropped + " of 2000 dropped at p = 0.3");
    }

    @Test
    void evaluationAndThePlainCallAreTheIdentity() {
        Tensor x = random(engine, 2, 5, 6);
        assertSame(x, DROPOUT.forward(Params.empty(), x, ModuleCall.eval(Params.empty())).output());
        assertSame(x, DROPOUT.apply(Params.empty(), x));
        assertSame(x, new Dropout(0.0).forward(Params.empty(), x, ModuleCall.train(Params.empty(), RandomStream.of(1))).output());
    }

    @Test
    void trainingWithoutAStreamAndBadProbabilitiesAreErrors() {
        Tensor x = random(engine, 3, 2, 2);
        IllegalStateException noStream = assertThrows(IllegalStateException.class,
                () -> DROPOUT.forward(Params.empty(), x, new ModuleCall(Mode.TRAIN, null, Params.empty())));
        assertTrue(noStream.getMessage().contains("dropout"), noStream.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(-0.1));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(Double.NaN));
    }

    @Test
    void describesAnIdentityOnItsGroup() {
        LayerInfo layer = Sequential.of(Linear.of(2, 3), DROPOUT).structure().layers().get(1);
        assertEquals("dropout", layer.kind());
        assertEquals(layer.input(), layer.output());
        assertEquals("0.3", layer.attribute("p"));
    }
}
