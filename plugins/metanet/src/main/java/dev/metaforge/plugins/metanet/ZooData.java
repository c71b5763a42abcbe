package dev.metaforge.plugins.metanet;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.List;

/**
 * Real data for a model zoo ({@link ZooSpec}'s {@code "data"}): labelled training and test sets, how
 * one example is laid out for the zoo's model, and the input normalisation. Fashion-MNIST from
 * Debian's {@code dataset-fashion-mnist} for a CNN zoo:
 *
 * <pre>{@code
 * {"train": {"type": "idx"}, "test": {"type": "idx", "split": "test"},
 *  "inputShape": [1, 28, 28], "mean": 0.2860, "std": 0.3530}
 * }</pre>
 *
 * @param train      the training set (any labelled dataset type, e.g. {@code idx})
 * @param test       the test set, on which each network's accuracy is measured
 * @param inputShape the layout of one example for the model, e.g. [1, 28, 28] for a convolution or [784] for an
 *                   MLP; it must hold the example's number of values (default: the dataset's own example shape)
 * @param mean       subtracted from every input value after the dataset's scale (default 0)
 * @param std        every input value is divided by it after subtracting the mean (default 1)
 */
public record ZooData(
        LabelledDatasetSpec train,
        LabelledDatasetSpec test,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "input dimension") List<Integer> inputShape,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "normalisation mean") double mean,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, minExclusive = true, what = "normalisation standard deviation") double std) {
    public ZooData {
        Checks.required(train, "train", "a labelled dataset, e.g. {\"type\": \"idx\"} for Fashion-MNIST's training files");
        Checks.required(test, "test", "a labelled dataset, e.g. {\"type\": \"idx\", \"split\": \"test\"}");
        if (inputShape != null) {
            inputShape = List.copyOf(inputShape);
            if (inputShape.isEmpty() || inputShape.stream().anyMatch(d -> d == null || d <= 0)) {
                throw new IllegalArgumentException("field 'inputShape' must list positive sizes, e.g. [1, 28, 28] or [784], got "
                        + inputShape);
            }
        }
        if (!Double.isFinite(mean)) {
            throw new IllegalArgumentException("field 'mean' must be a finite number, got " + mean);
        }
        Checks.positive(std, "std");
    }

    @JsonCreator
    static ZooData fromJson(@JsonProperty("train") LabelledDatasetSpec train, @JsonProperty("test") LabelledDatasetSpec test,
                            @JsonProperty("inputShape") List<Integer> inputShape, @JsonProperty("mean") Double mean,
                            @JsonProperty("std") Double std) {
        return new ZooData(train, test, inputShape, Checks.orDefault(mean, 0.0), Checks.orDefault(std, 1.0));
    }
}
