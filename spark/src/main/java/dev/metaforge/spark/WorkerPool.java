package dev.metaforge.spark;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The {@link ExecutorWorker}s of one run in one JVM: a task borrows one (opening a new one when
 * all are busy, so a JVM running N tasks at once holds N) and gives it back. A worker is never
 * used by two threads at once. Closing the pool closes the idle workers at once and busy ones
 * when they are given back.
 */
final class WorkerPool implements AutoCloseable {
    private final RunBlueprint blueprint;
    private final Deque<ExecutorWorker> idle = new ArrayDeque<>();
    private boolean closed;

    WorkerPool(RunBlueprint blueprint) {
        this.blueprint = blueprint;
    }

    ExecutorWorker borrow() {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("run " + blueprint.runId() + " is over; its workers are closed");
            }
            ExecutorWorker w = idle.pollFirst();
            if (w != null) {
                return w;
            }
        }
        return ExecutorWorker.open(blueprint);   // outside the lock: opening a backend takes a while
    }

    void giveBack(ExecutorWorker worker) {
        synchronized (this) {
            if (!closed) {
                idle.addFirst(worker);
                return;
            }
        }
        worker.close();
    }

    @Override
    public void close() {
        Deque<ExecutorWorker> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayDeque<>(idle);
            idle.clear();
        }
        for (ExecutorWorker w : toClose) {
            w.close();
        }
    }
}
