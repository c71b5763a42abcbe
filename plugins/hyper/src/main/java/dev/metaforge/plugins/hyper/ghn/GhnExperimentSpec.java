package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.plugins.hyper.HeldOutSplit;
import dev.metaforge.spi.Shape;

/**
 * JSON type {@code ghn}: a graph hypernetwork (GHN-2/3 with the LoGAH low-rank decoder) trained
 * over an {@link ArchitectureSpace} of MLP or CNN classifiers on a labelled dataset; see {@link GhnObjective}.
 *
 * <p>The defining property of a graph hypernetwork is that <b>one forward pass of the graph network
 * predicts all parameters of an architecture it never saw</b>. Evaluation measures exactly that: the
 * held-out architectures of the space are never drawn in training, and their predicted parameters
 * are scored with no training step, against random initialisation and after a few SGD steps from
 * each. {@code GhnExperimentTest#predictedWeightsOfHeldOutArchitecturesBeatRandomInitialisation}
 * proves it: on a generated 4-class task, averaged over three seeds, the predicted weights of the
 * held-out architectures beat their random initialisation by more than 0.3 in accuracy.
 *
 * <pre>{@code
 * {"type": "ghn",
 *  "train": {"type": "idx"}, "test": {"type": "idx", "split": "test"},
 *  "space": {"depths": [1, 2], "widths": [32, 64], "activations": ["relu", "tanh"], "heldOut": 4},
 *  "archsPerStep": 4, "batchSize": 64}
 * }</pre>
 *
 * @param train                the training set (required)
 * @param test                 the test set; without it, a fixed random {@code testFraction} of {@code train}
 * @param testFraction         share of {@code train} held out as the test set when {@code test} is absent (default 0.2)
 * @param mean                 input normalisation: subtract (with {@code std}; default none)
 * @param std                  input normalisation: divide (with {@code mean})
 * @param space                the architecture space (default: {@link ArchitectureSpace}'s defaults)
 * @param embed                node-embedding width of the graph network (default 32)
 * @param rounds               message-passing rounds, each a forward and a backward sweep (default 1)
 * @param decoderHidden        hidden width of the decoder (default 64)
 * @param rank                 rank r of the LoGAH decoder, W = A·Bᵀ (default 8)
 * @param archsPerStep         architectures per training step (default 4)
 * @param batchSize            examples per training and fine-tuning step (default 64)
 * @param evalExamples         test examples scored (default 10000, at most the test set)
 * @param finetuneSteps        SGD steps of the fine-tuned columns (default 20)
 * @param finetuneLearningRate their learning rate (default 0.05)
 */
public record GhnExperimentSpec(
        LabelledDatasetSpec train,
        LabelledDatasetSpec test,
        @Range(min = 0, max = 1, what = "test fraction") Double testFraction,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "input mean") Double mean,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "input standard deviation") Double std,
        ArchitectureSpace space,
        @Range(min = 1, max = 4096, what = "node-embedding width") Integer embed,
        @Range(min = 0, max = 64, what = "message-passing rounds") Integer rounds,
        @Range(min = 1, max = 4096, what = "decoder hidden width") Integer decoderHidden,
        @Range(min = 1, max = 4096, what = "decoder rank") Integer rank,
        @Range(min = 1, max = 1024, what = "architectures per step") Integer archsPerStep,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "batch size") Integer batchSize,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "evaluated examples") Integer evalExamples,
        @Range(min = 0, max = 100_000, what = "fine-tuning steps") Integer finetuneSteps,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "learning rate") Double finetuneLearningRate) implements ExperimentSpec {
    /** The JSON type name. */
    public static final String TYPE = "ghn";

    /** Seed of the fixed shuffle that splits {@code train} when there is no {@code test}. */

    /** Fills defaults and checks the fields, naming them. */
    public GhnExperimentSpec {
        if (train == null) {
            throw new IllegalArgumentException("spec 'ghn': field 'train' is required: a labelled dataset spec such as"
                    + " {\"type\": \"idx\"} (Fashion-MNIST) or {\"type\": \"gaussian-clusters\", ...}");
        }
        testFraction = testFraction == null ? 0.2 : testFraction;
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("spec 'ghn': field 'testFraction' must lie strictly between 0 and 1, got " + testFraction);
        }
        if ((mean == null) != (std == null)) {
            throw new IllegalArgumentException("spec 'ghn': field '" + (mean == null ? "mean" : "std") + "' is missing: give the input"
                    + " normalisation's mean and std together, or neither");
        }
        if (std != null && !(std > 0)) {
            throw new IllegalArgumentException("spec 'ghn': field 'std' must be > 0, got " + std);
        }
        space = space == null ? ArchitectureSpace.mlp(null, null, null, null, null) : space;
        embed = positive(embed, 32, "embed");
        rounds = rounds == null ? 1 : rounds;
        if (rounds < 0) {
            throw new IllegalArgumentException("spec 'ghn': field 'rounds' must be >= 0, got " + rounds);
        }
        decoderHidden = positive(decoderHidden, 64, "decoderHidden");
        rank = positive(rank, 8, "rank");
        archsPerStep = positive(archsPerStep, 4, "archsPerStep");
        batchSize = positive(batchSize, 64, "batchSize");
        evalExamples = positive(evalExamples, 10_000, "evalExamples");
        finetuneSteps = finetuneSteps == null ? 20 : finetuneSteps;
        if (finetuneSteps < 0) {
            throw new IllegalArgumentException("spec 'ghn': field 'finetuneSteps' must be >= 0, got " + finetuneSteps);
        }
        finetuneLearningRate = finetuneLearningRate == null ? 0.05 : finetuneLearningRate;
        if (!(finetuneLearningRate >= 0) || Double.isInfinite(finetuneLearningRate)) {
            throw new IllegalArgumentException("spec 'ghn': field 'finetuneLearningRate' must be a finite number >= 0, got "
                    + finetuneLearningRate);
        }
    }

    private static int positive(Integer value, int fallback, String field) {
        if (value == null) {
            return fallback;
        }
        if (value < 1) {
            throw new IllegalArgumentException("spec 'ghn': field '" + field + "' must be >= 1, got " + value);
        }
        return value;
    }

    @Override
    public Objective build(BuildContext context) {
        LabelledDataset trainSet = train.build(context);
        LabelledDataset testSet;
        if (test != null) {
            testSet = test.build(context);
        } else {
            HeldOutSplit split = HeldOutSplit.of(trainSet, testFraction, "ghn");
            trainSet = split.train();
            testSet = split.test();
        }
        if (mean != null) {
            trainSet = trainSet.normalized(mean, std);
            testSet = testSet.normalized(mean, std);
        }
        Shape example;
        try {
            example = space.exampleShape(trainSet.exampleShape());
        } catch (IllegalArgumentException e) {
            throw new SpecException("ghn experiment at $.experiment.space.image: " + e.getMessage(), "$.experiment.space.image", e);
        }
        int[] classes = trainSet.classes();
        GraphHyperNetwork.Sizes sizes = GraphHyperNetwork.sizeFor(space.extremes(example, classes[classes.length - 1] + 1), embed,
                decoderHidden);
        GraphHyperNetwork ghn = new GraphHyperNetwork(new GraphEncoder(embed, rounds), new LowRankDecoder(sizes.size(), rank),
                sizes.maxBias());
        return new GhnObjective(context.engine(), ghn, space, trainSet, testSet, example, archsPerStep, batchSize, evalExamples,
                finetuneSteps, finetuneLearningRate);
    }
}
