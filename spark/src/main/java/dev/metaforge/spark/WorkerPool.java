package dev.metaforge.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The {@link ExecutorWorker}s of one run in one JVM: a task borrows one (opening a new one when
 * all are busy, so a JVM running N tasks at once holds N) and gives it back. Workers are never
 * shared by two threads at once.
 */
final class WorkerPool implements AutoCloseable {
    private final RunBlueprint blueprint;
    private final ConcurrentLinkedDeque<ExecutorWorker> idle = new ConcurrentLinkedDeque<>();
    private final List<ExecutorWorker> all = new ArrayList<>();
    private boolean closed;

    WorkerPool(RunBlueprint blueprint) {
        this.blueprint = blueprint;
    }

    ExecutorWorker borrow() {
        ExecutorWorker w = idle.pollFirst();
        if (w != null) {
            return w;
        }
        ExecutorWorker fresh = ExecutorWorker.open(blueprint);
        synchronized (this) {
            if (closed) {
                fresh.close();
                throw new IllegalStateException("run " + blueprint.runId() + " is over; its workers are closed");
            }
            all.add(fresh);
        }
        return fresh;
    }

    void giveBack(ExecutorWorker worker) {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        idle.addFirst(worker);
    }

    @Override
    public void close() {
        List<ExecutorWorker> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>(all);
            all.clear();
        }
        idle.clear();
        for (ExecutorWorker w : toClose) {
            w.close();
        }
    }
}
