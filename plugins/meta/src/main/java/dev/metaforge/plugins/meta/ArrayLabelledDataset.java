package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.LabelledDataset;
import dev.metaforge.spi.Shape;

/**
 * A {@link LabelledDataset} held in memory: {@code size} examples of {@code exampleShape},
 * row-major one after another in {@code values}, with one label each.
 */
public final class ArrayLabelledDataset implements LabelledDataset {
    private final float[] values;
    private final Shape exampleShape;
    private final int[] labels;
    private final int exampleSize;

    /** Takes ownership of the arrays (no copy). */
    public ArrayLabelledDataset(float[] values, Shape exampleShape, int[] labels) {
        this.values = requireNonNull(values, "values is null");
        this.exampleShape = requireNonNull(exampleShape, "exampleShape is null");
        this.labels = requireNonNull(labels, "labels is null");
        this.exampleSize = exampleShape.sizeAsInt();
        if ((long) labels.length * exampleSize != values.length) {
            throw new IllegalArgumentException(labels.length + " labels of examples shaped " + exampleShape + " need "
                    + (long) labels.length * exampleSize + " values, got " + values.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException("label of example " + i + " is negative: " + labels[i]);
            }
        }
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public Shape exampleShape() {
        return exampleShape;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public void copyExample(int index, float[] destination, int offset) {
        System.arraycopy(values, index * exampleSize, destination, offset, exampleSize);
    }

    @Override
    public String toString() {
        return "ArrayLabelledDataset[" + labels.length + " examples of " + exampleShape + "]";
    }
}
