package dev.metaforge.plugins.hyper.offsets;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.plugins.hyper.HeldOutSplit;
import dev.metaforge.spi.Shape;
import java.util.List;

/**
 * JSON type {@code channel-offsets}: HyperStyle-like data-conditioned offsets (Alaluf et al. 2022) for
 * a frozen conv network; see {@link ChannelOffsetsObjective} (the two phases and the report),
 * {@link OffsetHyperNetwork} (the refinement) and {@link ChannelOffsets} (θ̂ = θ ⊙ (1 + Δ), one Δ per
 * output channel of each selected kernel).
 *
 * <pre>{@code
 * {"type": "channel-offsets",
 *  "model": {"type": "sequential", "layers": [
 *     {"type": "conv2d", "inChannels": 1, "outChannels": 16, "kernel": 3, "padding": 1}, {"type": "activation", "function": "relu"},
 *     {"type": "maxpool2d", "kernel": 2}, {"type": "flatten", "startAxis": -3, "endAxis": -1},
 *     {"type": "linear", "in": 3136, "out": 10}]},
 *  "select": {"kinds": ["conv_weight"]},
 *  "encoder": {"type": "sequential", "layers": [{"type": "flatten", "startAxis": -3, "endAxis": -1},
 *     {"type": "linear", "in": 784, "out": 32}, {"type": "activation", "function": "relu"}]},
 *  "refinementSteps": 2,
 *  "train": {"type": "idx"}, "test": {"type": "idx", "split": "test"}, "inputShape": [1, 28, 28],
 *  "shift": {"gain": [0.2, 1.0], "invert": 0.5}}
 * }</pre>
 *
 * @param model                the conv network that is trained on the source task, then frozen (required)
 * @param select               which of its conv kernels get offsets, as a {@code HyperTarget} selects parameters
 *                             (default {@code {"kinds": ["conv_weight"]}}: every conv kernel)
 * @param encoder              the hypernetwork's reader of an input [N, ...inputShape] into features [N, F] (required)
 * @param hidden               hidden widths of the hypernetwork's head (default [64])
 * @param refinementSteps      refinement steps T (default 2)
 * @param train                training images (required)
 * @param test                 test images; without it, a fixed random {@code testFraction} of {@code train}
 * @param testFraction         share of {@code train} held out when {@code test} is absent (default 0.2)
 * @param inputShape           one example as the networks read it (default: the dataset's example shape)
 * @param shift                the shifted domain (default: every image inverted)
 * @param batchSize            examples per step of every phase (default 64)
 * @param evalExamples         test examples scored (default 2000, at most the test set)
 * @param sourceSteps          phase 1: Adam steps of the conv network on clean images (default 500)
 * @param sourceLearningRate   their learning rate (default 0.001)
 * @param finetuneSteps        the fine-tuning reference's Adam steps on shifted images (default 500; 0: no reference)
 * @param finetuneLearningRate their learning rate (default 0.001)
 */
public record ChannelOffsetsExperimentSpec(
        ModuleSpec model,
        ParamSelection select,
        ModuleSpec encoder,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> hidden,
        @Range(min = 1, max = 64, what = "refinement steps") Integer refinementSteps,
        LabelledDatasetSpec train,
        LabelledDatasetSpec test,
        @Range(min = 0, max = 1, what = "test fraction") Double testFraction,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "input dimension") List<Integer> inputShape,
        ImageShift shift,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "batch size") Integer batchSize,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "evaluated examples") Integer evalExamples,
        @Range(min = 0, max = 1_000_000, what = "source-task steps") Integer sourceSteps,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "learning rate") Double sourceLearningRate,
        @Range(min = 0, max = 1_000_000, what = "fine-tuning steps") Integer finetuneSteps,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "learning rate") Double finetuneLearningRate) implements ExperimentSpec {
    /** The JSON type name. */
    public static final String TYPE = "channel-offsets";

    /** Seed of the fixed shuffle that splits {@code train} when there is no {@code test}. */

    /** Mixed into the run's seed for phase 1, so the frozen network does not share a stream with the hypernetwork. */
    private static final long SOURCE_SEED = 0x50C4CEL;

    /** Fills defaults and checks the fields, naming them. */
    public ChannelOffsetsExperimentSpec {
        if (model == null) {
            throw new IllegalArgumentException("spec '" + TYPE + "': field 'model' is required: the conv network to freeze, e.g."
                    + " {\"type\": \"sequential\", \"layers\": [{\"type\": \"conv2d\", ...}, ...]}");
        }
        if (encoder == null) {
            throw new IllegalArgumentException("spec '" + TYPE + "': field 'encoder' is required: a module reading an input [N, ...] into"
                    + " features [N, F], e.g. {\"type\": \"sequential\", \"layers\": [{\"type\": \"flatten\"}, {\"type\": \"linear\", ...}]}");
        }
        if (train == null) {
            throw new IllegalArgumentException("spec '" + TYPE + "': field 'train' is required: a labelled dataset spec such as"
                    + " {\"type\": \"idx\"} (Fashion-MNIST) or {\"type\": \"gaussian-clusters\", ...}");
        }
        select = select == null ? ParamSelection.kinds(ParamKind.CONV_WEIGHT) : select;
        hidden = hidden == null ? List.of(64) : List.copyOf(hidden);
        for (Integer h : hidden) {
            if (h == null || h < 1 || h > Limits.MAX_WIDTH) {
                throw new IllegalArgumentException("spec '" + TYPE + "': field 'hidden' must hold widths from 1 to " + Limits.MAX_WIDTH + ", got "
                        + hidden);
            }
        }
        refinementSteps = refinementSteps == null ? 2 : refinementSteps;
        if (refinementSteps < 1) {
            throw new IllegalArgumentException("spec '" + TYPE + "': field 'refinementSteps' must be >= 1 (step 1 reads the frozen"
                    + " network's own output), got " + refinementSteps);
        }
        testFraction = testFraction == null ? 0.2 : testFraction;
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("spec '" + TYPE + "': field 'testFraction' must lie strictly between 0 and 1, got " + testFraction);
        }
        if (inputShape != null) {
            inputShape = List.copyOf(inputShape);
            if (inputShape.isEmpty() || inputShape.stream().anyMatch(d -> d == null || d < 1)) {
                throw new IllegalArgumentException("spec '" + TYPE + "': field 'inputShape' must list positive sizes, e.g. [1, 28, 28], got "
                        + inputShape);
            }
        }
        shift = shift == null ? new ImageShift(null, null) : shift;
        batchSize = positive(batchSize, 64, "batchSize");
        evalExamples = positive(evalExamples, 2000, "evalExamples");
        sourceSteps = atLeastZero(sourceSteps, 500, "sourceSteps");
        sourceLearningRate = rate(sourceLearningRate, "sourceLearningRate");
        finetuneSteps = atLeastZero(finetuneSteps, 500, "finetuneSteps");
        finetuneLearningRate = rate(finetuneLearningRate, "finetuneLearningRate");
    }

    private static int positive(Integer value, int fallback, String field) {
        if (value == null) {
            return fallback;
        }
        if (value < 1) {
            throw new IllegalArgumentException("spec '" + TYPE + "': field '" + field + "' must be >= 1, got " + value);
        }
        return value;
    }

    private static int atLeastZero(Integer value, int fallback, String field) {
        if (value == null) {
            return fallback;
        }
        if (value < 0) {
            throw new IllegalArgumentException("spec '" + TYPE + "': field '" + field + "' must be >= 0, got " + value);
        }
        return value;
    }

    private static double rate(Double value, String field) {
        if (value == null) {
            return 1e-3;
        }
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("spec '" + TYPE + "': field '" + field + "' must be a finite number > 0, got " + value);
        }
        return value;
    }

    @Override
    public Objective build(BuildContext context) {
        Module frozen = model.build();
        ChannelOffsets offsets;
        try {
            offsets = new ChannelOffsets(frozen, select);
        } catch (IllegalArgumentException e) {
            String path = !select.names().isEmpty() && e.getMessage().contains("does not declare")
                    ? "$.experiment.select.names" : "$.experiment.select";
            throw new SpecException(TYPE + " experiment at " + path + ": " + e.getMessage(), path, e);
        }
        LabelledDataset trainSet = train.build(context);
        LabelledDataset testSet;
        if (test != null) {
            testSet = test.build(context);
        } else {
            HeldOutSplit split = HeldOutSplit.of(trainSet, testFraction, TYPE);
            trainSet = split.train();
            testSet = split.test();
        }
        Shape shape = inputShape == null ? trainSet.exampleShape() : Shape.of(inputShape.stream().mapToInt(Integer::intValue).toArray());
        if (shape.size() != trainSet.exampleSize() || shape.size() != testSet.exampleSize()) {
            throw new SpecException(TYPE + " experiment: field 'inputShape' " + shape + " holds " + shape.size() + " values but examples of "
                    + trainSet + " have shape " + trainSet.exampleShape() + " (" + trainSet.exampleSize() + " values)"
                    + (testSet.exampleSize() != trainSet.exampleSize() ? " and test examples " + testSet.exampleSize() : "")
                    + "; give an inputShape with that many values", "$.experiment.inputShape", null);
        }
        int[] classes = trainSet.classes();
        int outputs = classes[classes.length - 1] + 1;
        Module encoderModule = encoder.build();
        int features = probe(context, offsets, encoderModule, shape, outputs);
        OffsetHyperNetwork hyper = new OffsetHyperNetwork(offsets, encoderModule, features, outputs, hidden, refinementSteps);
        return new ChannelOffsetsObjective(context.engine(), hyper, shift, trainSet, testSet, shape, batchSize, evalExamples, sourceSteps,
                sourceLearningRate, finetuneSteps, finetuneLearningRate, context.seed() ^ SOURCE_SEED);
    }

    /**
     * Runs both networks on two zero inputs before anything trains, so a model or encoder that does
     * not fit the data fails here, naming the field and both shapes. Returns the encoder's width.
     */
    private static int probe(BuildContext context, ChannelOffsets offsets, Module encoderModule, Shape shape, int outputs) {
        Module frozen = offsets.module();
        int[] dims = new int[shape.rank() + 1];
        dims[0] = 2;
        System.arraycopy(shape.dims(), 0, dims, 1, shape.rank());
        try (Scope s = Scope.open()) {
            Tensor x = context.engine().zeros(Shape.of(dims), context.engine().defaultDType());
            Tensor y;
            try {
                y = frozen.apply(frozen.init(context.engine(), RandomStream.of(0)), x);
            } catch (IllegalArgumentException e) {
                throw new SpecException(TYPE + " experiment at $.experiment.model: the model does not read inputs " + Shape.of(dims) + ": "
                        + e.getMessage(), "$.experiment.model", e);
            }
            if (y.rank() != 2 || y.dim(1) != outputs) {
                throw new SpecException(TYPE + " experiment at $.experiment.model: the model returns " + y.shape() + " for inputs "
                        + Shape.of(dims) + " but the data has " + outputs + " classes; its output must be [N, " + outputs + "]",
                        "$.experiment.model", null);
            }
            try {
                // The per-input form: each input runs through its own modulated network (a weight batch of N).
                offsets.apply(frozen.init(context.engine(), RandomStream.of(0)), context.engine().zeros(Shape.of(2, offsets.size()),
                        context.engine().defaultDType()), x);
            } catch (IllegalArgumentException e) {
                throw new SpecException(TYPE + " experiment at $.experiment.model: the model does not run as a weight batch of one network"
                        + " per input (inputs [N, 1, ...]): " + e.getMessage() + "; every layer must accept a weight batch, and a flatten"
                        + " must merge the trailing axes only ({\"type\": \"flatten\", \"startAxis\": -3, \"endAxis\": -1})",
                        "$.experiment.model", e);
            }
            Tensor e;
            try {
                e = encoderModule.apply(encoderModule.init(context.engine(), RandomStream.of(0)), x);
            } catch (IllegalArgumentException ex) {
                throw new SpecException(TYPE + " experiment at $.experiment.encoder: the encoder does not read inputs " + Shape.of(dims)
                        + ": " + ex.getMessage(), "$.experiment.encoder", ex);
            }
            if (e.rank() != 2) {
                throw new SpecException(TYPE + " experiment at $.experiment.encoder: the encoder returns " + e.shape() + " for inputs "
                        + Shape.of(dims) + "; it must return features [N, F] (end it with a flatten or a linear layer)",
                        "$.experiment.encoder", null);
            }
            return e.dim(1);
        }
    }
}
