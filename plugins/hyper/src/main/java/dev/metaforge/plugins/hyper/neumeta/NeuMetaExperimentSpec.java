package dev.metaforge.plugins.hyper.neumeta;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON type {@code neumeta}: a NeuMeta coordinate network ({@link ImplicitWeights}) trained with
 * randomly sampled widths, so one network yields MLPs of any hidden width.
 *
 * <p>Two tasks. Without {@code train}, the toy regression of {@link NeuMetaObjective} (1-w-1 tanh
 * MLPs fitting sin(3x)). With {@code train} (a labelled dataset, e.g. {@code {"type": "idx"}} for
 * Fashion-MNIST), the paper's pipeline of {@link NeuMetaClassifierObjective}: train a source MLP of
 * width {@code sourceWidth}, smooth it by neuron permutation, then train the coordinate network on
 * the cross-entropy of networks sampled at random widths plus the reconstruction of the smoothed
 * source; evaluation writes accuracy per width (against independently trained networks with
 * {@code baselineSteps > 0}) to {@code widths.csv}.
 *
 * <pre>{@code
 * {"type": "neumeta", "train": {"type": "idx"}, "test": {"type": "idx", "split": "test"},
 *  "depth": 1, "minWidth": 16, "maxWidth": 64, "widths": [16, 32, 48, 64], "sourceSteps": 600, "baselineSteps": 600}
 * }</pre>
 *
 * @param frequencies          Fourier frequencies per coordinate (default 3)
 * @param hidden               coordinate network hidden sizes (default [32, 32])
 * @param minWidth             smallest sampled hidden width (default 4)
 * @param maxWidth             largest sampled hidden width (default 32)
 * @param widths               widths reported by evaluation (default [4, 8, 16, 32])
 * @param batch                points (regression) or examples (classification) per step (default 64)
 * @param train                classification only: the training set; its presence selects the classification task
 * @param test                 the test set; without it, the last {@code testFraction} of each class of {@code train}
 * @param testFraction         share of each class held out when {@code test} is absent (default 0.2)
 * @param mean                 input normalisation: subtract (with {@code std}; default none)
 * @param std                  input normalisation: divide (with {@code mean})
 * @param depth                hidden layers of the sampled MLPs, all of the sampled width (default 1)
 * @param stem                 width of a fixed input layer (inputs -> stem, ReLU) before the sampled hidden layers: trained
 *                             with the source, smoothed with it, then kept, not generated (default 0: none, every layer generated)
 * @param layerHeads           one coordinate-network output per generated layer over a shared trunk, as the paper's
 *                             (default true); false: one output for all layers, the layer told apart by its coordinate only
 * @param sourceWidth          hidden width of the trained source network (default {@code maxWidth})
 * @param sourceSteps          Adam steps of the source network (default 500)
 * @param sourceLearningRate   their learning rate (default 0.001)
 * @param reconWeight          weight of the reconstruction term (default 1, as the paper)
 * @param regWeight            weight of the sampled tensors' L2 norms (default 1e-4, as the paper)
 * @param baselineSteps        Adam steps of each independently trained network of each evaluated width (default 0: none)
 * @param baselineLearningRate their learning rate (default {@code sourceLearningRate})
 * @param evalExamples         test examples scored (default 10000, at most the test set)
 * @param coordinateNoise      the paper's coordinate noise in training: every input and output index moves by up to
 *                             ±coordinateNoise/2 index steps (default 0: none; the paper's Fashion-MNIST setting is 1)
 */
public record NeuMetaExperimentSpec(
        @Range(min = 0, max = 16, what = "Fourier frequencies") Integer frequencies,
        @Range(min = 1, max = 4096, what = "coordinate network hidden size") List<Integer> hidden,
        @Range(min = 1, max = 4096, what = "smallest sampled width") Integer minWidth,
        @Range(min = 1, max = 4096, what = "largest sampled width") Integer maxWidth,
        @Range(min = 1, max = 4096, what = "evaluated width") List<Integer> widths,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "points per step") Integer batch,
        LabelledDatasetSpec train,
        LabelledDatasetSpec test,
        @Range(min = 0, max = 1, what = "test fraction") Double testFraction,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "input mean") Double mean,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "input standard deviation") Double std,
        @Range(min = 1, max = 64, what = "hidden layers") Integer depth,
        @Range(min = 0, max = 4096, what = "stem width") Integer stem,
        Boolean layerHeads,
        @Range(min = 1, max = 4096, what = "source width") Integer sourceWidth,
        @Range(min = 0, max = 1_000_000, what = "source training steps") Integer sourceSteps,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "learning rate") Double sourceLearningRate,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "reconstruction weight") Double reconWeight,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "norm weight") Double regWeight,
        @Range(min = 0, max = 1_000_000, what = "baseline training steps") Integer baselineSteps,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "learning rate") Double baselineLearningRate,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "evaluated examples") Integer evalExamples,
        @Range(min = 0, max = 1000, what = "coordinate noise") Double coordinateNoise) implements ExperimentSpec {
    /** The JSON type name. */
    public static final String TYPE = "neumeta";

    /** Fills defaults and checks the fields, naming them. */
    public NeuMetaExperimentSpec {
        frequencies = frequencies == null ? 3 : frequencies;
        hidden = hidden == null ? List.of(32, 32) : List.copyOf(hidden);
        minWidth = minWidth == null ? 4 : minWidth;
        maxWidth = maxWidth == null ? 32 : maxWidth;
        widths = widths == null ? List.of(4, 8, 16, 32) : List.copyOf(widths);
        batch = batch == null ? 64 : batch;
        if (minWidth < 1 || maxWidth < minWidth) {
            throw new IllegalArgumentException("spec 'neumeta': need 1 <= minWidth <= maxWidth, got minWidth "
                    + minWidth + " and maxWidth " + maxWidth + "; fix fields 'minWidth'/'maxWidth'");
        }
        if (widths.isEmpty()) {
            throw new IllegalArgumentException("spec 'neumeta': field 'widths' is empty; list the hidden widths to evaluate,"
                    + " e.g. [16, 32, 64]");
        }
        for (int i = 0; i < widths.size(); i++) {
            if (widths.get(i) == null || widths.get(i) < 1) {
                throw new IllegalArgumentException("spec 'neumeta': field 'widths' entry " + i + " is " + widths.get(i)
                        + "; every evaluated width must be >= 1");
            }
        }
        if (frequencies < 0 || frequencies > 16 || batch < 1) {
            throw new IllegalArgumentException("spec 'neumeta': frequencies must be in [0, 16] and batch >= 1; got frequencies "
                    + frequencies + ", batch " + batch);
        }
        if (train == null) {
            // The regression task has none of the classification fields: say which one was given.
            Map<String, Object> classificationOnly = new LinkedHashMap<>();
            classificationOnly.put("test", test);
            classificationOnly.put("testFraction", testFraction);
            classificationOnly.put("mean", mean);
            classificationOnly.put("std", std);
            classificationOnly.put("depth", depth);
            classificationOnly.put("stem", stem);
            classificationOnly.put("layerHeads", layerHeads);
            classificationOnly.put("sourceWidth", sourceWidth);
            classificationOnly.put("sourceSteps", sourceSteps);
            classificationOnly.put("sourceLearningRate", sourceLearningRate);
            classificationOnly.put("reconWeight", reconWeight);
            classificationOnly.put("regWeight", regWeight);
            classificationOnly.put("baselineSteps", baselineSteps);
            classificationOnly.put("baselineLearningRate", baselineLearningRate);
            classificationOnly.put("evalExamples", evalExamples);
            classificationOnly.put("coordinateNoise", coordinateNoise);
            List<String> given = new ArrayList<>();
            classificationOnly.forEach((k, v) -> {
                if (v != null) {
                    given.add(k);
                }
            });
            if (!given.isEmpty()) {
                throw new IllegalArgumentException("spec 'neumeta': field '" + given.get(0) + "' belongs to the classification task,"
                        + " which needs field 'train' (a labelled dataset such as {\"type\": \"idx\"}); without 'train' the"
                        + " experiment is the sin(3x) regression. Add 'train' or remove " + given);
            }
        } else {
            testFraction = testFraction == null ? 0.2 : testFraction;
            if (!(testFraction > 0 && testFraction < 1)) {
                throw new IllegalArgumentException("spec 'neumeta': field 'testFraction' must lie strictly between 0 and 1, got "
                        + testFraction);
            }
            if ((mean == null) != (std == null)) {
                throw new IllegalArgumentException("spec 'neumeta': field '" + (mean == null ? "mean" : "std") + "' is missing: give the"
                        + " input normalisation's mean and std together, or neither");
            }
            if (std != null && !(std > 0)) {
                throw new IllegalArgumentException("spec 'neumeta': field 'std' must be > 0, got " + std);
            }
            depth = depth == null ? 1 : depth;
            stem = stem == null ? 0 : stem;
            layerHeads = layerHeads == null ? Boolean.TRUE : layerHeads;
            sourceWidth = sourceWidth == null ? maxWidth : sourceWidth;
            sourceSteps = sourceSteps == null ? 500 : sourceSteps;
            sourceLearningRate = sourceLearningRate == null ? 1e-3 : sourceLearningRate;
            reconWeight = reconWeight == null ? 1.0 : reconWeight;
            regWeight = regWeight == null ? 1e-4 : regWeight;
            baselineSteps = baselineSteps == null ? 0 : baselineSteps;
            baselineLearningRate = baselineLearningRate == null ? sourceLearningRate : baselineLearningRate;
            evalExamples = evalExamples == null ? 10_000 : evalExamples;
            coordinateNoise = coordinateNoise == null ? 0.0 : coordinateNoise;
            if (!(coordinateNoise >= 0) || Double.isInfinite(coordinateNoise)) {
                throw new IllegalArgumentException("spec 'neumeta': field 'coordinateNoise' must be a finite number >= 0, got "
                        + coordinateNoise);
            }
            if (depth < 1 || stem < 0 || sourceWidth < 1 || sourceSteps < 0 || baselineSteps < 0 || evalExamples < 1) {
                throw new IllegalArgumentException("spec 'neumeta': need depth >= 1, sourceWidth >= 1, sourceSteps >= 0, baselineSteps"
                        + " >= 0 and evalExamples >= 1; got " + depth + ", " + sourceWidth + ", " + sourceSteps + ", " + baselineSteps
                        + ", " + evalExamples);
            }
            for (double v : new double[] {sourceLearningRate, reconWeight, regWeight, baselineLearningRate}) {
                if (!(v >= 0) || Double.isInfinite(v)) {
                    throw new IllegalArgumentException("spec 'neumeta': learning rates and loss weights must be finite and >= 0; got"
                            + " sourceLearningRate " + sourceLearningRate + ", reconWeight " + reconWeight + ", regWeight " + regWeight
                            + ", baselineLearningRate " + baselineLearningRate);
                }
            }
        }
    }

    @Override
    public Objective build(BuildContext context) {
        if (train == null) {
            return new NeuMetaObjective(context.engine(), new ImplicitWeights(frequencies, hidden), minWidth, maxWidth, widths, batch);
        }
        // Generated layers: depth hidden layers and the output layer (the stem is not generated).
        ImplicitWeights implicit = new ImplicitWeights(frequencies, hidden, layerHeads ? depth + 1 : 1);
        LabelledDataset trainSet = dataset(train, "train", context);
        LabelledDataset testSet;
        if (test != null) {
            testSet = dataset(test, "test", context);
        } else {
            int[][] split = stratifiedSplit(trainSet, testFraction);
            if (split[0].length == 0 || split[1].length == 0) {
                throw new SpecException("neumeta experiment: field 'testFraction' (" + testFraction + ") of " + trainSet.size()
                        + " examples leaves an empty training or test set; give more examples, another fraction, or a \"test\" dataset",
                        "$.experiment.testFraction", null);
            }
            LabelledDataset whole = trainSet;
            trainSet = whole.subset(split[0]);
            testSet = whole.subset(split[1]);
        }
        if (mean != null) {
            trainSet = trainSet.normalized(mean, std);
            testSet = testSet.normalized(mean, std);
        }
        return new NeuMetaClassifierObjective(context.engine(), implicit, trainSet, testSet, new NeuMetaClassifierObjective.Settings(
                depth, stem, sourceWidth, minWidth, maxWidth, widths, batch, sourceSteps, sourceLearningRate, reconWeight, regWeight,
                baselineSteps, baselineLearningRate, evalExamples, coordinateNoise, context.seed()));
    }

    /** Builds a dataset field; a missing or unreadable file is reported with the field's JSON path. */
    private static LabelledDataset dataset(LabelledDatasetSpec spec, String field, BuildContext context) {
        try {
            return spec.build(context);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            throw new SpecException("neumeta experiment: field '" + field + "' ($.experiment." + field + "): " + e.getMessage(), "$.experiment." + field, e);
        }
    }

    /** Training rows and test rows: the last {@code fraction} of each class's rows (in stored order) are held out. */
    static int[][] stratifiedSplit(LabelledDataset data, double fraction) {
        List<Integer> trainRows = new ArrayList<>();
        List<Integer> testRows = new ArrayList<>();
        for (int[] rows : data.rowsByClass().values()) {
            int cut = rows.length - (int) Math.round(rows.length * fraction);
            for (int i = 0; i < rows.length; i++) {
                (i < cut ? trainRows : testRows).add(rows[i]);
            }
        }
        return new int[][] {trainRows.stream().mapToInt(Integer::intValue).toArray(), testRows.stream().mapToInt(Integer::intValue).toArray()};
    }
}
