package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.randomParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
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
    void indicesPickRowsAndRepeatedIndicesAddTheirGradients() {
        Embedding embedding = new Embedding(4, 2);
        Params p = Params.of(java.util.Map.of("weight", engine.tensor(new double[] {0, 1, 10, 11, 20, 21, 30, 31}, 4, 2)));
        Tensor indices = engine.indices(new long[] {3, 1, 1, 0, 3, 3}, 2, 3);
        Tensor y = embedding.apply(p, indices);
        assertEquals(Shape.of(2, 3, 2), y.shape());
        assertArrayEquals(new double[] {30, 31, 10, 11, 10, 11, 0, 1, 30, 31, 30, 31}, y.toDoubles());
        Params tracked = p.requiringGrad();
        Tensor g = Grad.of(embedding.apply(tracked, indices).sum()).wrt(tracked.get("weight"));
        // Row v's gradient counts how often v was picked: 0 once, 1 twice, 2 never, 3 three times.
        assertArrayEquals(new double[] {1, 1, 2, 2, 0, 0, 3, 3}, g.toDoubles());
    }

    @Test
    void weightIsIndexByFeatureAndStartsStandardNormal() {
        Embedding embedding = new Embedding(100, 20);
        ParamSpec spec = embedding.parameters().get(0);
        assertEquals(List.of(Axis.INDEX, Axis.OUT), spec.axes());
        assertEquals(ParamKind.EMBEDDING, spec.kind());
        double[] w = embedding.init(engine, RandomStream.of(4)).get("weight").toDoubles();
        double mean = 0;
        double square = 0;
        for (double v : w) {
            mean += v / w.length;
            square += v * v / w.length;
        }
        // 2000 draws of N(0, 1): mean within 0.1 and standard deviation within 0.1 of 1 (both about 4 sigma).
        assertTrue(Math.abs(mean) < 0.1 && Math.abs(Math.sqrt(square - mean * mean) - 1) < 0.1, "mean " + mean + ", second moment " + square);
    }

    @Test
    void describesAMapFromTheVocabularyToANewGroup() {
        ModuleStructure s = Sequential.of(new Embedding(7, 3), Linear.of(3, 2)).structure();
        LayerInfo layer = s.layers().get(0);
        assertEquals("embedding", layer.kind());
        assertEquals(7, s.group(layer.input()).size(), "an index is a one-hot row of the vocabulary");
        assertEquals(3, s.group(layer.output()).size());
        assertEquals("0.weight", layer.param("weight"));
    }

    @Test
    void badIndicesAreErrorsNamingTheLayer() {
        Embedding embedding = new Embedding(4, 2);
        Params p = randomParams(engine, embedding, 1);
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> embedding.apply(p, engine.indices(new long[] {0, 4}, 2)));
        assertTrue(range.getMessage().contains("index 4 is outside [0, 4)"), range.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> embedding.apply(p, engine.indices(new long[] {-1, 2}, 2)));
        assertTrue(negative.getMessage().contains("index -1"), negative.getMessage());
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> embedding.apply(p, engine.tensor(new double[] {0, 1}, 2)));
        assertTrue(dtype.getMessage().contains("INT64"), dtype.getMessage());
    }
}
