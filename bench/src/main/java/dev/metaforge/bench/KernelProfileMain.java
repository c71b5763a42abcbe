package dev.metaforge.bench;

import dev.metaforge.api.capture.StepCapture;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.plugins.meta.MamlSinusoid;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendDiscovery;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Kernels;
import dev.metaforge.tck.ForwardingBackend;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.DoubleSupplier;

/**
 * Where a Metaforge training step spends its time: every call from the API into the backend's
 * {@link Kernels} goes through a counting proxy, which reports per kernel the calls per step and
 * the time inside the kernel, as this thread's CPU time (kernels run on it with one intra-op
 * thread; CPU time leaves out what a loaded machine gives to other processes) and as wall time;
 * what remains of the step is Java-side work (tape and gradient bookkeeping, scopes, freeing
 * native arrays, which is outside {@code Kernels}). The proxy adds a reflective call and two clock
 * reads per kernel call; the step rate with and without it is printed so that cost is visible.
 *
 * <pre>
 * java -cp metaforge-bench.jar dev.metaforge.bench.KernelProfileMain --workload mlp --backend djl [--steps 200]
 * </pre>
 */
public final class KernelProfileMain {
    private KernelProfileMain() {
    }

    public static void main(String[] args) {
        String workload = null;
        String backendName = "djl";
        int steps = 200;
        boolean byShape = false;
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--workload" -> workload = args[++i];
                case "--backend" -> backendName = args[++i];
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--by-shape" -> byShape = Boolean.parseBoolean(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument '" + args[i]
                        + "'; known: --workload mlp|hyper|maml|fomaml|adam|cnn|transformer|ghn|moe|moe-dropless, --backend NAME, --steps N, --by-shape true|false");
            }
        }
        if (workload == null) {
            throw new IllegalArgumentException("--workload is required: mlp, hyper, maml, fomaml, adam, cnn, transformer, ghn, moe or moe-dropless");
        }
        BackendDiscovery discovery = BackendDiscovery.scan(KernelProfileMain.class.getClassLoader());
        try (Backend backend = discovery.select(backendName).chosen().create(BackendConfig.defaults())) {
            double plain;
            try (Engine engine = Engine.of(backend, DType.FLOAT32)) {
                plain = stepsPerSecond(engine, workload, steps, null);
            }
            CountingBackend counting = new CountingBackend(backend, byShape);
            double counted;
            try (Engine engine = Engine.of(counting, DType.FLOAT32)) {
                counted = stepsPerSecond(engine, workload, steps, counting);
            }
            counting.print(workload, steps, plain, counted);
        }
    }

    /** Warms up for {@code steps} steps, then times {@code steps} steps (resetting the counters in between). */
    private static double stepsPerSecond(Engine engine, String workload, int steps, CountingBackend counting) {
        switch (workload) {
            case "mlp" -> {
                try (MlpStepBenchmark.MetaforgeMlpStep step = new MlpStepBenchmark.MetaforgeMlpStep(engine)) {
                    return time(step::step, steps, counting);
                }
            }
            case "hyper" -> {
                try (StepRateMain.HyperStep step = new StepRateMain.HyperStep(engine)) {
                    return time(step::step, steps, counting);
                }
            }
            case "adam" -> {
                try (AdamStepBenchmark.MetaforgeAdamStep step = new AdamStepBenchmark.MetaforgeAdamStep(engine)) {
                    return time(step::step, steps, counting);
                }
            }
            case "cnn" -> {
                try (LayerSteps.CnnStep step = new LayerSteps.CnnStep(engine)) {
                    return time(step::step, steps, counting);
                }
            }
            case "transformer" -> {
                try (LayerSteps.TransformerStep step = new LayerSteps.TransformerStep(engine)) {
                    return time(step::step, steps, counting);
                }
            }
            case "ghn" -> {
                // the graph-hypernetwork step of StepRateMain --workload ghn (two CNNs predicted and trained per step)
                try (GhnStep step = new GhnStep(engine)) {
                    return time(step::step, steps, counting);
                }
            }
            case "moe", "moe-dropless" -> {
                // the layer of MoeLayerMain: 4096 tokens, d 256, 8 experts, hidden 1024, top-2, capacity 1.25 (or dropless)
                try (MoeLayerMain.Step step = new MoeLayerMain.Step(engine,
                        MoeLayerMain.layer(8, 256, 1024, 2, workload.equals("moe") ? 1.25 : 0), 4096)) {
                    return time(step::step, steps, counting);
                }
            }
            case "maml", "fomaml" -> {
                try (TrainingLoop loop = TrainingLoop.start(MamlSinusoid.objective(engine, workload.equals("fomaml"), 0, List.of()),
                        Adam.adam(MamlSinusoid.OUTER_LR), 0)) {
                    return time(loop::step, steps, counting);
                }
            }
            case "maml-captured", "fomaml-captured" -> {
                // The same loop with step capture: replayed kernels go through the counting backend as well.
                Engine captureEngine = StepCapture.engine(engine);
                try (TrainingLoop loop = TrainingLoop.start(MamlSinusoid.objective(captureEngine, workload.startsWith("fomaml"), 0, List.of()),
                        Adam.adam(MamlSinusoid.OUTER_LR), 0).withCapture(StepCapture.on(captureEngine, System.out::println))) {
                    return time(loop::step, steps, counting);
                }
            }
            default -> throw new IllegalArgumentException("unknown workload '" + workload + "'; known: mlp, hyper, maml, fomaml,"
                    + " maml-captured, fomaml-captured, adam, cnn, transformer, ghn, moe, moe-dropless");
        }
    }

    private static double time(DoubleSupplier step, int steps, CountingBackend counting) {
        for (int i = 0; i < steps; i++) {
            step.getAsDouble();
        }
        if (counting != null) {
            counting.reset();
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpuStart = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            step.getAsDouble();
        }
        long elapsed = System.nanoTime() - start;
        if (counting != null) {
            counting.elapsedNanos = elapsed;
            counting.elapsedCpuNanos = threads.getCurrentThreadCpuTime() - cpuStart;
        }
        return steps / (elapsed / 1e9);
    }

    /** A backend whose kernels count calls and time per method. */
    static final class CountingBackend extends ForwardingBackend implements InvocationHandler {
        private final Kernels real;
        private final Kernels kernels;
        private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        private final Map<String, long[]> stats = new TreeMap<>(); // name -> {calls, wall nanos, cpu nanos}
        long elapsedNanos;
        long elapsedCpuNanos;

        private final boolean byShape;

        /** Counts per kernel name. */
        CountingBackend(Backend delegate) {
            this(delegate, false);
        }

        /** Counts per kernel name, or per name with argument shapes and flags when {@code byShape}. */
        CountingBackend(Backend delegate, boolean byShape) {
            super(delegate);
            this.byShape = byShape;
            this.real = delegate.kernels();
            this.kernels = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class}, this);
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                return method.invoke(real, args);
            }
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            try {
                return method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                long wall = System.nanoTime() - start;
                long[] s = stats.computeIfAbsent(byShape ? withShapes(method.getName(), args) : method.getName(), k -> new long[3]);
                s[0]++;
                s[1] += wall;
                s[2] += threads.getCurrentThreadCpuTime() - cpuStart;
            }
        }

        /** {@code name} with its arguments' shapes and flags, e.g. "matmul [25,10,40] [25,40,40] false true". */
        private static String withShapes(String name, Object[] args) {
            StringBuilder key = new StringBuilder(name);
            for (Object a : args == null ? new Object[0] : args) {
                if (a instanceof NativeArray n) {
                    key.append(' ').append(n.shape());
                } else if (a instanceof Boolean || a instanceof Enum<?>) {
                    key.append(' ').append(a);
                }
            }
            return key.toString();
        }

        void reset() {
            stats.clear();
        }

        void print(String workload, int steps, double plainRate, double countedRate) {
            System.out.printf(Locale.ROOT, "workload %s on %s (%s): %d timed steps, load %s%n", workload, delegate.name(),
                    delegate.version(), steps, InterleavedJmh.loadAverage());
            System.out.printf(Locale.ROOT, "steps/s (wall) without the counting proxy %.2f, with it %.2f%n", plainRate, countedRate);
            long calls = 0;
            long wall = 0;
            long cpu = 0;
            List<Map.Entry<String, long[]>> rows = new ArrayList<>(stats.entrySet());
            rows.sort((a, b) -> Long.compare(b.getValue()[2], a.getValue()[2]));
            System.out.printf(Locale.ROOT, "%-22s %11s %13s %12s %9s %15s%n", "kernel", "calls/step", "CPU us/step", "CPU us/call",
                    "% CPU", "wall us/step");
            for (Map.Entry<String, long[]> e : rows) {
                long[] s = e.getValue();
                calls += s[0];
                wall += s[1];
                cpu += s[2];
                System.out.printf(Locale.ROOT, "%-22s %11.1f %13.1f %12.2f %8.1f%% %15.1f%n", e.getKey(), s[0] / (double) steps,
                        s[2] / 1e3 / steps, s[2] / 1e3 / s[0], 100.0 * s[2] / elapsedCpuNanos, s[1] / 1e3 / steps);
            }
            System.out.printf(Locale.ROOT, "%-22s %11.1f %13.1f %12s %8.1f%% %15.1f%n", "all kernels", calls / (double) steps,
                    cpu / 1e3 / steps, "", 100.0 * cpu / elapsedCpuNanos, wall / 1e3 / steps);
            System.out.printf(Locale.ROOT, "%-22s %11s %13.1f %12s %8.1f%% %15.1f%n", "outside kernels", "",
                    (elapsedCpuNanos - cpu) / 1e3 / steps, "", 100.0 * (elapsedCpuNanos - cpu) / elapsedCpuNanos,
                    (elapsedNanos - wall) / 1e3 / steps);
            System.out.printf(Locale.ROOT, "%-22s %11s %13.1f %12s %9s %15.1f%n", "step", "", elapsedCpuNanos / 1e3 / steps, "", "",
                    elapsedNanos / 1e3 / steps);
            System.out.println("(outside kernels: autodiff tape and gradient bookkeeping, scopes, freeing native arrays, sampling tasks;"
                    + " timing each call adds about 1 us of clock reads, counted in the kernel)");
        }

        @Override
        public Kernels kernels() {
            return kernels;
        }

        @Override
        public void close() {
            // The delegate is closed by its owner.
        }
    }
}
