package dev.metaforge.api.meta;

import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;

/**
 * A distribution over tasks: draws a meta-batch of T tasks at once. Every random choice comes
 * from {@code rng}, so the same stream gives the same batch (resumable, reproducible runs).
 *
 * <pre>{@code
 * TaskBatch batch = sampler.sample(engine, 25, rng.split());
 * }</pre>
 */
public interface TaskSampler {
    /** T tasks with their support and query sets, as tensors of {@code engine}'s default dtype. */
    TaskBatch sample(Engine engine, int tasks, RandomStream rng);

    /** How predictions on these tasks are judged. */
    TaskLoss loss();
}
