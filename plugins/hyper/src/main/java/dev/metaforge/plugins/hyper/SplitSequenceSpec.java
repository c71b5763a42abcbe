package dev.metaforge.plugins.hyper;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.hyper.TaskSequenceSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;

/**
 * {@code "split"}: the Split benchmark ({@link DatasetTaskSequence}) over a labelled dataset, e.g. Split
 * Fashion-MNIST (five tasks of two classes) from Debian's {@code dataset-fashion-mnist}:
 *
 * <pre>{@code
 * {"type": "split", "train": {"type": "idx"}, "test": {"type": "idx", "split": "test"}, "classesPerTask": 2,
 *  "mean": 0.286, "std": 0.353}
 * }</pre>
 *
 * @param train          the training set (required)
 * @param test           the test set the held-out sets come from (required)
 * @param classesPerTask classes per task, labels renumbered from 0 within a task (default 2)
 * @param tasks          number of tasks (default: every whole group the classes make)
 * @param mean           input normalisation mean (default 0)
 * @param std            input normalisation standard deviation (default 1)
 * @param evaluationSize held-out examples per task (default 1000)
 * @param seed           seed of the held-out choice (default 0)
 */
public record SplitSequenceSpec(
        LabelledDatasetSpec train,
        LabelledDatasetSpec test,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "classes per task") Integer classesPerTask,
        @Range(min = 1, max = 4096, what = "number of tasks") Integer tasks,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "normalisation mean") Double mean,
        @Range(min = 0, minExclusive = true, max = Limits.MAX_MAGNITUDE, what = "normalisation standard deviation") Double std,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "held-out examples per task") Integer evaluationSize,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long seed) implements TaskSequenceSpec {
    static final String TYPE = "split";

    public SplitSequenceSpec {
        SpecChecks.requiredObject(train, TYPE, "train");
        SpecChecks.requiredObject(test, TYPE, "test");
        classesPerTask = classesPerTask == null ? 2 : classesPerTask;
        mean = mean == null ? 0.0 : mean;
        std = std == null ? 1.0 : std;
        evaluationSize = evaluationSize == null ? 1000 : evaluationSize;
        seed = seed == null ? 0L : seed;
    }

    @Override
    public TaskSequence build(BuildContext context) {
        LabelledDataset trainSet = train.build(context);
        int count = tasks != null ? tasks : trainSet.classes().length / classesPerTask;
        return new DatasetTaskSequence(DatasetTaskSequence.Kind.SPLIT, trainSet, test.build(context), count, classesPerTask, mean, std,
                evaluationSize, seed);
    }
}
