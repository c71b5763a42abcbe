package dev.metaforge.bench;

import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.ParamGraph;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.metanet.MetaNetworkSpec;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.StructureBuilder;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Metanetwork benchmarks (see bench/README.md, "Metanetworks"):
 *
 * <pre>
 *   bench/run.sh MetanetBenchMain graph --backend djl       # parameter-graph construction: 1M-parameter MLP and CNN, 64 small MLPs
 *   bench/run.sh MetanetBenchMain gnn-step --backend djl    # one GNN metanetwork training step (bench/python/gnn_step.py is the PyTorch twin)
 * </pre>
 *
 * <p>{@code gnn-step}: 32 networks of the MLP 8-32-32-4 (the zoo of examples/accuracy-prediction.json),
 * their parameter graph (76 nodes, 1408 edges), the gnn metanetwork with hidden 32 and 3 layers,
 * invariant head, mean squared error against fixed targets, Adam 1e-3; every step rebuilds the
 * graph from the weights and reads the loss. Prints {@code RESULT workload=gnn backend=...
 * steps_per_s=... steps_per_cpu_s=...} like {@link StepRateMain}.
 */
public final class MetanetBenchMain {
    static final List<Integer> ZOO_MLP = List.of(8, 32, 32, 4);
    static final int GNN_BATCH = 32;
    static final String GNN = "{\"type\": \"gnn\", \"hidden\": 32, \"layers\": 3}";

    private MetanetBenchMain() {
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: MetanetBenchMain graph|gnn-step [--backend NAME] [--warmup S] [--seconds S]");
        }
        String mode = args[0];
        String backend = null;
        double warmup = 3;
        double seconds = 5;
        for (int i = 1; i < args.length; i++) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'; known: --backend, --warmup, --seconds");
            }
        }
        if (mode.equals("profile")) {
            profile(backend == null ? "djl" : backend, 30);
            return;
        }
        try (Engine engine = Engine.create(backend)) {
            String threads = engine.backend().name().equals("djl") ? BenchEnvironment.pytorchThreads() : BenchEnvironment.nd4jThreads();
            System.out.println("backend " + engine.backend().name() + " (" + engine.backend().version() + "); " + threads);
            switch (mode) {
                case "graph" -> graph(engine);
                case "gnn-step" -> {
                    try (GnnStep step = new GnnStep(engine)) {
                        StepRateMain.Rate rate = StepRateMain.rate(step::step, warmup, seconds);
                        System.out.printf(Locale.ROOT, "RESULT workload=gnn backend=%s steps_per_s=%.3f steps_per_cpu_s=%.3f%n",
                                engine.backend().name(), rate.wall(), rate.cpu());
                    }
                }
                default -> throw new IllegalArgumentException("unknown mode '" + mode + "'; known: graph, gnn-step");
            }
        }
    }

    /** Per-kernel time of the gnn step, with {@link KernelProfileMain}'s counting backend. */
    private static void profile(String backendName, int steps) {
        dev.metaforge.spi.BackendDiscovery discovery = dev.metaforge.spi.BackendDiscovery.scan(MetanetBenchMain.class.getClassLoader());
        try (dev.metaforge.spi.Backend backend = discovery.select(backendName).chosen().create(dev.metaforge.spi.BackendConfig.defaults())) {
            double plain;
            try (Engine engine = Engine.of(backend, dev.metaforge.spi.DType.FLOAT32); GnnStep step = new GnnStep(engine)) {
                plain = timed(step, steps, null);
            }
            KernelProfileMain.CountingBackend counting = new KernelProfileMain.CountingBackend(backend);
            double counted;
            try (Engine engine = Engine.of(counting, dev.metaforge.spi.DType.FLOAT32); GnnStep step = new GnnStep(engine)) {
                counted = timed(step, steps, counting);
            }
            counting.print("gnn", steps, plain, counted);
        }
    }

    private static double timed(GnnStep step, int steps, KernelProfileMain.CountingBackend counting) {
        for (int i = 0; i < steps; i++) {
            step.step();
        }
        if (counting != null) {
            counting.reset();
        }
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            step.step();
        }
        long elapsed = System.nanoTime() - start;
        if (counting != null) {
            counting.elapsedNanos = elapsed;
            counting.elapsedCpuNanos = threads.getCurrentThreadCpuTime() - cpu;
        }
        return steps / (elapsed / 1e9);
    }

    // ---- graph construction -------------------------------------------------------------------

    private static void graph(Engine engine) {
        Map<String, Module> big = new LinkedHashMap<>();
        big.put("mlp 784-1024-256-10", Mlp.of(List.of(784, 1024, 256, 10), Activation.RELU));
        big.put("cnn 3-64-128-128-256 (3x3) + linear 4096-128-10", cnn());
        for (Map.Entry<String, Module> e : big.entrySet()) {
            measure(engine, e.getKey(), e.getValue(), 1);
        }
        measure(engine, "64 x mlp 8-32-32-4", Mlp.of(ZOO_MLP, Activation.RELU), 64);
    }

    private static void measure(Engine engine, String name, Module module, int batch) {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heapBefore = rt.totalMemory() - rt.freeMemory();
        long t0 = System.nanoTime();
        GraphLayout layout = GraphLayout.of(module);
        double layoutMs = (System.nanoTime() - t0) / 1e6;
        long heapAfter = rt.totalMemory() - rt.freeMemory();
        long indexBytes = 8L * ((long) layout.nodeCount() * layout.nodeFeatureWidth() + (long) layout.edgeCount() * layout.edgeFeatureWidth()
                + layout.globalWidth() + layout.parameterCount()) + 4L * (3L * layout.edgeCount() + layout.nodeCount());
        Params params;
        try (Scope s = Scope.open()) {
            List<Params> members = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                members.add(module.init(engine, RandomStream.of(i)));
            }
            params = s.escape(batch == 1 ? members.get(0) : stack(module, members));
        }
        double[] toGraph = new double[7];
        double[] toParams = new double[7];
        double[] toGraphBound = new double[7];
        double[] toParamsBound = new double[7];
        long graphBytes = 0;
        try (GraphLayout.Indices indices = layout.indices(engine)) {
            for (int r = 0; r < toGraph.length; r++) {
                try (Scope s = Scope.open()) {
                    // CPU backends compute synchronously; reading one scalar back is enough to be sure.
                    long a = System.nanoTime();
                    ParamGraph g = layout.toGraph(params);
                    g.edges().sum().item();
                    long b = System.nanoTime();
                    Params back = g.toParams();
                    back.values().iterator().next().sum().item();
                    long c = System.nanoTime();
                    ParamGraph g2 = layout.toGraph(params, indices);
                    g2.edges().sum().item();
                    long d = System.nanoTime();
                    layout.toParams(g2.nodes(), g2.edges(), g2.globals(), g2.batched(), indices).values().iterator().next().sum().item();
                    long e = System.nanoTime();
                    toGraph[r] = (b - a) / 1e6;
                    toParams[r] = (c - b) / 1e6;
                    toGraphBound[r] = (d - c) / 1e6;
                    toParamsBound[r] = (e - d) / 1e6;
                    graphBytes = (g.nodes().size() + g.edges().size()) * g.nodes().dtype().byteSize();
                }
            }
        }
        params.close();
        System.out.printf(Locale.ROOT, "GRAPH %s: %,d parameters x %d networks; %,d nodes, %,d edges, %d node / %d edge features;"
                        + " layout %.0f ms (host index arrays %.1f MB, heap +%.1f MB); toGraph median %.1f ms (%.1f ms with uploaded indices);"
                        + " toParams median %.1f ms (%.1f ms); graph tensors %.1f MB%n",
                name, layout.parameterCount(), batch, layout.nodeCount(), layout.edgeCount(), layout.nodeFeatureWidth(),
                layout.edgeFeatureWidth(), layoutMs, indexBytes / 1e6, (heapAfter - heapBefore) / 1e6, median(toGraph), median(toGraphBound),
                median(toParams), median(toParamsBound), graphBytes / 1e6);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static Params stack(Module net, List<Params> members) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec s : net.parameters()) {
            out.put(s.name(), Tensor.stack(members.stream().map(m -> m.get(s.name())).toList(), 0));
        }
        return Params.of(out);
    }

    /** About 1.04M parameters: four 3x3 convolutions (3-64-128-128-256) on 4x4 maps, flatten, linear 4096-128-10. */
    static Module cnn() {
        return Sequential.of(new Conv(3, 64), Activation.RELU, new Conv(64, 128), Activation.RELU, new Conv(128, 128), Activation.RELU,
                new Conv(128, 256), Activation.RELU, new Flatten(), Linear.of(256 * 16, 128), Activation.RELU, Linear.of(128, 10));
    }

    /** A 3x3 same convolution described as a third party would (the real conv layer is not in this tree). */
    record Conv(int in, int out) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("weight", Shape.of(out, in, 3, 3), ParamKind.CONV_WEIGHT, List.of(Axis.OUT, Axis.IN, Axis.KERNEL,
                    Axis.KERNEL), in * 9, out * 9, Initializer.torchDefault()),
                    new ParamSpec("bias", Shape.of(out), ParamKind.BIAS, List.of(Axis.OUT), in * 9, out, Initializer.torchDefault()));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return x.conv2d(params.get("weight"), Conv2dOptions.of(new int[] {1, 1}, new int[] {1, 1}))
                    .add(params.get("bias").reshape(1, out, 1, 1));
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup i = b.resolve(input, in);
            NeuronGroup o = b.group(StructureBuilder.join(prefix, "out"), out);
            b.layer(prefix, "conv2d", i, o, Map.of("weight", StructureBuilder.join(prefix, "weight"), "bias",
                    StructureBuilder.join(prefix, "bias")), Map.of());
            return o;
        }
    }

    /** NCHW to [N, C*H*W]. */
    record Flatten() implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of();
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return x.reshape(x.dim(0), -1);
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup flat = b.derived(StructureBuilder.join(prefix, "flat"), input);
            b.layer(prefix, "flatten", input, flat, Map.of(), Map.of());
            return flat;
        }
    }

    // ---- one GNN training step ----------------------------------------------------------------

    /** Predict a scalar per network with the gnn metanetwork, MSE to fixed targets, Adam. */
    static final class GnnStep implements AutoCloseable {
        private final MetaNetwork meta;
        private final Params zoo;
        private final Tensor target;
        private final Adam adam = Adam.adam(1e-3);
        private Params params;

        GnnStep(Engine engine) {
            Mlp mlp = Mlp.of(ZOO_MLP, Activation.RELU);
            SpecRegistry specs = SpecRegistry.load(MetanetBenchMain.class.getClassLoader());
            meta = specs.read(GNN, MetaNetworkSpec.class, "bench").build(GraphLayout.of(mlp));
            try (Scope s = Scope.open()) {
                List<Params> members = new ArrayList<>();
                double[] y = new double[GNN_BATCH];
                for (int i = 0; i < GNN_BATCH; i++) {
                    members.add(mlp.init(engine, RandomStream.of(i)));
                    y[i] = Math.sin(i);
                }
                zoo = s.escape(stack(mlp, members));
                target = s.escape(engine.tensor(y, GNN_BATCH, 1));
                params = s.escape(meta.init(engine, RandomStream.of(99)));
            }
        }

        double step() {
            Params next;
            double loss;
            try (Scope s = Scope.open()) {
                Params tracked = params.requiringGrad();
                Tensor l = meta.predict(tracked, meta.layout().toGraph(zoo)).sub(target).square().mean();
                next = s.escape(adam.step(params, Grad.of(l).wrt(tracked)));
                loss = l.item();
            }
            params.close();
            params = next;
            return loss;
        }

        @Override
        public void close() {
            params.close();
            zoo.close();
            target.close();
            adam.close();
        }
    }
}
