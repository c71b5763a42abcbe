package dev.metaforge.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one dataset type: compact storage, scaling at batch time, layouts, class subsets. */
class LabelledDatasetTest {
    /** Six 2x2 ubyte "images": pixel = 10 * row + position; labels 3 1 3 0 1 3. */
    private static LabelledDataset bytes(double scale) {
        byte[] pixels = new byte[6 * 4];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (10 * (i / 4) + i % 4);
        }
        return LabelledDataset.of(PackedArray.ofUnsignedBytes(pixels), Shape.of(2, 2), new int[] {3, 1, 3, 0, 1, 3}, scale);
    }

    @Test
    void bytesStayBytesAndAreScaledWhenABatchIsBuilt() {
        LabelledDataset d = bytes(0.5);
        assertEquals(24, d.storageBytes());
        assertEquals(ElementType.UBYTE, d.elementType());
        assertArrayEquals(new double[] {10, 10.5, 11, 11.5}, d.example(2));
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            Engine engine = Engine.of(new ReferenceBackend(), dtype);
            try (Scope scope = Scope.open()) {
                Tensor x = d.inputs(engine, new int[] {4, 0});
                assertEquals(Shape.of(2, 2, 2), x.shape());
                assertEquals(dtype, x.dtype());
                assertArrayEquals(new double[] {20, 20.5, 21, 21.5, 0, 0.5, 1, 1.5}, x.toDoubles(), 0.0);
                Tensor image = d.inputs(engine, new int[] {1}, Shape.of(1, 2, 2));
                assertEquals(Shape.of(1, 1, 2, 2), image.shape(), "a channel axis for a convolution");
                assertEquals(Shape.of(3, 4), d.inputs(engine, new int[] {0, 1, 2}, Shape.of(4)).shape(), "flat for an MLP");
                Tensor y = d.labels(engine, new int[] {4, 0});
                assertEquals(DType.INT64, y.dtype());
                assertArrayEquals(new long[] {1, 3}, y.toLongs());
            }
        }
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.inputs(engine, new int[] {0}, Shape.of(1, 28, 28)));
        assertTrue(e.getMessage().contains("shape [2, 2] (4 values), which cannot be laid out as [1, 28, 28]"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> d.inputs(engine, new int[] {6}));
    }

    @Test
    void normalisationFoldsIntoScaleAndShiftAndSharesStorage() {
        LabelledDataset d = bytes(1.0 / 255).normalized(0.25, 0.5);
        double[] expected = new double[4];
        for (int k = 0; k < 4; k++) {
            expected[k] = ((30 + k) / 255.0 - 0.25) / 0.5;
        }
        assertArrayEquals(expected, d.example(3), 1e-15);
        assertEquals(24, d.storageBytes());
        assertThrows(IllegalArgumentException.class, () -> d.normalized(0, 0));
        assertThrows(IllegalArgumentException.class, () -> d.normalized(Double.NaN, 1));
    }

    @Test
    void classesRowsAndSubsets() {
        LabelledDataset d = bytes(1);
        assertArrayEquals(new int[] {0, 1, 3}, d.classes());
        Map<Integer, int[]> rows = d.rowsByClass();
        assertEquals(List.of(0, 1, 3), List.copyOf(rows.keySet()));
        assertArrayEquals(new int[] {0, 2, 5}, rows.get(3));
        LabelledDataset some = d.withClasses(new int[] {3, 0});
        assertEquals(4, some.size());
        assertArrayEquals(new int[] {3, 3, 0, 3}, some.labels(), "labels kept, order kept");
        assertArrayEquals(d.example(3), some.example(2), 0.0);
        assertEquals(ElementType.UBYTE, some.elementType());
        assertEquals(16, some.storageBytes());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> d.withClasses(new int[] {1, 7, 9}));
        assertTrue(missing.getMessage().contains("classes [7, 9] do not occur") && missing.getMessage().contains("[0, 1, 3]"),
                missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> d.withClasses(new int[] {1, 1}));
        assertEquals(d, d.subset(new int[] {0, 1, 2, 3, 4, 5}), "a full subset is an equal copy");
    }

    /** Six float examples of shape [2]: example i holds (i, -i); labels 3 1 3 0 1 3. */
    @Test
    void floatExamplesArePickedAsTensorsInAnyOrder() {
        float[] x = new float[12];
        for (int i = 0; i < 6; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
        }
        LabelledDataset d = LabelledDataset.ofFloats(x, Shape.of(2), new int[] {3, 1, 3, 0, 1, 3});
        assertTrue(d.toString().contains("6 examples of shape [2], 3 classes, float"), d.toString());
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT32);
        try (Scope scope = Scope.open()) {
            assertArrayEquals(new double[] {4, -4, 0, 0, 4, -4}, d.inputs(engine, new int[] {4, 0, 4}).toDoubles(), 0.0);
            assertArrayEquals(new long[] {1, 3, 1}, d.labels(engine, new int[] {4, 0, 4}).toLongs());
        }
        assertEquals(LabelledDataset.ofFloats(new float[] {5, -5, 3, -3}, Shape.of(2), new int[] {3, 0}), d.subset(new int[] {5, 3}));
        assertThrows(IndexOutOfBoundsException.class, () -> d.example(6));
    }

    @Test
    void invalidDatasetsAreRejected() {
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> LabelledDataset.ofFloats(new float[5], Shape.of(2), new int[] {0, 1}));
        assertTrue(size.getMessage().contains("5 values do not make 2 examples of shape [2]"), size.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> LabelledDataset.ofFloats(new float[4], Shape.of(2), new int[] {0, -1}));
        assertTrue(negative.getMessage().contains("label of example 1 is negative"), negative.getMessage());
    }

    @Test
    void packedValuesDecodeEveryTypeExactly() {
        double[] values = {-3, 0, 7, 120};
        for (ElementType type : List.of(ElementType.BYTE, ElementType.SHORT, ElementType.INT, ElementType.FLOAT, ElementType.DOUBLE)) {
            PackedArray p = PackedArray.of(type, values);
            assertEquals(4L * type.byteSize(), p.byteSize());
            assertArrayEquals(values, p.toDoubles(), 0.0, type.jsonName());
            float[] f = new float[4];
            p.decode(1, 3, f, 1, 2.0, 1.0);
            assertArrayEquals(new float[] {0, 1, 15, 241}, f, 0f, type.jsonName());
        }
        assertThrows(IllegalArgumentException.class, () -> PackedArray.of(ElementType.UBYTE, new double[] {-1}));
    }

    /** Sampling.distinct gives exactly the first draws of a Fisher-Yates shuffle, and distinct indices. */
    @Test
    void distinctDrawsMatchAFisherYatesShuffle() {
        int n = 1000;
        int[] full = new int[n];
        for (int i = 0; i < n; i++) {
            full[i] = i;
        }
        RandomStream a = RandomStream.of(11);
        for (int i = 0; i < 50; i++) {
            int j = i + a.nextInt(n - i);
            int t = full[i];
            full[i] = full[j];
            full[j] = t;
        }
        int[] drawn = Sampling.distinct(n, 50, RandomStream.of(11));
        for (int i = 0; i < 50; i++) {
            assertEquals(full[i], drawn[i], "draw " + i);
        }
        Set<Integer> all = new HashSet<>();
        for (int v : Sampling.distinct(20, 20, RandomStream.of(2))) {
            assertTrue(all.add(v));
        }
        assertEquals(20, all.size());
        int[] picked = Sampling.distinct(new int[] {10, 70, 40}, 3, RandomStream.of(5));
        java.util.Arrays.sort(picked);
        assertArrayEquals(new int[] {10, 40, 70}, picked, "a permutation of the values");
        assertThrows(IllegalArgumentException.class, () -> Sampling.distinct(3, 4, RandomStream.of(0)));
    }
}
