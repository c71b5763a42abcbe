package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import java.io.Serializable;

/**
 * What an executor needs to rebuild a run's objective, broadcast once per run: the resolved
 * spec as JSON, the directory its relative paths resolve against, and the backend to open. Each
 * executor JVM keeps the workers it opened for this run in a {@link WorkerPool} held by its
 * (Spark-cached) copy of the broadcast value, so backends and objectives are built once per
 * executor thread and run, not once per step.
 */
final class RunBlueprint implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String runId;
    private final String specJson;
    private final String baseDir;
    private final String backendName;
    private final int backendThreads;
    private final long failStep;
    private final int failShard;
    private transient volatile WorkerPool pool;

    /**
     * @param runId          names the run in messages
     * @param specJson       the resolved training spec ({@code SpecRegistry.write})
     * @param baseDir        directory relative paths in the spec resolve against (must exist on executors)
     * @param backendName    backend to open on executors (null: the selection rule there)
     * @param backendThreads intra-op threads per backend (0: the backend's default)
     * @param failStep       a drill: the first attempt of shard {@code failShard} at this step fails (-1: never)
     * @param failShard      see {@code failStep}
     */
    RunBlueprint(String runId, String specJson, String baseDir, String backendName, int backendThreads, long failStep, int failShard) {
        this.runId = requireNonNull(runId, "runId is null");
        this.specJson = requireNonNull(specJson, "specJson is null");
        this.baseDir = requireNonNull(baseDir, "baseDir is null");
        this.backendName = backendName;
        this.backendThreads = backendThreads;
        this.failStep = failStep;
        this.failShard = failShard;
    }

    String runId() {
        return runId;
    }

    String specJson() {
        return specJson;
    }

    String baseDir() {
        return baseDir;
    }

    String backendName() {
        return backendName;
    }

    int backendThreads() {
        return backendThreads;
    }

    boolean failsAt(long step, int shard, int attempt) {
        return attempt == 0 && step == failStep && shard == failShard;
    }

    /** This JVM's workers for the run, created on first use. */
    WorkerPool pool() {
        WorkerPool p = pool;
        if (p == null) {
            synchronized (this) {
                p = pool;
                if (p == null) {
                    p = new WorkerPool(this);
                    pool = p;
                }
            }
        }
        return p;
    }

    /** Closes this JVM's workers (the driver's, and in local mode the executors', which share this instance). */
    void closePool() {
        WorkerPool p;
        synchronized (this) {
            p = pool;
            pool = null;
        }
        if (p != null) {
            p.close();
        }
    }
}
