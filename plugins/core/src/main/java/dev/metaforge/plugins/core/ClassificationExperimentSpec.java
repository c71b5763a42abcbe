package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.ModelExperiment;
import dev.metaforge.api.train.Objective;
import dev.metaforge.spi.Shape;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * {@code "classification"}: a classifier trained by softmax cross-entropy on a labelled dataset
 * and evaluated on a whole test set. Fashion-MNIST (Debian's {@code dataset-fashion-mnist}) is the
 * default data:
 * <pre>{@code
 * {"type": "classification",
 *  "model": {"type": "mlp", "sizes": [784, 256, 10], "activation": "relu"},
 *  "train": {"type": "idx"}, "test": {"type": "idx", "split": "test"},
 *  "batchSize": 128, "inputShape": [784], "mean": 0.286, "std": 0.353}
 * }</pre>
 * A convolutional model gets images as {@code "inputShape": [1, 28, 28]}. Each step draws
 * {@code batchSize} distinct training examples from the step's random stream (in Java, so every
 * backend sees the same batches) and runs the model in train mode with that stream (dropout) and
 * its state (e.g. BatchNorm running statistics), adding the model's auxiliary losses to the
 * cross-entropy. Evaluation runs the model in eval mode over the whole test set in batches and
 * reports {@code accuracy} and {@code loss} (mean cross-entropy). The model's state is part of the
 * checkpoint, so a resumed run continues bit for bit.
 *
 * @param model         any module mapping {@code [N, ...inputShape]} to logits {@code [N, classes]}
 * @param train         the training set (default: Fashion-MNIST's training files, {@code {"type": "idx"}})
 * @param test          the test set (default: Fashion-MNIST's test files, {@code {"type": "idx", "split": "test"}})
 * @param batchSize     training examples per step (default 128)
 * @param evalBatchSize test examples per evaluation batch (default 1000)
 * @param inputShape    the layout of one example for the model, e.g. [784] for an MLP or [1, 28, 28] for a
 *                      convolution; it must hold the example's number of values (default: flattened)
 * @param mean          subtracted from every input value after the dataset's scale (default 0)
 * @param std           every input value is divided by it after subtracting the mean (default 1)
 */
public record ClassificationExperimentSpec(
        ModuleSpec model,
        LabelledDatasetSpec train,
        LabelledDatasetSpec test,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "training batch size") int batchSize,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "evaluation batch size") int evalBatchSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "input dimension") List<Integer> inputShape,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "normalisation mean") double mean,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, minExclusive = true, what = "normalisation standard deviation") double std) implements ExperimentSpec, ModelExperiment {
    public ClassificationExperimentSpec {
        Fields.required(model, "model", "a module spec mapping examples to class logits, such as "
                + "{\"type\": \"mlp\", \"sizes\": [784, 256, 10]}");
        Fields.required(train, "train", "a labelled dataset spec such as {\"type\": \"idx\"}");
        Fields.required(test, "test", "a labelled dataset spec such as {\"type\": \"idx\", \"split\": \"test\"}");
        Fields.positive(batchSize, "batchSize");
        Fields.positive(evalBatchSize, "evalBatchSize");
        if (inputShape != null) {
            inputShape = List.copyOf(inputShape);
            if (inputShape.isEmpty() || inputShape.stream().anyMatch(d -> d == null || d <= 0)) {
                throw new IllegalArgumentException("field 'inputShape' must list positive sizes, e.g. [784] or [1, 28, 28], got "
                        + inputShape);
            }
        }
        if (!Double.isFinite(mean)) {
            throw new IllegalArgumentException("field 'mean' must be a finite number, got " + mean);
        }
        Fields.positive(std, "std");
    }

    @JsonCreator
    static ClassificationExperimentSpec fromJson(@JsonProperty("model") ModuleSpec model,
            @JsonProperty("train") LabelledDatasetSpec train, @JsonProperty("test") LabelledDatasetSpec test,
            @JsonProperty("batchSize") Integer batchSize, @JsonProperty("evalBatchSize") Integer evalBatchSize,
            @JsonProperty("inputShape") List<Integer> inputShape, @JsonProperty("mean") Double mean,
            @JsonProperty("std") Double std) {
        return new ClassificationExperimentSpec(model, Fields.orDefault(train, IdxSpec.fashionMnist("train")),
                Fields.orDefault(test, IdxSpec.fashionMnist("test")), Fields.orDefault(batchSize, 128),
                Fields.orDefault(evalBatchSize, 1000), inputShape, Fields.orDefault(mean, 0.0), Fields.orDefault(std, 1.0));
    }

    /** {@code inputShape}, or empty (rows as given) when the spec leaves examples flattened. */
    @Override
    public List<Integer> exampleShape() {
        return inputShape == null ? List.of() : inputShape;
    }

    @Override
    public double inputMean() {
        return mean;
    }

    @Override
    public double inputStd() {
        return std;
    }

    /** Evaluation runs the model in eval mode with its state (BatchNorm's running statistics). */
    @Override
    public boolean evaluatesWithState() {
        return true;
    }

    @Override
    public Objective build(BuildContext context) {
        LabelledDataset trainSet = load(train, "train", context);
        LabelledDataset testSet = load(test, "test", context);
        if (trainSet.size() < batchSize) {
            throw new IllegalArgumentException("field 'batchSize' is " + batchSize + " but the training set " + trainSet + " has only "
                    + trainSet.size() + " examples");
        }
        if (testSet.size() == 0) {
            throw new IllegalArgumentException("field 'test': the test set " + testSet + " is empty");
        }
        if (!testSet.exampleShape().equals(trainSet.exampleShape())) {
            throw new IllegalArgumentException("fields 'train' and 'test': training examples have shape " + trainSet.exampleShape()
                    + " but test examples " + testSet.exampleShape());
        }
        Shape layout = inputShape == null ? Shape.of(trainSet.exampleSize())
                : Shape.of(inputShape.stream().mapToInt(Integer::intValue).toArray());
        if (layout.size() != trainSet.exampleSize()) {
            throw new IllegalArgumentException("field 'inputShape' " + inputShape + " holds " + layout.size() + " values, but examples of "
                    + trainSet + " have shape " + trainSet.exampleShape() + " (" + trainSet.exampleSize() + " values)");
        }
        return new ClassificationObjective(context.engine(), model.build(), trainSet.normalized(mean, std),
                testSet.normalized(mean, std), layout, batchSize, evalBatchSize);
    }

    /** The dataset of field {@code field}; errors say which field. */
    private static LabelledDataset load(LabelledDatasetSpec spec, String field, BuildContext context) {
        try {
            return spec.build(context);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("field '" + field + "': " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("$.experiment." + field + ": " + e.getMessage(), e.getCause());
        }
    }
}
