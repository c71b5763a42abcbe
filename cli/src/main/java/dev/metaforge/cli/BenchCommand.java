package dev.metaforge.cli;

import dev.metaforge.api.capture.StepCapture;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingException;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.BackendNotFoundException;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code metaforge bench}: the long-run memory soak. Trains many small steps (default 10^6 of an
 * MLP 1-32-32-1 regression with Adam, through the same {@link TrainingLoop} as {@code train}) and
 * prints resident memory (native growth, when the heap is fixed and pre-touched) and the heap used
 * after a full GC at regular intervals, then the growth after warm-up. Exit code 0 when resident
 * growth after warm-up stays under {@code --max-growth} percent, 1 otherwise.
 *
 * <pre>
 * JAVA_OPTS="-Xms1g -Xmx1g -XX:+AlwaysPreTouch" ./metaforge bench --backend djl --steps 1000000
 * </pre>
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Memory soak: train many small steps and report resident (native) and heap growth.",
                "Run with JAVA_OPTS=\"-Xms1g -Xmx1g -XX:+AlwaysPreTouch\" so resident growth is native growth."})
public final class BenchCommand implements Callable<Integer> {
    /** The default workload: a small MLP regression, one scope per step. */
    static final String DEFAULT_SPEC = "{\"experiment\": {\"type\": \"regression\", \"model\": {\"type\": \"mlp\","
            + " \"sizes\": [1, 32, 32, 1], \"activation\": \"tanh\"}, \"task\": {\"function\": \"sin\", \"batch\": 32}},"
            + " \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.001}, \"steps\": 1000000, \"seed\": 0}";

    @ParentCommand
    MetaforgeCommand root;

    @Spec
    CommandSpec command;

    @Option(names = "--backend", paramLabel = "NAME", description = "Backend to soak (djl, dl4j, reference). Default: the selection rule.")
    String backend;

    @Option(names = "--device", paramLabel = "DEVICE", converter = DeviceConverter.class,
            description = "Device to compute on: cpu (default), gpu or gpu:N. A backend without that device says so and exits 2.")
    Device device;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1000000", description = "Training steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--warmup", paramLabel = "N", description = "Steps before the baseline is taken (default: 2%% of --steps, at most 20,000).")
    Long warmup;

    @Option(names = "--report-every", paramLabel = "N", description = "Steps between report lines (default: --steps / 20).")
    Long reportEvery;

    @Option(names = "--spec", paramLabel = "SPEC.json", description = "Soak this training spec instead of the built-in MLP regression.")
    Path specFile;

    @Option(names = "--max-growth", paramLabel = "PERCENT", defaultValue = "1",
            description = "Resident growth after warm-up, in percent, above which the exit code is 1 (default: ${DEFAULT-VALUE}).")
    double maxGrowthPercent;

    @Override
    public Integer call() {
        PrintWriter out = command.commandLine().getOut();
        PrintWriter err = command.commandLine().getErr();
        if (steps <= 0) {
            return fail(err, "--steps must be positive, got " + steps);
        }
        long warm = warmup != null ? warmup : Math.min(20_000, Math.max(1, steps / 50));
        long every = reportEvery != null ? reportEvery : Math.max(1, steps / 20);
        if (warm < 0 || warm >= steps || every <= 0) {
            return fail(err, "need 0 <= --warmup < --steps and --report-every > 0, got warmup " + warm + ", report-every " + every);
        }
        try {
            SpecRegistry specs = SpecRegistry.load(root.context().classLoader());
            TrainSpec spec = specFile == null ? specs.read(DEFAULT_SPEC, TrainSpec.class, "built-in bench spec")
                    : TrainCommand.readSpec(specs, specFile);
            Path baseDir = specFile == null ? Path.of("").toAbsolutePath() : TrainCommand.baseDir(specFile);
            List<String> jvm = ManagementFactory.getRuntimeMXBean().getInputArguments();
            boolean fixedHeap = jvm.contains("-XX:+AlwaysPreTouch");
            try (Backend chosen = TrainCommand.openBackend(root.context(), backend, device)) {
                // Steps are captured as `train` captures them: unless the spec says "capture": false.
                Engine plain = Engine.of(chosen, spec.engineDType());
                Engine engine = spec.captureAllowed() ? StepCapture.engine(plain) : plain;
                Objective objective = spec.experiment().build(new BuildContext(engine, specs, baseDir, spec.seed()));
                StepCapture capture = spec.captureAllowed() ? Trainer.captureFor(specs, spec,
                        specFile == null ? "built-in bench spec" : specFile.toString(), objective, engine, false, err::println) : null;
                Optimizer optimizer = spec.optimizer().build();
                // the backend's own description: its version, device and, where it has a choice, its float32 GEMM
                out.printf(Locale.ROOT, "# bench: %d steps on %s, warm-up %d, heap %s%n", steps, chosen, warm,
                        fixedHeap ? "fixed and pre-touched: resident growth is native growth"
                                : "NOT pre-touched (set JAVA_OPTS=\"-Xms1g -Xmx1g -XX:+AlwaysPreTouch\"): resident growth includes heap pages");
                out.println("# step  seconds  steps/s  resident_MiB  heap_after_gc_MiB  loss");
                long start = System.nanoTime();
                long baseResident = 0;
                long baseHeap = 0;
                double lastLoss = Double.NaN;
                try (TrainingLoop loop = TrainingLoop.start(objective, optimizer, spec.seed())) {
                    if (capture != null) {
                        loop.withCapture(capture);
                    }
                    for (long step = 1; step <= steps; step++) {
                        lastLoss = loop.step();
                        if (step == warm) {
                            baseResident = settledResident();
                            baseHeap = heapAfterGc();
                            report(out, step, start, baseResident, baseHeap, lastLoss);
                        } else if (step % every == 0 || step == steps) {
                            report(out, step, start, settledResident(), heapAfterGc(), lastLoss);
                        }
                    }
                    out.printf(Locale.ROOT, "# step capture: %d of %d steps replayed%n", loop.capture() == null ? 0
                            : loop.capture().replayedSteps(), steps);
                }
                long endResident = settledResident();
                long endHeap = heapAfterGc();
                double growth = 100.0 * (endResident - baseResident) / baseResident;
                out.printf(Locale.ROOT, "# after warm-up (%d -> %d steps): resident %+.1f MiB (%+.2f%%), heap after GC %+.1f MiB; "
                                + "%.0f steps/s%n", warm, steps, (endResident - baseResident) / 1048576.0, growth,
                        (endHeap - baseHeap) / 1048576.0, steps / ((System.nanoTime() - start) / 1e9));
                out.flush();
                return growth < maxGrowthPercent ? 0 : 1;
            }
        } catch (SpecException | TrainingException | BackendNotFoundException | UnsupportedCapabilityException
                 | IllegalArgumentException e) {
            return fail(err, e.getMessage());
        }
    }

    private static void report(PrintWriter out, long step, long start, long resident, long heap, double loss) {
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "%d  %.1f  %.0f  %.1f  %.1f  %.4g%n", step, seconds, step / seconds, resident / 1048576.0,
                heap / 1048576.0, loss);
        out.flush();
    }

    private int fail(PrintWriter err, String message) {
        err.println("metaforge bench: " + message);
        err.flush();
        return TrainCommand.EXIT_USAGE;
    }

    /** Heap in use after a full collection. */
    static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Resident set size after a GC and a short pause, so freed native memory has been returned. */
    static long settledResident() {
        System.gc();
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return resident();
    }

    /** VmRSS from /proc/self/status; 0 where there is no /proc. */
    static long resident() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
