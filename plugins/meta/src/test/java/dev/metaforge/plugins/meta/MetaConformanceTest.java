package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.meta.MetaGradientCheck;
import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance workload itself: every learner's meta-gradient on its tiny problem is checked
 * against an independent computation in float64, and float32 agrees with float64 to float32
 * precision. MAML, Meta-SGD, ANIL and ProtoNet are true gradients of the meta-loss (central finite
 * differences through the whole adaptation); first-order MAML is, by definition, the mean query
 * gradient at each task's adapted weights (finite differences in the adapted weights); Reptile's
 * update is theta minus the mean of the weights each task reaches by plain SGD (a separate loop).
 * Before issue 13 the last two returned early and passed; a planted fault now shows every check
 * can fail.
 */
class MetaConformanceTest {
    private static final double H = 1e-6;
    private static final double TOLERANCE = 1e-6;

    static Stream<String> learners() {
        return MetaConformance.learners().stream();
    }

    @ParameterizedTest
    @MethodSource("learners")
    void float64MetaGradientMatchesAnIndependentComputation(String name) {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        try (Scope ignored = Scope.open()) {
            MetaLearner learner = MetaConformance.learner(name);
            Params theta = MetaConformance.parameters(engine, learner, 0);
            Params analytic = MetaConformance.metaGradient(engine, name);
            assertEquals(theta.names(), analytic.names());
            double error = error(name, learner, theta, MetaConformance.tasks(engine, learner, 0), analytic);
            assertTrue(error < TOLERANCE, name + ": max relative error against the independent computation " + error);
        }
    }

    /** A planted fault (one gradient entry off by 1%) is caught by the same check, for every learner. */
    @ParameterizedTest
    @MethodSource("learners")
    void aPlantedFaultInTheMetaGradientIsCaught(String name) {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        try (Scope ignored = Scope.open()) {
            MetaLearner learner = MetaConformance.learner(name);
            Params theta = MetaConformance.parameters(engine, learner, 0);
            Params analytic = MetaConformance.metaGradient(engine, name);
            String victim = analytic.names().get(analytic.names().size() - 1);
            Params faulty = analytic.mapNamed((n, t) -> {
                if (!n.equals(victim)) {
                    return t;
                }
                double[] v = t.toDoubles();
                v[0] = v[0] * 1.01 + 1e-3;
                return engine.tensor(v, t.shape(), t.dtype());
            });
            double error = error(name, learner, theta, MetaConformance.tasks(engine, learner, 0), faulty);
            assertTrue(error > 100 * TOLERANCE, name + ": the planted fault in '" + victim + "' went unnoticed (error " + error + ")");
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

    /** Max relative error of {@code analytic} against the learner's definition, computed independently. */
    private static double error(String name, MetaLearner learner, Params theta, TaskBatch tasks, Params analytic) {
        Params expected = switch (name) {
            case "fomaml" -> firstOrderByDefinition(learner, theta, tasks);
            case "reptile" -> reptileByDefinition(learner, theta, tasks);
            default -> MetaGradientCheck.finiteDifference(learner, theta, tasks, H);
        };
        return MetaGradientCheck.maxRelativeError(analytic, expected, 1e-3);
    }

    /**
     * First-order MAML: the mean over tasks of the query loss's gradient at each task's adapted
     * weights, by central finite differences in those weights (the adaptation is not differentiated).
     */
    private static Params firstOrderByDefinition(MetaLearner learner, Params theta, TaskBatch tasks) {
        Params adapted = learner.adapt(theta, tasks);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : theta.names()) {
            Tensor phi = adapted.get(name);
            double[] values = phi.toDoubles();
            double[] gradient = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                double saved = values[i];
                values[i] = saved + H;
                double up = meanQueryLoss(learner, adapted, name, values, phi, tasks);
                values[i] = saved - H;
                double down = meanQueryLoss(learner, adapted, name, values, phi, tasks);
                values[i] = saved;
                gradient[i] = (up - down) / (2 * H);
            }
            // adapted weights are [T, ...]: each task's share of the mean loss goes to the shared theta
            Tensor perTask = phi.engine().tensor(gradient, phi.shape(), phi.dtype());
            out.put(name, perTask.shape().rank() > theta.get(name).shape().rank() ? perTask.sum(0, false) : perTask);
        }
        return Params.of(out);
    }

    private static double meanQueryLoss(MetaLearner learner, Params adapted, String name, double[] values, Tensor like,
                                        TaskBatch tasks) {
        Params moved = adapted.mapNamed((n, t) -> n.equals(name) ? like.engine().tensor(values, like.shape(), like.dtype()) : t);
        return learner.queryLoss(moved, tasks).mean().item();
    }

    /**
     * Reptile: theta minus the mean of the weights each task reaches after the learner's inner steps
     * of plain SGD on its support mean squared error, by a separate loop over tasks.
     */
    private static Params reptileByDefinition(MetaLearner learner, Params theta, TaskBatch tasks) {
        Reptile reptile = (Reptile) learner;
        int steps = reptile.innerSteps();
        double lr = reptile.innerLr();
        Map<String, Tensor> sum = new LinkedHashMap<>();
        for (int t = 0; t < tasks.tasks(); t++) {
            Tensor x = tasks.supportInputs().slice(0, t, t + 1).squeeze(0);
            Tensor y = tasks.supportTargets().slice(0, t, t + 1).squeeze(0);
            Params phi = theta;
            for (int s = 0; s < steps; s++) {
                Params tracked = phi.requiringGrad();
                Tensor loss = learner.module().apply(tracked, x).sub(y).square().mean();
                Params g = Grad.of(loss).wrt(tracked);
                phi = phi.mapNamed((n, w) -> w.sub(g.get(n).mul(lr)));
            }
            for (String name : theta.names()) {
                sum.merge(name, phi.get(name), Tensor::add);
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : theta.names()) {
            out.put(name, theta.get(name).sub(sum.get(name).div(tasks.tasks())));
        }
        return Params.of(out);
    }
}
