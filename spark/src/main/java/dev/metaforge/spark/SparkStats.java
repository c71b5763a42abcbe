package dev.metaforge.spark;

/**
 * What a distributed run's steps cost: bytes broadcast and returned, and where the time went.
 * Updated by the driver thread only.
 */
final class SparkStats {
    private long steps;
    private long broadcastBytes;
    private long resultBytes;
    private long tasks;
    private long jobNanos;
    private long stepNanos;
    private long slowestShardNanos;

    void record(long broadcast, long results, int shards, long job, long step, long slowestShard) {
        steps++;
        broadcastBytes += broadcast;
        resultBytes += results;
        tasks += shards;
        jobNanos += job;
        stepNanos += step;
        slowestShardNanos += slowestShard;
    }

    long steps() {
        return steps;
    }

    /** Parameter bytes broadcast per step (each executor fetches them once). */
    double broadcastBytesPerStep() {
        return steps == 0 ? 0 : broadcastBytes / (double) steps;
    }

    /** Gradient bytes returned per step, all shards together. */
    double resultBytesPerStep() {
        return steps == 0 ? 0 : resultBytes / (double) steps;
    }

    /** Mean wall time of a step's Spark job (broadcast, tasks, collect). */
    double jobMillisPerStep() {
        return steps == 0 ? 0 : jobNanos / 1e6 / steps;
    }

    /** Mean wall time of a whole distributed step on the driver. */
    double stepMillis() {
        return steps == 0 ? 0 : stepNanos / 1e6 / steps;
    }

    /** Mean compute time of the slowest shard of a step (inside the task, without Spark). */
    double slowestShardMillis() {
        return steps == 0 ? 0 : slowestShardNanos / 1e6 / steps;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%d steps, %.0f B broadcast + %.0f B returned per step, job %.2f ms, slowest shard %.2f ms",
                steps, broadcastBytesPerStep(), resultBytesPerStep(), jobMillisPerStep(), slowestShardMillis());
    }
}
