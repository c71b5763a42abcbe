package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.hyper.TaskSequenceSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * {@code "split-blobs"}: {@link SplitBlobsSequence}, a synthetic split-task sequence for continual learning.
 *
 * <pre>{@code {"type": "split-blobs", "tasks": 5, "noise": 0.4, "evaluationSize": 200, "seed": 7}}</pre>
 *
 * @param tasks          number of binary tasks (default 5)
 * @param noise          blob standard deviation (default 0.4)
 * @param evaluationSize held-out points per task (default 200)
 * @param seed           seed of the held-out sets (default 7)
 */
public record SplitBlobsSpec(
        @Range(min = 1, max = 4096, what = "number of tasks") Integer tasks,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "blob standard deviation") Double noise,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "held-out points per task") Integer evaluationSize,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long seed) implements TaskSequenceSpec {
    public SplitBlobsSpec {
        tasks = tasks == null ? 5 : tasks;
        noise = noise == null ? 0.4 : noise;
        evaluationSize = evaluationSize == null ? 200 : evaluationSize;
        seed = seed == null ? 7L : seed;
    }

    @Override
    public TaskSequence build() {
        return new SplitBlobsSequence(tasks, noise, evaluationSize, seed);
    }
}
