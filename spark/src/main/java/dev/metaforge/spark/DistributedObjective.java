package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.ShardedObjective;
import dev.metaforge.api.train.TrainingException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The driver's side of a distributed run: an {@link Objective} whose every step is one Spark job.
 * The current parameters are broadcast as safetensors bytes; each of the {@code shards} tasks
 * computes the loss and gradient of its range of the step's units on its executor (see
 * {@link ShardTask}); the driver sums the gradients in shard order and hands them to the
 * trainer's optimizer.
 *
 * <p>How the sum reaches the optimizer without changing the trainer: the returned loss is
 * {@code s - stop(s) + L} with {@code s = Σ_p sum(G_p ⊙ p)}, whose value is the step's loss L
 * ({@code s - stop(s)} is exactly 0) and whose gradient with respect to each parameter p is G_p,
 * bit for bit (the VJP of a sum of products with constants multiplies by 1). Initialisation,
 * evaluation and state stay with the local objective, which the driver built from the same spec.
 */
final class DistributedObjective implements Objective {
    private final ShardedObjective local;
    private final Engine engine;
    private final JavaSparkContext spark;
    private final Broadcast<RunBlueprint> blueprint;
    private final int shards;
    private final long jobTimeoutMillis;
    private final SparkStats stats = new SparkStats();

    DistributedObjective(ShardedObjective local, Engine engine, JavaSparkContext spark, Broadcast<RunBlueprint> blueprint, int shards,
            long jobTimeoutMillis) {
        this.local = requireNonNull(local, "local is null");
        this.engine = requireNonNull(engine, "engine is null");
        this.spark = requireNonNull(spark, "spark is null");
        this.blueprint = requireNonNull(blueprint, "blueprint is null");
        this.shards = shards;
        this.jobTimeoutMillis = jobTimeoutMillis;
    }

    /** Shards per step. */
    int shards() {
        return shards;
    }

    /** Traffic and timings so far. */
    SparkStats stats() {
        return stats;
    }

    @Override
    public Params init(RandomStream rng) {
        return local.init(rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        long start = System.nanoTime();
        int units = local.shardUnits(step);
        int n = Math.min(shards, units);
        List<ShardRange> partition = ShardRange.partition(units, n);
        byte[] bytes = ParamBytes.encode(params);
        Broadcast<byte[]> broadcast = spark.broadcast(bytes);
        List<ShardResult> results;
        try {
            JavaRDD<ShardRange> ranges = spark.parallelize(partition, n);
            results = SparkJobs.await(spark, "step " + step, jobTimeoutMillis,
                    () -> ranges.map(new ShardTask(blueprint, broadcast, step)).collect());
        } catch (SparkException e) {
            throw new TrainingException("step " + step + " failed on the Spark executors: " + SparkJobs.rootMessage(e), e);
        } finally {
            broadcast.destroy();
        }
        long jobDone = System.nanoTime();
        List<Map<String, TensorData>> gradients = new ArrayList<>(results.size());
        double lossSum = 0;
        Map<String, Double> parts = new LinkedHashMap<>();
        Map<String, Double> metrics = new LinkedHashMap<>();
        long resultBytes = 0;
        long computeNanos = 0;
        for (int i = 0; i < results.size(); i++) {
            ShardResult r = results.get(i);
            if (r.shard() != i) {
                throw new IllegalStateException("shard results out of order: expected shard " + i + ", got " + r.shard());
            }
            gradients.add(ParamBytes.decode(r.gradient(), "gradient of shard " + i + " at step " + step));
            lossSum += r.loss();
            r.parts().forEach((k, v) -> parts.merge(k, v, Double::sum));
            ShardRange range = partition.get(i);
            double weight = (range.to() - range.from()) / (double) units;
            r.metrics().forEach((k, v) -> metrics.merge(k, v * weight, Double::sum));
            resultBytes += r.gradient().length;
            computeNanos = Math.max(computeNanos, r.computeNanos());
        }
        Map<String, TensorData> summed = n == 1 ? gradients.get(0) : ParamBytes.sum(gradients);
        Params gradient = ParamBytes.toParams(summed, engine);
        double lossValue = n == 1 ? lossSum : local.combinedLoss(lossSum, gradient);
        stats.record(bytes.length, resultBytes, n, jobDone - start, System.nanoTime() - start, computeNanos);
        return new LossTerms(surrogate(params, gradient, lossValue), scalars(parts), scalars(metrics));
    }

    /** {@code s - stop(s) + loss}, {@code s = Σ sum(G ⊙ p)}: value {@code loss}, gradient G. */
    private Tensor surrogate(Params params, Params gradient, double lossValue) {
        Tensor s = null;
        for (String name : params.names()) {
            Tensor g = gradient.get(name);
            if (g == null) {
                throw new IllegalStateException("the executors sent no gradient for '" + name + "'");
            }
            Tensor term = params.get(name).mul(g).sum();
            s = s == null ? term : s.add(term);
        }
        if (s == null) {
            throw new IllegalStateException("the objective has no parameters");
        }
        return s.sub(s.stopGradient()).add(lossValue);
    }

    private Map<String, Tensor> scalars(Map<String, Double> values) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        values.forEach((k, v) -> out.put(k, engine.scalar(v)));
        return out;
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        return local.evaluate(params);
    }

    @Override
    public Map<String, String> metricDescriptions() {
        return local.metricDescriptions();
    }

    @Override
    public Map<String, String> tables() {
        return local.tables();
    }

    @Override
    public void beforeStep(Params params, long step) {
        local.beforeStep(params, step);
    }

    @Override
    public Params state() {
        return local.state();
    }

    @Override
    public void loadState(Params state) {
        local.loadState(state);
    }

    @Override
    public String toString() {
        return "DistributedObjective[" + local + ", " + shards + " shards on " + spark.master() + "]";
    }
}
