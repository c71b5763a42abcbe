package dev.metaforge.api.spec;

/**
 * Upper bounds shared by the {@link Range}s of the built-in specs. They are far above any sensible
 * run and far below what would overflow an {@code int} index or exhaust a heap before the
 * pre-flight check can measure the run: a value above them is a typo or an attack, not a model.
 * What fits in memory is decided later by the pre-flight check against the memory budget.
 */
public final class Limits {
    /** A layer width, embedding or hidden size: 2^20. */
    public static final int MAX_WIDTH = 1 << 20;
    /** Examples, points, contexts or tasks drawn per step or per evaluation: 2^20. */
    public static final int MAX_BATCH = 1 << 20;
    /** Inner-loop steps of a meta-learner per outer step (each one is recorded for the meta-gradient): 10,000. */
    public static final int MAX_INNER_STEPS = 10_000;
    /** Number of tasks, classes or conditions a spec enumerates: 2^20. */
    public static final int MAX_COUNT = 1 << 20;
    /** Training steps and schedule intervals: the largest int. */
    public static final int MAX_STEPS = Integer.MAX_VALUE;
    /** Magnitude bound of real-valued hyperparameters and data ranges: 10^9. */
    public static final double MAX_MAGNITUDE = 1e9;

    private Limits() {
    }
}
