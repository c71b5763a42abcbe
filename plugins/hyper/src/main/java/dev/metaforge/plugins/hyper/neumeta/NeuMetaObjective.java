package dev.metaforge.plugins.hyper.neumeta;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.Objective;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * NeuMeta's width-randomised training loss on a toy task: each step samples a hidden width
 * uniformly from [minWidth, maxWidth], samples the 1-w-1 tanh MLP of that width from the
 * coordinate network, and takes its mean squared error on y = sin(3x), x uniform in [-1, 1].
 * {@link #evaluate} reports the error at each listed width. A toy: no source network and no
 * reconstruction term; the paper's pipeline is {@link NeuMetaClassifierObjective}.
 */
public final class NeuMetaObjective implements Objective {
    private final Engine engine;
    private final ImplicitWeights implicit;
    private final int minWidth;
    private final int maxWidth;
    private final List<Integer> widths;
    private final int batch;

    /** A width-randomised objective; widths must be positive and minWidth <= maxWidth. */
    public NeuMetaObjective(Engine engine, ImplicitWeights implicit, int minWidth, int maxWidth, List<Integer> widths, int batch) {
        this.engine = Objects.requireNonNull(engine, "engine is null");
        this.implicit = Objects.requireNonNull(implicit, "implicit is null");
        if (minWidth < 1 || maxWidth < minWidth) {
            throw new IllegalArgumentException("need 1 <= minWidth <= maxWidth, got " + minWidth + ", " + maxWidth);
        }
        this.minWidth = minWidth;
        this.maxWidth = maxWidth;
        this.widths = List.copyOf(widths);
        this.batch = batch;
    }

    @Override
    public Params init(RandomStream rng) {
        return implicit.coordinateNetwork().init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        int width = minWidth + rng.nextInt(maxWidth - minWidth + 1);
        return error(params, width, rng, batch);
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int w : widths) {
            out.put("mse@width" + w, error(params, w, RandomStream.of(12345), 256).item());
        }
        return out;
    }

    private Tensor error(Params params, int width, RandomStream rng, int n) {
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = 2 * rng.nextDouble() - 1;
            y[i] = Math.sin(3 * x[i]);
        }
        List<Integer> sizes = List.of(1, width, 1);
        Tensor pred = Mlp.of(sizes, Activation.TANH).apply(implicit.sample(engine, params, sizes), engine.tensor(x, n, 1));
        return pred.sub(engine.tensor(y, n, 1)).square().mean();
    }
}
