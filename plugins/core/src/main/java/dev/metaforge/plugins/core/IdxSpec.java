package dev.metaforge.plugins.core;

import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code {"type": "idx", "images": "train-images-idx3-ubyte.gz", "labels": "train-labels-idx1-ubyte.gz"}}:
 * an IDX examples file and its label file (MNIST layout, gzipped or not) read with {@link Idx};
 * relative paths resolve against the spec file's directory. Without {@code images} and
 * {@code labels}, the Fashion-MNIST files of Debian's package {@code dataset-fashion-mnist} are
 * read from {@value #FASHION_MNIST_DIR}: {@code {"type": "idx"}} is its training set and
 * {@code {"type": "idx", "split": "test"}} its test set.
 *
 * @param images   the examples' IDX file (first dimension counts examples); with {@code labels}, or neither
 * @param labels   the labels' IDX file (one integer per example)
 * @param scale    factor applied to every stored value when a batch is built (default 1/255, for ubyte pixels)
 * @param split    "train" (default) or "test": which Fashion-MNIST files, when {@code images} and {@code labels} are omitted
 * @param maxBytes refuse a file whose header declares more data bytes than this (default: half the Java heap, at most 1 GiB)
 */
public record IdxSpec(
        String images,
        String labels,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "pixel scale") Double scale,
        String split,
        @Range(min = 1, max = Long.MAX_VALUE, what = "bytes") Long maxBytes) implements LabelledDatasetSpec {
    /** Where Debian's {@code dataset-fashion-mnist} installs the files. */
    public static final String FASHION_MNIST_DIR = dev.metaforge.api.data.Idx.FASHION_MNIST_DIR;

    public IdxSpec {
        if (images == null && labels == null) {
            split = split == null ? "train" : split.trim().toLowerCase(Locale.ROOT);
            if (!split.equals("train") && !split.equals("test")) {
                throw new IllegalArgumentException("idx: field 'split' must be \"train\" or \"test\" (the Fashion-MNIST files read"
                        + " when \"images\" and \"labels\" are omitted), got \"" + split + "\"");
            }
        } else if (images == null || labels == null) {
            throw new IllegalArgumentException("idx: give both \"images\" and \"labels\" (paths of the IDX examples and labels files),"
                    + " or neither for Fashion-MNIST from " + FASHION_MNIST_DIR + "; only \"" + (images == null ? "labels" : "images")
                    + "\" is set");
        } else if (split != null) {
            throw new IllegalArgumentException("idx: field 'split' chooses between the default Fashion-MNIST files; it cannot be"
                    + " combined with \"images\" and \"labels\" (remove it)");
        }
        scale = scale == null ? 1.0 / 255 : scale;
        if (!Double.isFinite(scale)) {
            throw new IllegalArgumentException("idx: field 'scale' must be a finite number, got " + scale);
        }
        if (maxBytes != null && maxBytes <= 0) {
            throw new IllegalArgumentException("idx: field 'maxBytes' must be positive, got " + maxBytes);
        }
    }

    /** The Fashion-MNIST files of {@code split} ("train" or "test") from Debian's package. */
    public static IdxSpec fashionMnist(String split) {
        return new IdxSpec(null, null, null, split, null);
    }

    /** True when the spec reads the default Fashion-MNIST files (not public: not a JSON property). */
    private boolean isFashionMnist() {
        return images == null;
    }

    private String prefix() {
        return split.equals("test") ? "t10k" : "train";
    }

    @Override
    public LabelledDataset build(BuildContext context) {
        return build(context, Path.of(FASHION_MNIST_DIR));
    }

    /** {@link #build(BuildContext)} with the Fashion-MNIST files looked for in {@code fashionMnistDir} (for tests). */
    LabelledDataset build(BuildContext context, Path fashionMnistDir) {
        Path imageFile = isFashionMnist() ? fashionMnistDir.resolve(prefix() + "-images-idx3-ubyte.gz") : context.resolve(images);
        Path labelFile = isFashionMnist() ? fashionMnistDir.resolve(prefix() + "-labels-idx1-ubyte.gz") : context.resolve(labels);
        List<Path> missing = new ArrayList<>();
        for (Path p : List.of(imageFile, labelFile)) {
            if (!Files.isRegularFile(p)) {
                missing.add(p.toAbsolutePath());
            }
        }
        if (!missing.isEmpty()) {
            if (isFashionMnist()) {
                throw new IllegalArgumentException("idx: the Fashion-MNIST " + split + " files are missing: looked for " + imageFile
                        + " and " + labelFile + " (" + missingList(missing) + " not exist); install them with"
                        + " `apt-get install dataset-fashion-mnist`, or point the idx dataset elsewhere with \"images\" and"
                        + " \"labels\" (paths of IDX files, relative to the spec file's directory)");
            }
            throw new IllegalArgumentException("idx: " + missingList(missing) + " not exist (\"images\": \"" + images
                    + "\", \"labels\": \"" + labels + "\", resolved against " + context.baseDir() + "); fix the paths, or omit"
                    + " both for Fashion-MNIST from " + FASHION_MNIST_DIR + " (apt-get install dataset-fashion-mnist)");
        }
        try {
            return Idx.readDataset(imageFile, labelFile, scale, maxBytes == null ? Idx.defaultMaxBytes() : maxBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("idx: " + e.getMessage(), e);
        }
    }

    private static String missingList(List<Path> missing) {
        return missing.size() == 1 ? missing.get(0) + " does" : missing.get(0) + " and " + missing.get(1) + " do";
    }
}
