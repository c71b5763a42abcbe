package dev.metaforge.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a distributed run's steps cost: bytes broadcast and returned, and where the time went,
 * step by step. Updated by the driver thread only.
 */
final class SparkStats {
    private final List<long[]> steps = new ArrayList<>();

    /** One step: bytes broadcast, bytes returned, shards, job nanos, whole-step nanos, slowest shard's compute nanos. */
    void record(long broadcast, long results, int shards, long job, long step, long slowestShard) {
        steps.add(new long[] {broadcast, results, shards, job, step, slowestShard});
    }

    /** Forgets the steps so far (e.g. warm-up). */
    void reset() {
        steps.clear();
    }

    long steps() {
        return steps.size();
    }

    /** Parameter bytes broadcast per step (each executor fetches them once). */
    double broadcastBytesPerStep() {
        return mean(0);
    }

    /** Gradient bytes returned per step, all shards together. */
    double resultBytesPerStep() {
        return mean(1);
    }

    /** Median wall time of a step's Spark job (broadcast, tasks, collect), milliseconds. */
    double jobMillis() {
        return median(3) / 1e6;
    }

    /** Median wall time of a whole distributed step on the driver, milliseconds. */
    double stepMillis() {
        return median(4) / 1e6;
    }

    /** Median compute time of a step's slowest shard (inside the task, without Spark), milliseconds. */
    double slowestShardMillis() {
        return median(5) / 1e6;
    }

    private double mean(int column) {
        return steps.isEmpty() ? 0 : steps.stream().mapToLong(s -> s[column]).average().orElse(0);
    }

    private double median(int column) {
        if (steps.isEmpty()) {
            return 0;
        }
        long[] v = steps.stream().mapToLong(s -> s[column]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d steps, %.0f B broadcast + %.0f B returned per step, median job %.2f ms, slowest shard %.2f ms",
                steps(), broadcastBytesPerStep(), resultBytesPerStep(), jobMillis(), slowestShardMillis());
    }
}
