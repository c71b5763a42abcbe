package dev.metaforge.tckselftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import dev.metaforge.tck.GradientCheck;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The public gradient check: it must accept true gradients, reject wrong and vacuous ones, and refuse FLOAT32. */
class GradientCheckTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);

    private Params params(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = r.nextDouble() * 2 - 1;
        }
        return Params.of(Map.of("w", engine.tensor(w, Shape.of(n), DType.FLOAT64)));
    }

    @Test
    void bothSidesMatchTheClosedFormDirectionalDerivative() {
        try (Scope s = Scope.open()) {
            Params p = params(1, 6);
            // f(w) = sum(w^3): the directional derivative along d is sum(3 w^2 d), computed here in plain Java.
            GradientCheck.Result r = GradientCheck.assertDirectional("sum of cubes", p, q -> q.get("w").pow(3.0).sum(), 9);
            double[] w = p.get("w").toDoubles();
            SplittableRandom dr = new SplittableRandom(9); // the documented direction: uniform [-1, 1) from the seed
            double closedForm = 0;
            for (double wi : w) {
                closedForm += 3 * wi * wi * (dr.nextDouble() * 2 - 1);
            }
            assertEquals(closedForm, r.analytic(), 1e-12, "reverse mode");
            assertEquals(closedForm, r.numeric(), 1e-8, "central differences");
            assertTrue(r.passed());
        }
    }

    @Test
    void catchesAWrongBackwardNamingTheCase() {
        try (Scope s = Scope.open()) {
            Params p = params(2, 5);
            // d/dw sum(w * stop(w)) is w by reverse mode but 2w by finite differences.
            Function<Params, Tensor> wrong = q -> q.get("w").mul(q.get("w").stopGradient()).sum();
            AssertionFailedError e = assertThrows(AssertionFailedError.class,
                    () -> GradientCheck.assertDirectional("my-layer", p, wrong, 3));
            assertTrue(e.getMessage().startsWith("my-layer: the gradient does not match finite differences"), e.getMessage());
            GradientCheck.Result r = GradientCheck.directional(p, wrong, 3);
            assertEquals(2 * r.analytic(), r.numeric(), 1e-8, "finite differences see twice the reverse-mode value");
            AssertionFailedError entry = assertThrows(AssertionFailedError.class,
                    () -> GradientCheck.assertEntries("my-layer", p, wrong, 1e-6, 10, 4));
            assertTrue(entry.getMessage().contains("my-layer: gradient of 'w' [5] at flat index 0"), entry.getMessage());
            // the honest version passes entry by entry too
            GradientCheck.assertEntries("square", p, q -> q.get("w").square().sum(), 1e-6, 10, 4);
        }
    }

    @Test
    void refusesVacuousChecksAndFloat32() {
        try (Scope s = Scope.open()) {
            Params p = params(3, 4);
            Function<Params, Tensor> flat = q -> q.get("w").sum().mul(0.0);
            AssertionFailedError zero = assertThrows(AssertionFailedError.class, () -> GradientCheck.assertDirectional("flat", p, flat, 1));
            assertTrue(zero.getMessage().contains("exactly zero both ways"), zero.getMessage());
            assertThrows(AssertionFailedError.class, () -> GradientCheck.assertEntries("flat", p, flat, 1e-6, 4, 1));
            Engine f32 = Engine.of(new ReferenceBackend(), DType.FLOAT32);
            Params p32 = Params.of(Map.of("w", f32.tensor(new double[] {1, 2}, Shape.of(2), DType.FLOAT32)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GradientCheck.directional(p32, q -> q.get("w").sum(), 1));
            assertTrue(e.getMessage().contains("'w' is FLOAT32"), e.getMessage());
            IllegalArgumentException notScalar = assertThrows(IllegalArgumentException.class,
                    () -> GradientCheck.directional(p, q -> q.get("w"), 1));
            assertTrue(notScalar.getMessage().contains("scalar"), notScalar.getMessage());
        }
    }

    @Test
    void checksAModuleAndAWholeObjective() {
        try (Scope s = Scope.open()) {
            Mlp mlp = Mlp.of(List.of(2, 3, 1), Activation.TANH);
            Params p = mlp.init(engine, RandomStream.of(1));
            Tensor x = engine.tensor(new double[] {0.1, -0.4, 0.3, 0.9}, Shape.of(2, 2), DType.FLOAT64);
            GradientCheck.assertDirectional("mlp 2-3-1", p, q -> mlp.apply(q, x).square().sum(), 7);
            SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
            ExperimentSpec spec = specs.read("{\"type\": \"regression\", \"model\": {\"type\": \"mlp\", \"sizes\": [1, 4, 1],"
                    + " \"activation\": \"tanh\"}, \"task\": {\"function\": \"sin\", \"batch\": 5, \"evalPoints\": 5}}",
                    ExperimentSpec.class, "test");
            Objective objective = spec.build(new BuildContext(engine, specs, Path.of("."), 5));
            GradientCheck.Result r = GradientCheck.assertDirectional("regression", objective, objective.init(RandomStream.of(5)), 5);
            assertTrue(r.difference() < 1e-7, r::toString);
        }
    }
}
