package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendDiscovery;
import dev.metaforge.spi.BackendProvider;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.TestAbortedException;

/**
 * CROSS-*: the backend under test against every other usable backend on the classpath. Same
 * initial Params (drawn in Java), same data: the same forward outputs and the same Adam loss
 * curve. Skipped when the backend under test is alone.
 */
@ExtendWith(TckExtension.class)
class CrossBackendConformanceTests {
    private static final int CURVE_STEPS = 200;

    @TckRule(id = "CROSS-FORWARD-1")
    @DisplayName("CROSS-FORWARD-1 same Params, same input: forward outputs agree with every other backend (FLOAT64 1e-10, FLOAT32 1e-5 relative)")
    @TestFactory
    Stream<DynamicTest> forwardAgrees(TckContext tck) {
        return others(tck).stream().flatMap(provider -> Stream.of(DType.FLOAT32, DType.FLOAT64).map(dtype ->
                dynamicTest(tck.backend().name() + " vs " + provider.name() + " " + dtype, () -> {
                  try (Backend other = provider.create(BackendConfig.defaults())) {
                    if (!both(tck.backend(), other, dtype)) {
                        throw new TestAbortedException(dtype + " not declared by both backends");
                    }
                    double[] a = forward(Engine.of(tck.backend(), dtype));
                    double[] b = forward(Engine.of(other, dtype));
                    Tolerance tol = dtype == DType.FLOAT64 ? new Tolerance(1e-10, 1e-12) : new Tolerance(1e-5, 1e-6);
                    Compare.assertClose(b, a, tol, "MLP forward, " + tck.backend().name() + " vs " + other.name());
                  }
                })));
    }

    @TckRule(id = "CROSS-TRAIN-1")
    @DisplayName("CROSS-TRAIN-1 200 Adam steps from the same Params: loss curves agree with every other backend (FLOAT64 1e-8, FLOAT32 1e-3 relative)")
    @TestFactory
    Stream<DynamicTest> lossCurvesAgree(TckContext tck) {
        return others(tck).stream().flatMap(provider -> Stream.of(DType.FLOAT32, DType.FLOAT64).map(dtype ->
                dynamicTest(tck.backend().name() + " vs " + provider.name() + " " + dtype, () -> {
                  try (Backend other = provider.create(BackendConfig.defaults())) {
                    if (!both(tck.backend(), other, dtype)) {
                        throw new TestAbortedException(dtype + " not declared by both backends");
                    }
                    double[] a = curve(Engine.of(tck.backend(), dtype));
                    double[] b = curve(Engine.of(other, dtype));
                    Tolerance tol = dtype == DType.FLOAT64 ? new Tolerance(1e-8, 1e-12) : new Tolerance(1e-3, 1e-6);
                    Compare.assertClose(b, a, tol, CURVE_STEPS + "-step Adam loss curve, " + tck.backend().name() + " vs " + other.name());
                  }
                })));
    }

    /** The shipped regression example, small: initial weights and data come from the spec's seed alone. */
    private static final String SPEC = "{\"experiment\": {\"type\": \"regression\", \"model\": {\"type\": \"mlp\","
            + " \"sizes\": [1, 32, 32, 1], \"activation\": \"tanh\"}, \"task\": {\"function\": \"sin\", \"batch\": 64,"
            + " \"evalPoints\": 64}}, \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.01}, \"steps\": 50, \"seed\": 7}";

    @TckRule(id = "CROSS-TRAIN-2")
    @DisplayName("CROSS-TRAIN-2 the same JSON spec and seed: the same initial loss (1e-5 relative in FLOAT32) and loss curve (1e-3) as every other backend, weights and data drawn by the spec alone")
    @TestFactory
    Stream<DynamicTest> specStartsAndTrainsAlike(TckContext tck) {
        SpecRegistry specs = SpecRegistry.load(ModelConformanceTests.loader());
        TrainSpec spec = specs.read(SPEC, TrainSpec.class, "CROSS-TRAIN-2 spec");
        return others(tck).stream().map(provider -> dynamicTest(tck.backend().name() + " vs " + provider.name(), () -> {
            try (Backend other = provider.create(BackendConfig.defaults())) {
                double[] a = specCurve(specs, spec, Engine.of(tck.backend(), DType.FLOAT32));
                double[] b = specCurve(specs, spec, Engine.of(other, DType.FLOAT32));
                Compare.assertClose(new double[] {b[0]}, new double[] {a[0]}, new Tolerance(1e-5, 1e-7),
                        "initial loss of the same spec and seed, " + tck.backend().name() + " vs " + other.name());
                Compare.assertClose(b, a, new Tolerance(1e-3, 1e-6),
                        spec.steps() + "-step loss curve of the same spec, " + tck.backend().name() + " vs " + other.name());
            }
        }));
    }

    private static double[] specCurve(SpecRegistry specs, TrainSpec spec, Engine engine) {
        Objective objective = spec.experiment().build(new BuildContext(engine, specs, Path.of("."), spec.seed()));
        double[] losses = new double[spec.steps()];
        try (TrainingLoop loop = TrainingLoop.start(objective, spec.optimizer().build(), spec.seed())) {
            for (int i = 0; i < losses.length; i++) {
                losses[i] = loop.step();
            }
        }
        return losses;
    }

    private static boolean both(Backend a, Backend b, DType dtype) {
        return dtype != DType.FLOAT64 || (a.supports(Capability.FLOAT64) && b.supports(Capability.FLOAT64));
    }

    private static final Mlp MODEL = new Mlp(List.of(4, 16, 16, 1), Activation.TANH, Activation.IDENTITY, Initializer.torchDefault());

    private static double[] forward(Engine engine) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            Params p = TrainingConformanceTests.randomParams(engine, MODEL, 0, 41);
            Tensor x = engine.tensor(TrainingConformanceTests.random(8 * 4, 42), Shape.of(8, 4), engine.defaultDType());
            return MODEL.apply(p, x).toDoubles();
        }
    }

    private static double[] curve(Engine engine) {
        TrainingConformanceTests.Regression data = TrainingConformanceTests.Regression.noisyLinear(32, 4, 43);
        try (Scope s = Scope.open()) {
            Tensor x = engine.tensor(data.x(), Shape.of(32, 4), engine.defaultDType());
            Tensor y = engine.tensor(data.y(), Shape.of(32, 1), engine.defaultDType());
            return TrainingConformanceTests.train(engine, MODEL, x, y, 0.01, CURVE_STEPS, 44).losses();
        }
    }

    /** Every other usable backend provider on the classpath (each test creates and closes its backend). */
    private static List<BackendProvider> others(TckContext tck) {
        List<BackendProvider> out = new ArrayList<>();
        ClassLoader loader = Thread.currentThread().getContextClassLoader() != null
                ? Thread.currentThread().getContextClassLoader() : CrossBackendConformanceTests.class.getClassLoader();
        for (BackendProvider p : BackendDiscovery.scan(loader).providers()) {
            if (p.name().equals(tck.backend().name()) || !p.probe().usable()) {
                continue;
            }
            out.add(p);
        }
        if (out.isEmpty()) {
            throw new TestAbortedException("no other backend on the classpath: add a second backend to check agreement");
        }
        return out;
    }
}
