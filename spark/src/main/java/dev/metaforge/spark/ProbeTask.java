package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.train.ShardedObjective;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.StringWriter;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * Before the first step, each shard's executor opens its worker (backend and objective) and says
 * what it got, or why it could not: problems come back as values, not failed tasks, so the driver
 * reports them at once instead of after Spark's retries.
 */
final class ProbeTask implements Function<ShardRange, ProbeTask.Report> {
    private static final long serialVersionUID = 1L;

    /**
     * One executor's answer.
     *
     * @param shard     the shard it would run
     * @param host      the executor's host
     * @param backend   the backend it opened (null on failure)
     * @param units     the objective's unit count at step 0
     * @param shardable whether its objective can be split
     * @param problem   why the worker could not be opened (null when it could)
     */
    record Report(int shard, String host, String backend, int units, boolean shardable, String problem) implements Serializable {
    }

    private final Broadcast<RunBlueprint> blueprint;

    ProbeTask(Broadcast<RunBlueprint> blueprint) {
        this.blueprint = requireNonNull(blueprint, "blueprint is null");
    }

    @Override
    public Report call(ShardRange range) {
        String host = ShardTask.host();
        WorkerPool pool;
        ExecutorWorker worker;
        try {
            pool = blueprint.value().pool();
            worker = pool.borrow();
        } catch (RuntimeException | LinkageError e) {
            return new Report(range.index(), host, null, 0, false, describe(e));
        }
        try {
            ShardedObjective objective = worker.objective();
            return new Report(range.index(), host, worker.backend().name(), objective.shardUnits(0), objective.shardable(), null);
        } finally {
            pool.giveBack(worker);
        }
    }

    private static String describe(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getName() : e.getClass().getSimpleName() + ": " + e.getMessage();
        if (e.getCause() != null && e.getCause().getMessage() != null && !message.contains(e.getCause().getMessage())) {
            message += " (caused by " + e.getCause().getMessage() + ")";
        }
        if (e instanceof LinkageError) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            message += "\n" + trace;
        }
        return message;
    }
}
