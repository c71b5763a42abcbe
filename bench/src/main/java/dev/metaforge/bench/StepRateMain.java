package dev.metaforge.bench;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.capture.StepCapture;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.plugins.hyper.ChunkedHyperNetwork;
import dev.metaforge.plugins.hyper.MipExperiment;
import dev.metaforge.plugins.meta.MamlSinusoid;
import dev.metaforge.spi.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleSupplier;

/**
 * Training steps per second of one workload on one backend, for {@code bench/compare.sh}, which
 * runs it interleaved with the PyTorch eager equivalents in {@code bench/python/step_rate.py}:
 * <ul>
 * <li>{@code mlp}: the 784-256-256-10 ReLU MLP, batch 128, softmax cross-entropy, Adam 1e-3;
 * <li>{@code hyper}: the chunked hypernetwork generating that MLP (chunks of 4096, chunk
 *     embeddings of 64, generator 72-256-256-4096 ReLU, a fixed context of 8), trained through the
 *     generated MLP on the same batch with Adam 1e-3;
 * <li>{@code maml} / {@code fomaml}: MAML sinusoid meta-iterations, second / first order
 *     (1-40-40-1 ReLU, K = 10, meta-batch 25, one inner step of 0.01, Adam 1e-3), through
 *     {@link MamlSinusoid}'s objective and the project's {@link TrainingLoop};
 * <li>{@code adam}: one Adam update of a [784, 256] weight with a fixed gradient (the optimizer
 *     part of {@code mlp} in isolation, see {@link AdamStepBenchmark}).
 * </ul>
 * Every step reads its loss back. Usage:
 * <pre>
 * java -cp metaforge-bench.jar dev.metaforge.bench.StepRateMain --workload hyper --backend djl [--warmup 3] [--seconds 5]
 * </pre>
 * Prints one line {@code RESULT workload=... backend=... steps_per_s=... steps_per_cpu_s=...}.
 *
 * <p>{@code --workload ghn --dump DIR [--dtype float64]} times nothing: it writes the GHN's initial
 * parameters, the batch, the losses and gradients of the first steps to DIR ({@link GhnStep#dump}),
 * for {@code step_rate.py --workload ghn --check-against DIR} to compare the PyTorch twin with.
 */
@SuppressWarnings("try") // scopes are opened for their effect on the tensors inside, not used by name
public final class StepRateMain {
    static final int CONTEXT_SIZE = 8;
    static final int CHUNK_SIZE = 4096;
    static final int CHUNK_EMBEDDING = 64;
    static final List<Integer> GENERATOR_HIDDEN = List.of(256, 256);
    /** Training steps whose losses {@code --dump} records (each architecture pair twice). */
    static final int DUMP_STEPS = 4;

    private StepRateMain() {
    }

    public static void main(String[] args) {
        String workload = null;
        String backend = null;
        double warmup = 3;
        double seconds = 5;
        Path dump = null;
        DType dtype = DType.FLOAT32;
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--workload" -> workload = args[++i];
                case "--backend" -> backend = args[++i];
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--dump" -> dump = Path.of(args[++i]);
                case "--dtype" -> dtype = switch (args[++i]) {
                    case "float32" -> DType.FLOAT32;
                    case "float64" -> DType.FLOAT64;
                    default -> throw new IllegalArgumentException("--dtype is float32 or float64, got '" + args[i] + "'");
                };
                default -> throw new IllegalArgumentException("unknown argument '" + args[i]
                        + "'; known: --workload mlp|hyper|maml|fomaml|maml-captured|fomaml-captured|adam|cnn|transformer|ghn|mip, --backend NAME,"
                        + " --warmup SECONDS, --seconds SECONDS, --dump DIR and --dtype float32|float64 (ghn)");
            }
        }
        if (workload == null) {
            throw new IllegalArgumentException("--workload is required: mlp, hyper, maml, fomaml, adam, cnn, transformer or ghn");
        }
        if (dump != null && !"ghn".equals(workload)) {
            throw new IllegalArgumentException("--dump is for --workload ghn");
        }
        if (dtype != DType.FLOAT32 && dump == null) {
            throw new IllegalArgumentException("--dtype is for --dump: the timed workloads run in float32");
        }
        try (Engine engine = Engine.create(backend)) {
            if (dump != null) {
                // The check of the PyTorch twin (step_rate.py --workload ghn --check-against DIR): no timing.
                try (GhnStep step = new GhnStep(engine.withDefaultDType(dtype))) {
                    System.out.println(step.describe());
                    step.dump(dump, DUMP_STEPS);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                System.out.println("wrote " + dump + " (" + engine.backend().name() + ", " + dtype + ")");
                return;
            }
            String threads = engine.backend().name().equals("djl") ? BenchEnvironment.pytorchThreads() : BenchEnvironment.nd4jThreads();
            System.out.println("backend " + engine.backend() + "; " + threads);
            Rate rate = switch (workload) {
                case "mlp" -> {
                    try (MlpStepBenchmark.MetaforgeMlpStep step = new MlpStepBenchmark.MetaforgeMlpStep(engine)) {
                        yield rate(step::step, warmup, seconds);
                    }
                }
                case "hyper" -> {
                    try (HyperStep step = new HyperStep(engine)) {
                        yield rate(step::step, warmup, seconds);
                    }
                }
                case "gemm" -> {
                    try (HyperGemmStep step = new HyperGemmStep(engine)) {
                        yield rate(step::step, warmup, seconds);
                    }
                }
                case "adam" -> {
                    try (AdamStepBenchmark.MetaforgeAdamStep step = new AdamStepBenchmark.MetaforgeAdamStep(engine)) {
                        yield rate(step::step, warmup, seconds);
                    }
                }
                case "cnn" -> {
                    try (LayerSteps.CnnStep step = new LayerSteps.CnnStep(engine)) {
                        yield rate(step::step, warmup, seconds);
                    }
                }
                case "ghn" -> {
                    try (GhnStep step = new GhnStep(engine)) {
                        System.out.println(step.describe());
                        yield rate(step::step, warmup, seconds);
                    }
                }
                case "transformer" -> {
                    try (LayerSteps.TransformerStep step = new LayerSteps.TransformerStep(engine)) {
                        yield rate(step::step, warmup, seconds);
                    }
                }
                case "mip" -> {
                    // the MIP loss-weighting toy (examples/mip-loss-weighting.json): 16 γ x 64 points, Adam 1e-3
                    MipExperiment.Settings paper = MipExperiment.Settings.paper();
                    try (TrainingLoop loop = TrainingLoop.start(MipExperiment.objective(engine, MipExperiment.Parametrization.MIP, paper),
                            Adam.adam(paper.learningRate()), 0)) {
                        yield rate(loop::step, warmup, seconds);
                    }
                }
                case "maml", "fomaml" -> {
                    try (TrainingLoop loop = TrainingLoop.start(MamlSinusoid.objective(engine, workload.equals("fomaml"), 0, List.of()),
                            Adam.adam(MamlSinusoid.OUTER_LR), 0)) {
                        yield rate(loop::step, warmup, seconds);
                    }
                }
                case "maml-captured", "fomaml-captured" -> {
                    // what a training spec runs by default ("capture" absent or true): the step traced once, then replayed
                    Engine captured = StepCapture.engine(engine);
                    try (TrainingLoop loop = TrainingLoop.start(MamlSinusoid.objective(captured, workload.startsWith("fomaml"), 0, List.of()),
                            Adam.adam(MamlSinusoid.OUTER_LR), 0)) {
                        loop.withCapture(StepCapture.on(captured, System.out::println));
                        Rate r = rate(loop::step, warmup, seconds);
                        if (loop.capture().programs().isEmpty()) {
                            throw new IllegalStateException("the captured loop replayed nothing: " + loop.capture().refusal());
                        }
                        yield r;
                    }
                }
                default -> throw new IllegalArgumentException("unknown workload '" + workload + "'; known: mlp, hyper, gemm, maml, fomaml, maml-captured, fomaml-captured, adam, cnn, transformer, ghn, mip");
            };
            System.out.printf(Locale.ROOT, "RESULT workload=%s backend=%s steps_per_s=%.3f steps_per_cpu_s=%.3f warmup_s=%.1f stable=%s%n",
                    workload, engine.backend().name(), rate.wall(), rate.cpu(), rate.warmupSeconds(), rate.stable());
        }
    }

    /**
     * Steps per second of wall time and per second of this thread's CPU time, over {@code seconds}, after a
     * warm-up of at least {@code warmup} seconds that goes on until the JIT has settled: until two consecutive
     * one-second windows run within 5% of each other's CPU-time rate (at most four times {@code warmup}, at least
     * 10 s more; {@code stable} says whether it settled). With one intra-op thread the kernels run on this thread,
     * so the CPU-time rate leaves out the time a loaded machine's scheduler gives to other processes.
     */
    static Rate rate(DoubleSupplier step, double warmup, double seconds) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long begin = System.nanoTime();
        long warmupEnd = begin + (long) (warmup * 1e9);
        while (System.nanoTime() < warmupEnd) {
            check(step.getAsDouble());
        }
        long limit = begin + (long) (Math.max(4 * warmup, warmup + 10) * 1e9);
        double previous = Double.NaN;
        boolean stable = false;
        while (!stable && System.nanoTime() < limit) {
            double window = cpuRate(step, threads, 1.0);
            stable = Math.abs(window - previous) <= 0.05 * Math.max(window, previous);
            previous = window;
        }
        double warmedUp = (System.nanoTime() - begin) / 1e9;
        long cpuStart = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long steps = 0;
        long now;
        do {
            check(step.getAsDouble());
            steps++;
            now = System.nanoTime();
        } while (now < end);
        long cpu = threads.getCurrentThreadCpuTime() - cpuStart;
        return new Rate(steps / ((now - start) / 1e9), steps / (cpu / 1e9), warmedUp, stable);
    }

    /** Steps per CPU-second of this thread over {@code seconds} of wall time. */
    private static double cpuRate(DoubleSupplier step, ThreadMXBean threads, double seconds) {
        long cpuStart = threads.getCurrentThreadCpuTime();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long steps = 0;
        while (System.nanoTime() < end) {
            check(step.getAsDouble());
            steps++;
        }
        return steps / Math.max(1e-9, (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9);
    }

    /**
     * A measured rate.
     *
     * @param wall          steps per second of wall time
     * @param cpu           steps per second of the stepping thread's CPU time
     * @param warmupSeconds how long the warm-up ran
     * @param stable        whether the warm-up's last two one-second windows agreed within 5%
     */
    record Rate(double wall, double cpu, double warmupSeconds, boolean stable) {
    }

    private static void check(double loss) {
        if (!Double.isFinite(loss)) {
            throw new IllegalStateException("the loss is " + loss + ": the benchmark diverged");
        }
    }

    /** One training step of the chunked hypernetwork through the MLP it generates. */
    static final class HyperStep implements AutoCloseable {
        final Mlp mlp = Mlp.of(List.of(784, 256, 256, 10), Activation.RELU);
        final ChunkedHyperNetwork hyper;
        final Tensor context;
        final Tensor x;
        final Tensor y;
        final Adam adam = Adam.adam(MlpStepBenchmark.LEARNING_RATE);
        Params params;

        HyperStep(Engine engine) {
            hyper = network(mlp);
            params = hyper.init(engine, RandomStream.of(0));
            context = engine.tensor(BenchEnvironment.uniform(CONTEXT_SIZE, -1, 1, 3), CONTEXT_SIZE);
            x = engine.tensor(MlpStepBenchmark.inputs(), MlpStepBenchmark.BATCH, 784);
            y = engine.tensor(BenchEnvironment.oneHot(MlpStepBenchmark.labels(), 10), MlpStepBenchmark.BATCH, 10);
        }

        /** The chunked hypernetwork of workload (d), generating {@code target}. */
        static ChunkedHyperNetwork network(Mlp target) {
            return new ChunkedHyperNetwork(HyperTarget.of(target).generated(), CONTEXT_SIZE, CHUNK_SIZE, CHUNK_EMBEDDING,
                    GENERATOR_HIDDEN, Activation.RELU, Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT));
        }

        double step() {
            double loss;
            Params next;
            try (Scope s = Scope.open()) {
                Params h = params.requiringGrad();
                Tensor l = Losses.crossEntropy(mlp.apply(hyper.generate(h, context), x), y);
                loss = l.item();
                next = adam.stepInPlace(params, Grad.of(l).wrt(h));
            }
            params = next;
            return loss;
        }

        @Override
        public void close() {
            params.close();
            adam.close();
            context.close();
            x.close();
            y.close();
        }
    }
}
