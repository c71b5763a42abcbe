package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Supernet training with the sandwich rule (largest, smallest and one random width per step, losses
 * averaged) on the regression target {@code y = sin(3x) + 0.3 x²}, x in [-2, 2]. Evaluation reports
 * {@code mse_h<width>} for every listed width on a fixed grid. Each step logs the mixing
 * coefficient of every expert for the largest and the smallest width ({@code alpha_h<w>.i}).
 */
final class SupernetObjective implements Objective {
    private static final int EVAL_POINTS = 101;

    private final Engine engine;
    private final MixtureOfSupernets supernet;
    private final List<Integer> widths;
    private final int batch;

    SupernetObjective(Engine engine, MixtureOfSupernets supernet, List<Integer> widths, int batch) {
        this.engine = requireNonNull(engine, "engine is null");
        this.supernet = requireNonNull(supernet, "supernet is null");
        this.widths = List.copyOf(widths);
        this.batch = batch;
    }

    static double target(double x) {
        return Math.sin(3 * x) + 0.3 * x * x;
    }

    @Override
    public Params init(RandomStream rng) {
        return supernet.init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        double[] x = new double[batch];
        double[] y = new double[batch];
        for (int i = 0; i < batch; i++) {
            x[i] = -2 + 4 * rng.nextDouble();
            y[i] = target(x[i]);
        }
        Tensor xs = engine.tensor(x, Shape.of(batch, 1), engine.defaultDType());
        Tensor ys = engine.tensor(y, Shape.of(batch, 1), engine.defaultDType());
        int largest = widths.stream().mapToInt(Integer::intValue).max().orElseThrow();
        int smallest = widths.stream().mapToInt(Integer::intValue).min().orElseThrow();
        int random = widths.get(rng.nextInt(widths.size()));
        Tensor total = null;
        for (int h : new int[] {largest, smallest, random}) {
            Tensor l = Losses.mse(supernet.apply(params, xs, h), ys);
            total = total == null ? l : total.add(l);
        }
        Map<String, Tensor> metrics = new LinkedHashMap<>();
        for (int h : new int[] {largest, smallest}) {
            Tensor alpha = supernet.coefficients(params, h, engine).stopGradient();
            for (int e = 0; e < supernet.experts(); e++) {
                metrics.put("alpha_h" + h + "." + e, alpha.slice(0, e, e + 1).reshape(Shape.scalar()));
            }
        }
        return new LossTerms(total.div(3.0), Map.of(), metrics);
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        double[] x = new double[EVAL_POINTS];
        double[] y = new double[EVAL_POINTS];
        for (int i = 0; i < EVAL_POINTS; i++) {
            x[i] = -2 + 4.0 * i / (EVAL_POINTS - 1);
            y[i] = target(x[i]);
        }
        Tensor xs = engine.tensor(x, Shape.of(EVAL_POINTS, 1), engine.defaultDType());
        Tensor ys = engine.tensor(y, Shape.of(EVAL_POINTS, 1), engine.defaultDType());
        Map<String, Double> metrics = new LinkedHashMap<>();
        for (int h : widths) {
            metrics.put("mse_h" + h, Losses.mse(supernet.apply(params, xs, h), ys).item());
        }
        return metrics;
    }
}
