package dev.metaforge.bench;

import dev.metaforge.api.capture.CapturedProgram;
import dev.metaforge.api.capture.StepCapture;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.plugins.meta.MamlSinusoid;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Eager ({@code "capture": false}) vs captured (a training spec's default) MAML sinusoid meta-iterations
 * on one backend, in one process, rounds interleaved (eager, captured, eager, ...): the measure of step capture. Each round
 * trains a fresh loop for a warm-up and then {@code --seconds} timed seconds; every step reads its loss
 * back, as {@link StepRateMain} does. Prints each round with the 1-minute load average, then medians:
 * <pre>
 * bench/run.sh CaptureBenchMain --backend djl [--workload maml|fomaml] [--rounds 5] [--warmup 3] [--seconds 5]
 * </pre>
 */
public final class CaptureBenchMain {
    private CaptureBenchMain() {
    }

    public static void main(String[] args) throws Exception {
        String backend = null;
        String workload = "maml";
        int rounds = 5;
        double warmup = 3;
        double seconds = 5;
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--workload" -> workload = args[++i];
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument '" + args[i]
                        + "'; known: --backend NAME, --workload maml|fomaml, --rounds N, --warmup SECONDS, --seconds SECONDS");
            }
        }
        if (!workload.equals("maml") && !workload.equals("fomaml")) {
            throw new IllegalArgumentException("unknown workload '" + workload + "'; known: maml, fomaml");
        }
        boolean firstOrder = workload.equals("fomaml");
        try (Engine engine = Engine.create(backend)) {
            String threads = engine.backend().name().equals("djl") ? BenchEnvironment.pytorchThreads() : BenchEnvironment.nd4jThreads();
            System.out.println("backend " + engine.backend().name() + " (" + engine.backend().version() + "); " + threads);
            double[] eager = new double[rounds];
            double[] captured = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                eager[r] = rate(engine, firstOrder, false, warmup, seconds);
                captured[r] = rate(engine, firstOrder, true, warmup, seconds);
                System.out.printf(Locale.ROOT, "round %d: eager %.1f it/s, captured %.1f it/s (x%.2f), load %s%n",
                        r + 1, eager[r], captured[r], captured[r] / eager[r], load());
            }
            System.out.printf(Locale.ROOT, "RESULT workload=%s backend=%s eager_cpu_it_per_s=%.1f captured_cpu_it_per_s=%.1f speedup=%.2f%n",
                    workload, engine.backend().name(), median(eager), median(captured), median(captured) / median(eager));
        }
    }

    /** Meta-iterations per second of this thread's CPU time (with one intra-op thread the kernels run on it). */
    private static double rate(Engine base, boolean firstOrder, boolean capture, double warmup, double seconds) {
        Engine engine = capture ? StepCapture.engine(base) : base;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (TrainingLoop loop = TrainingLoop.start(MamlSinusoid.objective(engine, firstOrder, 0, List.of()),
                Adam.adam(MamlSinusoid.OUTER_LR), 0)) {
            if (capture) {
                loop.withCapture(StepCapture.on(engine, System.out::println));
            }
            long end = System.nanoTime() + (long) (warmup * 1e9);
            while (System.nanoTime() < end) {
                loop.step();
            }
            long cpu = threads.getCurrentThreadCpuTime();
            long stop = System.nanoTime() + (long) (seconds * 1e9);
            long n = 0;
            while (System.nanoTime() < stop) {
                loop.step();
                n++;
            }
            double rate = n / ((threads.getCurrentThreadCpuTime() - cpu) / 1e9);
            if (capture) {
                List<CapturedProgram> programs = loop.capture().programs();
                if (programs.isEmpty()) {
                    throw new IllegalStateException("the captured loop replayed nothing: " + loop.capture().refusal());
                }
                CapturedProgram p = programs.get(0);
                System.out.printf(Locale.ROOT, "  program: %d calls traced, %d replayed per step, %d constant, %d dead%n",
                        p.calls().size(), p.replayedCalls(), p.constantCalls(), p.deadCalls());
            }
            return rate;
        }
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "?";
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
