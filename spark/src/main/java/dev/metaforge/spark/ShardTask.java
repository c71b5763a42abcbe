package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.TrainingLoop;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * The Spark task of one shard of one step, run on an executor: decode the broadcast parameters
 * onto the worker's backend, compute the shard's loss with the step's random stream
 * ({@code TrainingLoop.stepRandom(seed, step)}, the single-process stream) and its gradient, and
 * send both back. A retried attempt recomputes exactly the same numbers.
 */
final class ShardTask implements Function<ShardRange, ShardResult> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<RunBlueprint> blueprint;
    private final Broadcast<byte[]> params;
    private final long step;

    ShardTask(Broadcast<RunBlueprint> blueprint, Broadcast<byte[]> params, long step) {
        this.blueprint = requireNonNull(blueprint, "blueprint is null");
        this.params = requireNonNull(params, "params is null");
        this.step = step;
    }

    @Override
    public ShardResult call(ShardRange range) {
        RunBlueprint run = blueprint.value();
        TaskContext context = TaskContext.get();
        if (context != null && run.failsAt(step, range.index(), context.attemptNumber())) {
            throw new IllegalStateException("injected failure (metaforge.spark.injectFailure) of shard " + range.index()
                    + " at step " + step + ", attempt " + context.attemptNumber() + "; Spark retries it");
        }
        WorkerPool pool = run.pool();
        ExecutorWorker worker = pool.borrow();
        try {
            return compute(worker, range);
        } finally {
            pool.giveBack(worker);
        }
    }

    @SuppressWarnings("try") // the scope frees every tensor of the shard's computation
    private ShardResult compute(ExecutorWorker worker, ShardRange range) {
        long start = System.nanoTime();
        try (Scope scope = Scope.open()) {
            Params tracked = ParamBytes.toParams(ParamBytes.decode(params.value(), "parameters of step " + step), worker.engine())
                    .requiringGrad();
            LossTerms terms = worker.objective().shardLossTerms(tracked, step, TrainingLoop.stepRandom(worker.seed(), step),
                    range.from(), range.to());
            Tensor loss = terms.total();
            double lossValue = loss.item();
            Map<String, Double> parts = new LinkedHashMap<>();
            terms.parts().forEach((n, t) -> parts.put(n, t.item()));
            Map<String, Double> metrics = new LinkedHashMap<>();
            terms.metrics().forEach((n, t) -> metrics.put(n, t.item()));
            byte[] gradient = ParamBytes.encode(Grad.of(loss).wrt(tracked));
            return new ShardResult(range.index(), lossValue, parts, metrics, gradient, worker.backend().name(), host(),
                    System.nanoTime() - start);
        }
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }
}
