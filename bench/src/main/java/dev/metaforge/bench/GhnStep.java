package dev.metaforge.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.checkpoint.Safetensors;
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
import dev.metaforge.plugins.hyper.ghn.ComputationGraph;
import dev.metaforge.plugins.hyper.ghn.GraphEncoder;
import dev.metaforge.plugins.hyper.ghn.GraphHyperNetwork;
import dev.metaforge.plugins.hyper.ghn.LowRankDecoder;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 * {@link #dump} writes what the twin's {@code --check-against} needs to show it computes the same
 * model (same parameters and batch: same losses, gradients and Adam steps).
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
            Tensor mean = meanLoss(h, step, null);
            loss = mean.item();
            next = adam.stepInPlace(params, Grad.of(mean).wrt(h));
        }
        params = next;
        step++;
        return loss;
    }

    /**
     * Step {@code step}'s mean cross-entropy over its {@link #ARCHS_PER_STEP} architectures, each one's
     * loss into {@code perArchitecture} when given.
     */
    private Tensor meanLoss(Params h, long step, double[] perArchitecture) {
        Tensor total = null;
        for (int i = 0; i < ARCHS_PER_STEP; i++) {
            Module m = modules.get((int) ((step * ARCHS_PER_STEP + i) % modules.size()));
            Tensor l = Losses.crossEntropy(m.apply(ghn.predict(engine, h, m, RandomStream.of(0)), x), y);
            if (perArchitecture != null) {
                perArchitecture[i] = l.item();
            }
            total = total == null ? l : total.add(l);
        }
        return total.div((double) ARCHS_PER_STEP);
    }

    /**
     * Writes what {@code step_rate.py --workload ghn --check-against DIR} compares the PyTorch twin
     * with, then trains {@code steps} steps. Call on a fresh instance. Files (safetensors in the
     * engine's dtype, names as Metaforge gives them: linear weights are [in, out]):
     * <ul>
     * <li>{@code params.safetensors}: the initial GHN parameters;
     * <li>{@code data.safetensors}: x [32, 1, 28, 28] and the one-hot targets y [32, 10];
     * <li>{@code grads-pair<p>.safetensors}: the gradient of the mean loss of pair p (0, 1) at the
     *     initial parameters, per GHN parameter;
     * <li>{@code predicted-arch<a>.safetensors}: the CNN parameters predicted for architecture a at
     *     the initial parameters, in the module's parameter order;
     * <li>{@code ghn.json}: dtype, backend, the architectures and their computation graphs (node
     *     type, weight and bias shapes, edges), per pair the mean and per-architecture losses at the
     *     initial parameters, and the losses of the first {@code steps} training steps.
     * </ul>
     */
    void dump(Path dir, int steps) throws IOException {
        if (step != 0) {
            throw new IllegalStateException("dump needs a fresh GhnStep; this one has taken " + step + " steps");
        }
        Files.createDirectories(dir);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dtype", engine.defaultDType().name());
        json.put("backend", engine.backend().name() + " " + engine.backend().version());
        json.put("parameters", ghn.parameterCount());
        Safetensors.writeTensors(dir.resolve("params.safetensors"), params.asMap(), Map.of());
        Safetensors.writeTensors(dir.resolve("data.safetensors"), Map.of("x", x, "y", y), Map.of());
        List<Map<String, Object>> archs = new ArrayList<>();
        for (int a = 0; a < ARCHITECTURES.size(); a++) {
            ArchitectureSpace.Architecture arch = ARCHITECTURES.get(a);
            Module m = modules.get(a);
            ComputationGraph g = ComputationGraph.of(m);
            List<Map<String, Object>> nodes = new ArrayList<>();
            for (ComputationGraph.Node n : g.nodes()) {
                Map<String, Object> node = new LinkedHashMap<>();
                node.put("kind", n.kind());
                node.put("type", n.type());
                node.put("weight", n.params().get("weight"));
                node.put("bias", n.params().get("bias"));
                nodes.add(node);
            }
            List<int[]> edges = new ArrayList<>();
            g.edges().forEach(e -> edges.add(new int[] {e.from(), e.to()}));
            archs.add(Map.of("name", arch.name(), "nodes", nodes, "edges", edges));
            try (Scope s = Scope.open()) {
                Safetensors.writeTensors(dir.resolve("predicted-arch" + a + ".safetensors"),
                        ghn.predict(engine, params, m, RandomStream.of(0)).asMap(), Map.of());
            }
        }
        json.put("architectures", archs);
        List<Map<String, Object>> pairs = new ArrayList<>();
        for (int p = 0; p < modules.size() / ARCHS_PER_STEP; p++) {
            double[] perArchitecture = new double[ARCHS_PER_STEP];
            try (Scope s = Scope.open()) {
                Params h = params.requiringGrad();
                Tensor mean = meanLoss(h, p, perArchitecture);
                pairs.add(Map.of("loss", mean.item(), "architectures", perArchitecture));
                Safetensors.writeTensors(dir.resolve("grads-pair" + p + ".safetensors"), Grad.of(mean).wrt(h).asMap(), Map.of());
            }
        }
        json.put("pairs", pairs);
        double[] losses = new double[steps];
        for (int i = 0; i < steps; i++) {
            losses[i] = step();
        }
        json.put("steps", losses);
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("ghn.json").toFile(), json);
    }

    @Override
    public void close() {
        params.close();
        adam.close();
        x.close();
        y.close();
    }
}
