package dev.metaforge.plugins.core;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.CapturableObjective;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.ShardedObjective;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fits a module to a {@link TargetFunction} by mean squared error. Inputs are drawn in Java from
 * the step's random stream, so every backend sees the same data for the same seed.
 *
 * <p>Sharded over the batch's examples ({@link ShardedObjective}): a shard draws the whole
 * batch's inputs and keeps examples {@code [from, to)}, its mean squared error weighted by its
 * share of the batch; the weighted shard losses and their gradients sum to the batch's.
 */
final class RegressionObjective implements ShardedObjective, CapturableObjective {
    private final Engine engine;
    private final Module model;
    private final RegressionTask task;
    private final TargetFunction target;

    RegressionObjective(Engine engine, Module model, RegressionTask task) {
        this.engine = requireNonNull(engine, "engine is null");
        this.model = requireNonNull(model, "model is null");
        this.task = requireNonNull(task, "task is null");
        this.target = task.target();
    }

    @Override
    public Params init(RandomStream rng) {
        return model.init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        return CapturableObjective.super.lossTerms(params, step, rng);
    }

    /** The step's batch: {@code x} [batch, 1] drawn from {@code rng} and its targets {@code y}, both made on the host. */
    @Override
    public Params inputs(long step, RandomStream rng) {
        double[] x = inputs(rng);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("x", engine.tensor(x, Shape.of(x.length, 1), engine.defaultDType()));
        out.put("y", targets(x));
        return Params.of(out);
    }

    @Override
    public LossTerms lossTerms(Params params, Params inputs, RandomStream rng) {
        return LossTerms.of(Losses.mse(checked(model.apply(params, inputs.get("x")), inputs.get("x")), inputs.get("y")));
    }

    private double[] inputs(RandomStream rng) {
        double[] x = new double[task.batch()];
        for (int i = 0; i < x.length; i++) {
            x[i] = task.xMin() + (task.xMax() - task.xMin()) * rng.nextDouble();
        }
        return x;
    }

    @Override
    public int shardUnits(long step) {
        return task.batch();
    }

    @Override
    public String unitName() {
        return "examples";
    }

    @Override
    public LossTerms shardLossTerms(Params params, long step, RandomStream rng, int from, int to) {
        ShardedObjective.checkRange(this, step, from, to);
        if (from == 0 && to == task.batch()) {
            return LossTerms.of(loss(params, step, rng));
        }
        double[] x = java.util.Arrays.copyOfRange(inputs(rng), from, to);
        return LossTerms.of(Losses.mse(predict(params, x), targets(x)).mul((to - from) / (double) task.batch()));
    }

    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("training loss", "mean squared error on this step's random batch of x (noise-free targets: it can reach 0)");
        out.put("eval mse", "mean squared error to the target function on the fixed evaluation grid: the signal; 0 is perfect");
        out.put("eval maxAbsError", "the largest |prediction - target| on the grid: where the fit is worst");
        return out;
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        double[] x = task.grid();
        Tensor error = predict(params, x).sub(targets(x));
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("mse", error.square().mean().item());
        metrics.put("maxAbsError", error.abs().max(0, false).item());
        return metrics;
    }

    private Tensor predict(Params params, double[] x) {
        Tensor input = engine.tensor(x, Shape.of(x.length, 1), engine.defaultDType());
        return checked(model.apply(params, input), input);
    }

    private static Tensor checked(Tensor output, Tensor input) {
        if (!output.shape().equals(Shape.of(input.dim(0), 1))) {
            throw new IllegalArgumentException("regression: the model maps inputs of shape " + input.shape() + " to " + output.shape()
                    + ", but it must give [N, 1] (e.g. an mlp with sizes [1, ..., 1])");
        }
        return output;
    }

    private Tensor targets(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = target.apply(x[i]);
        }
        return engine.tensor(y, Shape.of(x.length, 1), engine.defaultDType());
    }
}
