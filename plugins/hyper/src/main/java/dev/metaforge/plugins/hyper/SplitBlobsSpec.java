package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.hyper.TaskSequenceSpec;

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
public record SplitBlobsSpec(Integer tasks, Double noise, Integer evaluationSize, Long seed) implements TaskSequenceSpec {
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
