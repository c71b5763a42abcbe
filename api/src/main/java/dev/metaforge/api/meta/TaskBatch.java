package dev.metaforge.api.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Tensor;

/**
 * A meta-batch of T tasks, each with a support set (to adapt on) and a query set (to judge the
 * adaptation). Every tensor has the task axis first:
 * inputs {@code [T, n, features...]}, targets {@code [T, n, outputs]} (regression values, or
 * one-hot class probabilities for classification, classes remapped to {@code 0..N-1} per task).
 *
 * <pre>{@code
 * TaskBatch batch = sampler.sample(engine, 25, rng);   // 25 tasks, processed in one call
 * Params adapted = learner.adapt(metaParams, batch);   // [25, ...] per-task weights
 * }</pre>
 *
 * @param supportInputs  {@code [T, nSupport, features...]}
 * @param supportTargets {@code [T, nSupport, outputs]}
 * @param queryInputs    {@code [T, nQuery, features...]}
 * @param queryTargets   {@code [T, nQuery, outputs]}
 */
public record TaskBatch(Tensor supportInputs, Tensor supportTargets, Tensor queryInputs, Tensor queryTargets) {
    public TaskBatch {
        requireNonNull(supportInputs, "supportInputs is null");
        requireNonNull(supportTargets, "supportTargets is null");
        requireNonNull(queryInputs, "queryInputs is null");
        requireNonNull(queryTargets, "queryTargets is null");
        int tasks = supportInputs.rank() >= 2 ? supportInputs.dim(0) : -1;
        check("supportInputs", supportInputs, tasks);
        check("supportTargets", supportTargets, tasks);
        check("queryInputs", queryInputs, tasks);
        check("queryTargets", queryTargets, tasks);
        if (supportInputs.dim(1) != supportTargets.dim(1)) {
            throw new IllegalArgumentException("TaskBatch: " + supportInputs.dim(1) + " support inputs but "
                    + supportTargets.dim(1) + " support targets (shapes " + supportInputs.shape() + ", " + supportTargets.shape() + ")");
        }
        if (queryInputs.dim(1) != queryTargets.dim(1)) {
            throw new IllegalArgumentException("TaskBatch: " + queryInputs.dim(1) + " query inputs but "
                    + queryTargets.dim(1) + " query targets (shapes " + queryInputs.shape() + ", " + queryTargets.shape() + ")");
        }
        if (supportTargets.rank() != 3 || queryTargets.rank() != 3 || supportTargets.dim(2) != queryTargets.dim(2)) {
            throw new IllegalArgumentException("TaskBatch: targets must be [T, n, outputs] with equal outputs, got support "
                    + supportTargets.shape() + " and query " + queryTargets.shape());
        }
    }

    private static void check(String name, Tensor t, int tasks) {
        if (t.rank() < 3 || t.dim(0) != tasks) {
            throw new IllegalArgumentException("TaskBatch: " + name + " has shape " + t.shape()
                    + "; every tensor must be [T, n, ...] with the same task count T (" + tasks + ")");
        }
    }

    /**
     * Tasks {@code [from, to)} of this batch, in order: a shard of a meta-batch whose
     * meta-gradient is computed elsewhere (see {@link MetaLearner#metaLossPart}).
     */
    public TaskBatch slice(int from, int to) {
        if (from < 0 || to > tasks() || from >= to) {
            throw new IllegalArgumentException("TaskBatch.slice: [" + from + ", " + to + ") is not a non-empty range of the "
                    + tasks() + " tasks");
        }
        if (from == 0 && to == tasks()) {
            return this;
        }
        return new TaskBatch(supportInputs.slice(0, from, to), supportTargets.slice(0, from, to),
                queryInputs.slice(0, from, to), queryTargets.slice(0, from, to));
    }

    /** The number of tasks T. */
    public int tasks() {
        return supportInputs.dim(0);
    }

    /** Support points per task. */
    public int supportSize() {
        return supportInputs.dim(1);
    }

    /** Query points per task. */
    public int querySize() {
        return queryInputs.dim(1);
    }
}
