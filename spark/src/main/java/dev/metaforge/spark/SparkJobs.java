package dev.metaforge.spark;

import dev.metaforge.api.train.TrainingException;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;

/** Running a Spark job from the driver with an optional deadline, and reading Spark's errors. */
final class SparkJobs {
    private SparkJobs() {
    }

    /**
     * Runs {@code job} (which submits Spark jobs) and returns its result. With a positive
     * {@code timeoutMillis} the job runs in its own job group and is cancelled when it takes
     * longer; {@code what} names it in the message.
     *
     * @throws SparkException when a Spark job failed (after Spark's own retries)
     * @throws TrainingException when the deadline passed
     */
    static <T> T await(JavaSparkContext spark, String what, long timeoutMillis, Callable<T> job) throws SparkException {
        if (timeoutMillis <= 0) {
            return call(job);
        }
        String group = "metaforge-" + UUID.randomUUID();
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "metaforge-spark-job");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<T> future = thread.submit(() -> {
                spark.setJobGroup(group, what, true);
                try {
                    return call(job);
                } finally {
                    spark.clearJobGroup();
                }
            });
            try {
                return future.get(timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                spark.cancelJobGroup(group);
                future.cancel(true);
                throw new TrainingException(what + " did not finish within " + timeoutMillis / 1000 + " s on master "
                        + spark.master() + ": no executor ran its tasks. Check that the cluster's workers are up and offer the"
                        + " cores and memory asked for (spark.executor.cores, spark.executor.memory), or raise"
                        + " metaforge.spark.startTimeoutSeconds");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                spark.cancelJobGroup(group);
                throw new TrainingException("interrupted while waiting for " + what, e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof SparkException s) {
                    throw s;
                }
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(cause);
            }
        } finally {
            thread.shutdownNow();
        }
    }

    private static <T> T call(Callable<T> job) throws SparkException {
        try {
            return job.call();
        } catch (SparkException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first line of Spark's message, which names the failed task and the executor's exception. */
    static String rootMessage(Throwable e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
