package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.preflight.MemoryBudget;
import dev.metaforge.api.preflight.MemoryMeter;
import dev.metaforge.api.preflight.ShapeBackend;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.spec.SpecValidation;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The pre-flight check: before a run creates a directory or allocates memory, the spec is built
 * and its first training step and an evaluation are run on a {@link ShapeBackend} mirroring the
 * real backend's capabilities. Shapes and dtypes are computed, values are not (reads give zeros),
 * so every shape error a real step would hit surfaces here, and a {@link MemoryMeter} measures the
 * parameters, the largest array and the peak memory of a step against a {@link MemoryBudget}; the
 * pass stops as soon as the budget is exceeded, so a spec asking for terabytes costs nothing.
 *
 * <pre>{@code
 * PreflightReport report = Preflight.check(spec, specs, baseDir, backend, MemoryBudget.defaultBudget(), "run.json");
 * System.out.println(report.summary());
 * }</pre>
 *
 * Every failure is a {@link PreflightException} (a {@link SpecException}: the command line exits
 * with 2) naming the JSON path when known, the shapes, the estimate and what to change.
 */
public final class Preflight {
    /** A step issuing more kernel calls than this is refused (a shape-only call costs about a microsecond). */
    public static final long MAX_KERNEL_CALLS_PER_PASS = 20_000_000L;

    private Preflight() {
    }

    /**
     * Builds {@code spec} on a shape-only backend mirroring {@code backend} and runs one training step
     * and one evaluation on it.
     *
     * @param source the spec's file name (or another label) for messages
     * @throws PreflightException when the spec does not fit its shapes or the budget
     * @throws SpecException      when a declared range is violated
     */
    public static PreflightReport check(TrainSpec spec, SpecRegistry specs, Path baseDir, Backend backend, MemoryBudget budget,
                                        String source) {
        return check(spec, specs, baseDir, backend, budget, source, MAX_KERNEL_CALLS_PER_PASS);
    }

    /**
     * {@link #check(TrainSpec, SpecRegistry, Path, Backend, MemoryBudget, String)} with another limit on the
     * kernel calls of the whole pass (build, initialisation, one step and one evaluation).
     */
    public static PreflightReport check(TrainSpec spec, SpecRegistry specs, Path baseDir, Backend backend, MemoryBudget budget,
                                        String source, long maxKernelCalls) {
        requireNonNull(spec, "spec is null");
        requireNonNull(specs, "specs is null");
        requireNonNull(baseDir, "baseDir is null");
        requireNonNull(backend, "backend is null");
        requireNonNull(budget, "budget is null");
        requireNonNull(source, "source is null");
        SpecValidation.check(spec, source);
        MemoryMeter meter = new MemoryMeter(budget.bytes(), maxKernelCalls);
        ShapeBackend shapes = ShapeBackend.mirroring(backend, meter);
        Engine engine = Engine.of(shapes, spec.engineDType());
        Phase phase = Phase.BUILD;
        try {
            BuildContext context = new BuildContext(engine, specs, baseDir, spec.seed());
            Objective objective = RunSupport.buildObjective(spec, context);
            phase = Phase.OPTIMIZER;
            Optimizer optimizer = RunSupport.buildOptimizer(spec);
            phase = Phase.INIT;
            try (TrainingLoop loop = TrainingLoop.start(objective, optimizer, spec.seed())) {
                Params params = loop.params();
                long parameters = 0;
                Map<String, Long> byModule = new LinkedHashMap<>();
                for (String name : params.names()) {
                    long n = params.get(name).size();
                    parameters += n;
                    int dot = name.lastIndexOf('.');
                    byModule.merge(dot > 0 ? name.substring(0, dot) : name, n, Long::sum);
                }
                long stateBytes = meter.liveBytes();
                phase = Phase.STEP;
                meter.resetPeak();
                long callsBefore = meter.kernelCalls();
                loop.step();
                long stepBytes = meter.peakBytes();
                long calls = meter.kernelCalls() - callsBefore;
                phase = Phase.EVALUATE;
                meter.resetPeak();
                loop.evaluate();
                long evalBytes = meter.peakBytes();
                return new PreflightReport(backend.name(), spec.engineDType(), parameters, byModule, stateBytes, stepBytes,
                        evalBytes, meter.largestShape(), meter.largestDType(), meter.largestBytes(), calls, budget);
            }
        } catch (MemoryMeter.LimitExceededException e) {
            if (e.kernelCalls()) {
                throw new PreflightException(source + " at " + phase.path + ": " + phase.doing + " is too long to run: "
                        + e.getMessage() + "; " + phase.memoryAdvice, phase.path, e);
            }
            throw new PreflightException(source + " at " + phase.path + ": " + phase.doing + " needs more than the memory budget of "
                    + budget + ": " + e.getMessage() + "; " + phase.memoryAdvice + ", or raise the budget with --memory-budget"
                    + " (e.g. --memory-budget 80%)", phase.path, e);
        } catch (PreflightException e) {
            throw e;
        } catch (SpecException e) {
            if (phase == Phase.BUILD || phase == Phase.OPTIMIZER) {
                throw e;
            }
            throw new PreflightException(source + ": " + phase.doing + " fails: " + e.getMessage(), e.jsonPath(), e);
        } catch (UnsupportedCapabilityException e) {
            throw new PreflightException(source + " at " + phase.path + ": " + phase.doing + " needs what the backend lacks: "
                    + e.getMessage(), phase.path, e);
        } catch (TrainingException | IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException
                 | java.io.UncheckedIOException e) {
            // The documented errors of kernels, modules and components. Anything else (a NullPointerException,
            // an ArithmeticException) is a bug in a component and propagates as such.
            throw new PreflightException(source + " at " + phase.path + ": " + phase.doing + " fails on the shape-only pass, "
                    + "so the real run would fail the same way: " + describe(e) + "; " + phase.advice, phase.path, e);
        } catch (OutOfMemoryError e) {
            throw new PreflightException(source + " at " + phase.path + ": " + phase.doing + " needs more Java heap than this JVM has ("
                    + PreflightReport.format(Runtime.getRuntime().maxMemory()) + "): " + e.getMessage() + "; " + phase.memoryAdvice,
                    phase.path, null);
        } catch (StackOverflowError e) {
            throw new PreflightException(source + " at " + phase.path + ": " + phase.doing + " recurses too deeply (stack overflow); "
                    + "the spec nests modules too deeply", phase.path, null);
        }
    }

    private static String describe(RuntimeException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        boolean plain = e instanceof IllegalArgumentException || e instanceof TrainingException || e instanceof IllegalStateException;
        return plain && !message.isEmpty() ? message : e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }

    private enum Phase {
        BUILD("$.experiment", "building the experiment", "check the experiment's fields",
                "lower the sizes of the experiment's data"),
        OPTIMIZER("$.optimizer", "building the optimizer", "check the optimizer's fields", "check the optimizer's fields"),
        INIT("$.experiment", "initialising the parameters", "check the model's fields",
                "lower the model's widths (e.g. the mlp \"sizes\") or the number of parameters"),
        STEP("$.experiment", "the first training step",
                "make the model fit the task: its input and output widths (e.g. the first and last mlp \"sizes\") must match"
                        + " what the task gives and expects",
                "lower the model's widths or the batch, meta-batch, inner steps or points per step"),
        EVALUATE("$.experiment", "evaluation",
                "make the model fit the task's evaluation data",
                "lower the evaluation sizes (evaluation points or tasks) or the model's widths");

        final String path;
        final String doing;
        final String advice;
        final String memoryAdvice;

        Phase(String path, String doing, String advice, String memoryAdvice) {
            this.path = path;
            this.doing = doing;
            this.advice = advice;
            this.memoryAdvice = memoryAdvice;
        }
    }
}
