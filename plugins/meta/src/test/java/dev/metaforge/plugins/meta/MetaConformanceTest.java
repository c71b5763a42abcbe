package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.meta.MetaGradientCheck;
import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance workload itself: every learner's meta-gradient on its tiny problem is a true
 * gradient of the meta-loss (central finite differences in float64; Reptile, whose update is not
 * a gradient of its surrogate's value, is checked against a Java loop in {@link MetaGradientTest}),
 * and float32 agrees with float64 to float32 precision.
 */
class MetaConformanceTest {
    static Stream<String> learners() {
        return MetaConformance.learners().stream();
    }

    @ParameterizedTest
    @MethodSource("learners")
    void float64MetaGradientMatchesFiniteDifferences(String name) {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        try (Scope ignored = Scope.open()) {
            MetaLearner learner = MetaConformance.learner(name);
            Params theta = MetaConformance.parameters(engine, learner, 0);
            Params analytic = MetaConformance.metaGradient(engine, name);
            assertEquals(theta.names(), analytic.names());
            if (name.equals("reptile") || name.equals("fomaml")) {
                return;  // not gradients of the meta-loss's value by design; see MetaGradientTest
            }
            Params numeric = MetaGradientCheck.finiteDifference(learner, theta, MetaConformance.tasks(engine, learner, 0), 1e-6);
            double error = MetaGradientCheck.maxRelativeError(analytic, numeric, 1e-3);
            assertTrue(error < 1e-6, name + ": max relative error vs finite differences " + error);
        }
    }

    @ParameterizedTest
    @MethodSource("learners")
    void float32AgreesWithFloat64(String name) {
        try (Scope ignored = Scope.open()) {
            Params reference = MetaConformance.metaGradient(Engine.of(new ReferenceBackend(), DType.FLOAT64), name);
            Params single = MetaConformance.metaGradient(Engine.of(new ReferenceBackend(), DType.FLOAT32), name);
            double error = MetaGradientCheck.maxRelativeError(single, reference, 1e-2);
            assertTrue(error < 1e-3, name + ": float32 vs float64 max relative error " + error);
            double norm = Math.sqrt(MetaGradientCheck.dot(reference, reference));
            assertTrue(norm > 1e-3, name + ": a non-trivial meta-gradient, norm " + norm);
        }
    }
}
