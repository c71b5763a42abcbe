package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.Idx;
import dev.metaforge.api.meta.LabelledDataset;
import dev.metaforge.api.meta.LabelledDatasetSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;
import java.io.IOException;

/**
 * {@code {"type": "idx", "images": "train-images-idx3-ubyte.gz", "labels": "train-labels-idx1-ubyte.gz"}}:
 * an IDX image file and its label file (MNIST layout, gzipped or not) read with {@link Idx};
 * relative paths resolve against the spec file's directory.
 *
 * @param images the examples' IDX file (first dimension counts examples)
 * @param labels the labels' IDX file (one integer per example)
 * @param scale  factor applied to every input value (default 1/255, for ubyte pixels)
 */
public record IdxSpec(
        String images,
        String labels,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "pixel scale") Double scale) implements LabelledDatasetSpec {
    public IdxSpec {
        requireNonNull(images, "idx: \"images\" (path of the IDX examples file) is required");
        requireNonNull(labels, "idx: \"labels\" (path of the IDX labels file) is required");
        scale = scale == null ? 1.0 / 255 : scale;
    }

    @Override
    public LabelledDataset build(BuildContext context) {
        try {
            return new DatasetAdapter(Idx.readDataset(context.resolve(images), context.resolve(labels), scale));
        } catch (IOException e) {
            // A missing or malformed file is the spec's problem: built specs report it as IllegalArgumentException (exit 2).
            throw new IllegalArgumentException("idx: cannot read " + context.resolve(images) + " / " + context.resolve(labels)
                    + ": " + e.getMessage(), e);
        }
    }
}
