package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.Dataset;
import dev.metaforge.api.meta.LabelledDataset;
import dev.metaforge.spi.Shape;

/** A project {@link Dataset} (e.g. read from IDX files) seen as a {@link LabelledDataset} for episode samplers. */
public final class DatasetAdapter implements LabelledDataset {
    private final Dataset dataset;
    private final Shape exampleShape;
    private final int exampleSize;
    private final int[] labels;

    public DatasetAdapter(Dataset dataset) {
        this.dataset = requireNonNull(dataset, "dataset is null");
        this.exampleShape = Shape.of(dataset.exampleShape());
        this.exampleSize = dataset.exampleSize();
        this.labels = new int[dataset.size()];
        for (int i = 0; i < labels.length; i++) {
            long label = dataset.label(i);
            if (label < 0 || label > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("label " + label + " of example " + i + " of " + dataset
                        + " is not a non-negative int; episode samplers need class ids in [0, 2^31 - 1]");
            }
            labels[i] = (int) label;
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
        double[] inputs = dataset.inputs();
        int from = index * exampleSize;
        for (int i = 0; i < exampleSize; i++) {
            destination[offset + i] = (float) inputs[from + i];
        }
    }

    @Override
    public String toString() {
        return dataset.toString();
    }
}
