package dev.metaforge.plugins.hyper;

import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.hyper.TaskSequenceSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;

/**
 * {@code "permuted"}: the Permuted benchmark ({@link DatasetTaskSequence}) over a labelled dataset, e.g. Permuted
 * Fashion-MNIST from Debian's {@code dataset-fashion-mnist}:
 *
 * <pre>{@code
 * {"type": "permuted", "train": {"type": "idx", "split": "train"}, "test": {"type": "idx", "split": "test"},
 *  "tasks": 5, "mean": 0.286, "std": 0.353}
 * }</pre>
 *
 * @param train          the training set (required)
 * @param test           the test set the held-out sets come from (required)
 * @param tasks          number of tasks, the first unpermuted (default 5)
 * @param mean           input normalisation mean (default 0)
 * @param std            input normalisation standard deviation (default 1)
 * @param evaluationSize held-out examples per task (default 1000)
 * @param seed           seed of the permutations and of the held-out choice (default 0)
 */
public record PermutedSequenceSpec(
        LabelledDatasetSpec train,
        LabelledDatasetSpec test,
        @Range(min = 1, max = 4096, what = "number of tasks") Integer tasks,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "normalisation mean") Double mean,
        @Range(min = 0, minExclusive = true, max = Limits.MAX_MAGNITUDE, what = "normalisation standard deviation") Double std,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "held-out examples per task") Integer evaluationSize,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long seed) implements TaskSequenceSpec {
    static final String TYPE = "permuted";

    public PermutedSequenceSpec {
        SpecChecks.requiredObject(train, TYPE, "train");
        SpecChecks.requiredObject(test, TYPE, "test");
        tasks = tasks == null ? 5 : tasks;
        mean = mean == null ? 0.0 : mean;
        std = std == null ? 1.0 : std;
        evaluationSize = evaluationSize == null ? 1000 : evaluationSize;
        seed = seed == null ? 0L : seed;
    }

    @Override
    public TaskSequence build(BuildContext context) {
        return new DatasetTaskSequence(DatasetTaskSequence.Kind.PERMUTED, train.build(context), test.build(context), tasks, 0, mean,
                std, evaluationSize, seed);
    }
}
