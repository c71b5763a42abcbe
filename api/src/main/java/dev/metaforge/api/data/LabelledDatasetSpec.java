package dev.metaforge.api.data;

import dev.metaforge.api.spec.Spec;
import dev.metaforge.api.train.BuildContext;

/**
 * JSON description of a {@link LabelledDataset}, e.g.
 * {@code {"type": "image-folder", "root": "data/omniglot", "size": 28}} or
 * {@code {"type": "idx", "images": "train-images-idx3-ubyte.gz", "labels": "train-labels-idx1-ubyte.gz"}}.
 * Relative paths resolve against the spec file's directory. A file that is missing or unreadable
 * is reported by {@link #build} as an {@link IllegalArgumentException} (what to do) or an
 * {@link java.io.UncheckedIOException} wrapping the reader's error (e.g. {@link IdxFormatException}),
 * each naming the file.
 */
public interface LabelledDatasetSpec extends Spec {
    LabelledDataset build(BuildContext context);
}
