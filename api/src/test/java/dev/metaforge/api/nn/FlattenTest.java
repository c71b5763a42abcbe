package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FlattenTest {
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

    @Test
    void mergesTheChosenAxesInRowMajorOrder() {
        Tensor x = random(engine, 1, 2, 3, 4, 5);
        Tensor y = Flatten.of().apply(Params.empty(), x);
        assertEquals(Shape.of(2, 60), y.shape());
        assertArrayEquals(x.toDoubles(), y.toDoubles(), 0.0, "flattening keeps row-major order");
        assertEquals(Shape.of(2, 3, 20), new Flatten(-2, -1).apply(Params.empty(), x).shape());
        assertEquals(Shape.of(6, 4, 5), new Flatten(0, 1).apply(Params.empty(), x).shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Flatten(2, 5).apply(Params.empty(), x));
        assertTrue(e.getMessage().contains("[2, 3, 4, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Flatten(3, 1));
    }

    /** The flattened features form a group derived from the channels; the reading layer fixes the repeat. */
    @Test
    void describesADerivedGroupOfTheChannels() {
        ModuleStructure s = Sequential.of(Conv2d.of(1, 3, 3), Flatten.of(), Linear.of(12, 5)).structure();
        LayerInfo flatten = s.layers().get(1);
        assertEquals("flatten", flatten.kind());
        assertEquals("0.out", flatten.input());
        NeuronGroup derived = s.group(flatten.output());
        assertEquals("0.out", derived.derivedFrom());
        assertEquals(12, derived.size());
        assertEquals(4, derived.repeat(), "3 channels x 2x2 positions: 4 features per channel");
        assertEquals(flatten.output(), s.layers().get(2).input());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.of(Conv2d.of(1, 3, 3), Flatten.of(), Linear.of(10, 5)).structure());
        assertTrue(e.getMessage().contains("10 is no multiple"), e.getMessage());
    }
}
