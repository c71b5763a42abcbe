package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.capture.CapturedProgram;
import dev.metaforge.api.capture.StepCapture;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.opentest4j.AssertionFailedError;

/**
 * The check behind the CAPTURE-* rules, public so that a test can show it catches a broken replay: the
 * same objective trained eagerly and with {@link StepCapture} on one backend gives bit-identical losses
 * and parameters after every step, and the captured run really replayed.
 *
 * <pre>{@code
 * CaptureCheck.Outcome o = CaptureCheck.compare(backend, DType.FLOAT32, engine -> objective(engine), 8, UnaryOperator.identity());
 * }</pre>
 */
public final class CaptureCheck {
    private CaptureCheck() {
    }

    /**
     * What the captured run did.
     *
     * @param traced   steps recorded (run eagerly)
     * @param replayed steps replayed
     * @param programs programs kept (one per shape signature)
     * @param calls    kernel calls a replay of the first program runs per step
     */
    public record Outcome(long traced, long replayed, int programs, int calls) {
    }

    /** The objective of {@code specJson}'s experiment, built on the engine given. */
    public static Function<Engine, Objective> fromSpec(String specJson, String source) {
        SpecRegistry specs = SpecRegistry.load(ModelConformanceTests.loader());
        TrainSpec spec = specs.read(specJson, TrainSpec.class, source);
        return engine -> spec.experiment().build(new BuildContext(engine, specs, Path.of("."), spec.seed()));
    }

    /**
     * Trains {@code steps} Adam steps (rate 1e-3, seed 3) of the objective {@code build} makes, eagerly and
     * captured (each program passed through {@code transform} first), and fails at the first step whose
     * loss or parameters differ in any bit, or when the captured run replayed nothing.
     *
     * @throws AssertionFailedError naming the step, the tensor and the first differing entry
     */
    public static Outcome compare(Backend backend, DType dtype, Function<Engine, Objective> build, int steps,
                                  UnaryOperator<CapturedProgram> transform) {
        requireNonNull(build, "build is null");
        Engine eagerEngine = Engine.of(backend, dtype);
        Engine captureEngine = StepCapture.engine(eagerEngine);
        List<String> notices = new ArrayList<>();
        try (TrainingLoop eager = TrainingLoop.start(build.apply(eagerEngine), dev.metaforge.api.optim.Adam.adam(1e-3), 3);
             TrainingLoop captured = TrainingLoop.start(build.apply(captureEngine), dev.metaforge.api.optim.Adam.adam(1e-3), 3)
                     .withCapture(StepCapture.on(captureEngine, notices::add, transform))) {
            for (int s = 0; s < steps; s++) {
                double a = eager.step();
                double b = captured.step();
                String when = "step " + s + " (" + dtype + ", " + (captured.capture().replayedSteps() > 0 ? "replayed" : "traced") + ")";
                if (Double.doubleToRawLongBits(a) != Double.doubleToRawLongBits(b)) {
                    throw new AssertionFailedError("captured loss differs from eager at " + when + ": " + b + " vs " + a);
                }
                assertSameParams(eager.params(), captured.params(), when);
            }
            StepCapture capture = captured.capture();
            if (capture.refusal() != null || capture.replayedSteps() == 0) {
                throw new AssertionFailedError("the captured run replayed no step (" + capture.tracedSteps() + " traced): "
                        + (capture.refusal() != null ? capture.refusal() : String.join("; ", notices)));
            }
            List<CapturedProgram> programs = capture.programs();
            return new Outcome(capture.tracedSteps(), capture.replayedSteps(), programs.size(),
                    programs.isEmpty() ? 0 : programs.get(0).replayedCalls());
        }
    }

    private static void assertSameParams(Params expected, Params actual, String when) {
        for (String name : expected.names()) {
            double[] e = expected.get(name).toDoubles();
            double[] a = actual.get(name).toDoubles();
            for (int i = 0; i < e.length; i++) {
                if (Double.doubleToRawLongBits(e[i]) != Double.doubleToRawLongBits(a[i])) {
                    throw new AssertionFailedError("captured parameter '" + name + "' differs from eager after " + when
                            + " at entry " + i + ": " + a[i] + " vs " + e[i]);
                }
            }
        }
    }
}
