package dev.metaforge.bench;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.plugins.hyper.ghn.ArchitectureSpace;
import dev.metaforge.plugins.hyper.ghn.GraphEncoder;
import dev.metaforge.plugins.hyper.ghn.GraphHyperNetwork;
import dev.metaforge.plugins.hyper.ghn.LowRankDecoder;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * One training step of the graph hypernetwork (the {@code ghn} experiment's CNN space as in
 * examples/ghn-fashion-mnist-cnn.json: GNN embed 32, 1 round, LoGAH decoder hidden 64, rank 4,
 * kernels up to 5, channels up to 32, 10 classes), for {@code StepRateMain --workload ghn}. Its
 * PyTorch twin is {@code bench/python/step_rate.py --workload ghn}.
 *
 * <p>Each step predicts every parameter of two CNNs on a batch of 32 [1, 28, 28] images and takes
 * one Adam (1e-3) step on the mean cross-entropy, reading the loss back. The architectures are not
 * drawn at random, so that both sides time the same work: steps alternate between the pairs
 * (c16 k3-3, c8 k5-3-3 residual) and (c32 k3-5 residual, c16 k5-3-5-3) of {@link #ARCHITECTURES}.
 */
final class GhnStep implements AutoCloseable {
    static final int BATCH = 32;
    static final int CLASSES = 10;
    static final int ARCHS_PER_STEP = 2;
    static final Shape IMAGE = Shape.of(1, 28, 28);
    /** Channels per convolution (stem first), kernels, residual: the cycle both sides step through. */
    static final List<ArchitectureSpace.Architecture> ARCHITECTURES = List.of(
            new ArchitectureSpace.Architecture(List.of(16, 16), Activation.RELU, List.of(3, 3), false),
            new ArchitectureSpace.Architecture(List.of(8, 8, 8), Activation.RELU, List.of(5, 3, 3), true),
            new ArchitectureSpace.Architecture(List.of(32, 32), Activation.RELU, List.of(3, 5), true),
            new ArchitectureSpace.Architecture(List.of(16, 16, 16, 16), Activation.RELU, List.of(5, 3, 5, 3), false));

    private final Engine engine;
    private final GraphHyperNetwork ghn;
    private final List<Module> modules = new ArrayList<>();
    private final Tensor x;
    private final Tensor y;
    private final Adam adam = Adam.adam(1e-3);
    private Params params;
    private long step;

    GhnStep(Engine engine) {
        this.engine = engine;
        ArchitectureSpace space = new ArchitectureSpace("cnn", List.of(1, 2, 3), List.of(8, 16, 32), List.of("relu"), List.of(3, 5),
                List.of(false, true), null, 6, null);
        GraphHyperNetwork.Sizes sizes = GraphHyperNetwork.sizeFor(space.extremes(IMAGE, CLASSES), 32, 64);
        ghn = new GraphHyperNetwork(new GraphEncoder(32, 1), new LowRankDecoder(sizes.size(), 4), sizes.maxBias());
        for (ArchitectureSpace.Architecture a : ARCHITECTURES) {
            modules.add(a.build(IMAGE, CLASSES));
        }
        params = ghn.init(engine, RandomStream.of(0));
        x = engine.tensor(BenchEnvironment.uniform(BATCH * IMAGE.sizeAsInt(), 0, 1, 5), BATCH, 1, 28, 28);
        y = engine.tensor(BenchEnvironment.oneHot(BenchEnvironment.labels(BATCH, CLASSES, 6), CLASSES), BATCH, CLASSES);
    }

    /** The decoder size, printed so the Python side can be checked against it. */
    String describe() {
        return "ghn: " + ghn.parameterCount() + " parameters, decoder " + ghn.decoder().size() + " rank " + ghn.decoder().rank();
    }

    double step() {
        double loss;
        Params next;
        try (Scope s = Scope.open()) {
            Params h = params.requiringGrad();
            Tensor total = null;
            for (int i = 0; i < ARCHS_PER_STEP; i++) {
                Module m = modules.get((int) ((step * ARCHS_PER_STEP + i) % modules.size()));
                Tensor l = Losses.crossEntropy(m.apply(ghn.predict(engine, h, m, RandomStream.of(0)), x), y);
                total = total == null ? l : total.add(l);
            }
            Tensor mean = total.div((double) ARCHS_PER_STEP);
            loss = mean.item();
            next = adam.step(params, Grad.of(mean).wrt(h));
        }
        params.close();
        params = next;
        step++;
        return loss;
    }

    @Override
    public void close() {
        params.close();
        adam.close();
        x.close();
        y.close();
    }
}
