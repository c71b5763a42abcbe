package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.Idx;
import dev.metaforge.api.train.BuildContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code {"trainImages": "train-images-idx3-ubyte.gz", "trainLabels": "train-labels-idx1-ubyte.gz",
 * "testImages": "t10k-images-idx3-ubyte.gz", "testLabels": "t10k-labels-idx1-ubyte.gz", "scale": 0.00392156862745098,
 * "limitTrain": 0, "limitTest": 0}}: MNIST-format files (Fashion-MNIST, MNIST), gzipped or not, paths
 * relative to the spec file. Inputs are multiplied by {@code scale} and flattened.
 *
 * @param trainImages training inputs
 * @param trainLabels training labels
 * @param testImages  held-out inputs
 * @param testLabels  held-out labels
 * @param scale       input multiplier (default 1/255)
 * @param limitTrain  use only the first this many training examples (0: all)
 * @param limitTest   use only the first this many test examples (0: all)
 */
public record IdxData(
        String trainImages,
        String trainLabels,
        String testImages,
        String testLabels,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "pixel scale") double scale,
        @Range(min = 0, max = Limits.MAX_COUNT, what = "training examples kept (0: all)") int limitTrain,
        @Range(min = 0, max = Limits.MAX_COUNT, what = "test examples kept (0: all)") int limitTest) {
    public IdxData {
        Fields.required(trainImages, "trainImages", "an IDX file of training inputs");
        Fields.required(trainLabels, "trainLabels", "an IDX file of training labels");
        Fields.required(testImages, "testImages", "an IDX file of test inputs");
        Fields.required(testLabels, "testLabels", "an IDX file of test labels");
        Fields.positive(scale, "scale");
        if (limitTrain < 0 || limitTest < 0) {
            throw new IllegalArgumentException("fields 'limitTrain' and 'limitTest' must be >= 0 (0: all)");
        }
    }

    @JsonCreator
    static IdxData fromJson(@JsonProperty("trainImages") String trainImages, @JsonProperty("trainLabels") String trainLabels,
                            @JsonProperty("testImages") String testImages, @JsonProperty("testLabels") String testLabels,
                            @JsonProperty("scale") Double scale, @JsonProperty("limitTrain") Integer limitTrain,
                            @JsonProperty("limitTest") Integer limitTest) {
        return new IdxData(trainImages, trainLabels, testImages, testLabels, Fields.orDefault(scale, 1.0 / 255),
                Fields.orDefault(limitTrain, 0), Fields.orDefault(limitTest, 0));
    }

    /** The training set (first) and the test set (second). */
    LabelledDataset[] load(BuildContext context) {
        Path[] files = {context.resolve(trainImages), context.resolve(trainLabels), context.resolve(testImages),
            context.resolve(testLabels)};
        String[] fields = {"trainImages", "trainLabels", "testImages", "testLabels"};
        List<String> missing = new ArrayList<>();
        boolean fashionMnist = false;
        for (int i = 0; i < files.length; i++) {
            if (!Files.isRegularFile(files[i])) {
                missing.add("\"" + fields[i] + "\" (" + files[i].toAbsolutePath() + ")");
                fashionMnist |= files[i].toAbsolutePath().startsWith(Idx.FASHION_MNIST_DIR);
            }
        }
        if (!missing.isEmpty()) {
            // Before anything is read or trained, naming every missing file at once.
            throw new IllegalArgumentException("idx: " + String.join(", ", missing) + (missing.size() == 1 ? " does" : " do")
                    + " not exist; " + (fashionMnist ? "the files under " + Idx.FASHION_MNIST_DIR + " are Debian's Fashion-MNIST:"
                    + " install them with `apt-get install dataset-fashion-mnist`, or point these fields at other IDX files"
                    : "fix these fields (paths of IDX files, relative to the spec file's directory)"));
        }
        return new LabelledDataset[] {read(files[0], files[1], limitTrain), read(files[2], files[3], limitTest)};
    }

    private LabelledDataset read(Path images, Path labels, int limit) {
        try {
            LabelledDataset all = Idx.readDataset(images, labels, scale);
            if (limit == 0 || limit >= all.size()) {
                return all;
            }
            int[] rows = new int[limit];
            Arrays.setAll(rows, i -> i);
            return all.subset(rows);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + images + " / " + labels + ": " + e.getMessage(), e);
        }
    }
}
