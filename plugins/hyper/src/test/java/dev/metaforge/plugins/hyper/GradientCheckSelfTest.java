package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The gradient check itself must catch a wrong gradient and a vacuous (all-zero) one. */
class GradientCheckSelfTest {
    @Test
    void catchesAWrongGradient() {
        Engine engine = HyperFixtures.engine();
        try (Scope scope = Scope.open()) {
            Params p = Params.of(Map.of("w", HyperFixtures.uniform(engine, 1, 3, 2)));
            // d/dw sum(w * stop(w)) is w by reverse mode but 2w by finite differences.
            AssertionError e = assertThrows(AssertionError.class,
                    () -> GradientCheck.check(engine, p, q -> q.get("w").mul(q.get("w").stopGradient()).sum(), 1e-6, 10, 2));
            assertTrue(e.getMessage().contains("'w'"), e.getMessage());
            // The honest version passes.
            GradientCheck.check(engine, p, q -> q.get("w").square().sum(), 1e-6, 10, 2);
        }
    }

    @Test
    void refusesAnAllZeroGradient() {
        Engine engine = HyperFixtures.engine();
        try (Scope scope = Scope.open()) {
            Params p = Params.of(Map.of("w", HyperFixtures.uniform(engine, 3, 2)));
            assertThrows(AssertionError.class, () -> GradientCheck.check(engine, p, q -> q.get("w").sum().mul(0.0), 1e-6, 10, 2));
        }
    }
}
