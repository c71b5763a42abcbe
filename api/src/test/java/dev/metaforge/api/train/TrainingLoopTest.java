package dev.metaforge.api.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.optim.Sgd;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceArray;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.TopK;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TrainingLoopTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);

    /** f(w) = sum((w - t)^2): the loss ignores the random stream. */
    private class Quadratic implements Objective {
        final double[] target = {1.0, -2.0, 0.5};
        final double[] start = {0.0, 0.0, 3.0};

        @Override
        public Params init(RandomStream rng) {
            return Params.of(Map.of("w", engine.tensor(start, 3)));
        }

        @Override
        public Tensor loss(Params params, long step, RandomStream rng) {
            return params.get("w").sub(engine.tensor(target, 3)).square().sum();
        }

        @Override
        public Map<String, Double> evaluate(Params params) {
            return Map.of("loss", loss(params, 0, RandomStream.of(0)).item());
        }
    }

    /** advance() defers the read: the loss read later is the closed form of the step that produced it. */
    @Test
    void advanceDefersTheReadAndADivergedLossIsCaughtWhenRead() {
        double lr = 0.1;
        Quadratic q = new Quadratic();
        double d0 = 0;
        for (int i = 0; i < 3; i++) {
            d0 += (q.start[i] - q.target[i]) * (q.start[i] - q.target[i]);
        }
        try (TrainingLoop loop = TrainingLoop.start(q, Sgd.of(lr), 0)) {
            assertThrows(IllegalStateException.class, loop::lastLoss, "no step yet");
            for (int t = 0; t < 5; t++) {
                loop.advance();
            }
            assertEquals(Math.pow(1 - 2 * lr, 2 * 4) * d0, loop.lastLoss(), 1e-12, "loss of step 4, read after the fact");
        }
        // lr = 1.5: w_t - t = (1 - 2 lr)^t (w_0 - t) = (-2)^t (w_0 - t) overflows to infinity, then NaN.
        try (TrainingLoop loop = TrainingLoop.start(q, Sgd.of(1.5), 0)) {
            for (int t = 0; t < 600; t++) {
                loop.advance();
            }
            TrainingException e = assertThrows(TrainingException.class, loop::lastLoss);
            assertTrue(e.getMessage().contains("at step 599") && e.getMessage().contains("diverged"), e.getMessage());
        }
    }

    /** Closed form of plain SGD on the quadratic: w_t = t + (1 - 2 lr)^t (w_0 - t), loss_t = (1 - 2 lr)^(2t) |w_0 - t|^2. */
    @Test
    void sgdStepsFollowTheClosedForm() {
        double lr = 0.1;
        Quadratic q = new Quadratic();
        try (TrainingLoop loop = TrainingLoop.start(q, Sgd.of(lr), 0)) {
            double d0 = 0;
            for (int i = 0; i < 3; i++) {
                d0 += (q.start[i] - q.target[i]) * (q.start[i] - q.target[i]);
            }
            for (int t = 0; t < 25; t++) {
                double loss = loop.step();
                assertEquals(Math.pow(1 - 2 * lr, 2 * t) * d0, loss, 1e-12, "loss of step " + t);
            }
            assertEquals(25, loop.completedSteps());
            double[] w = loop.params().get("w").toDoubles();
            for (int i = 0; i < 3; i++) {
                assertEquals(q.target[i] + Math.pow(1 - 2 * lr, 25) * (q.start[i] - q.target[i]), w[i], 1e-12);
            }
            assertEquals(Math.pow(1 - 2 * lr, 50) * d0, loop.evaluate().get("loss"), 1e-12);
            assertTrue(loop.params().get("w").isTracked() == false, "current parameters are plain values");
        }
    }

    @Test
    void stepRandomnessDependsOnSeedAndStepOnly() {
        assertEquals(TrainingLoop.stepRandom(5, 17).nextSeed(), TrainingLoop.stepRandom(5, 17).nextSeed());
        assertNotEquals(TrainingLoop.stepRandom(5, 17).nextSeed(), TrainingLoop.stepRandom(5, 18).nextSeed());
        assertNotEquals(TrainingLoop.stepRandom(5, 17).nextSeed(), TrainingLoop.stepRandom(6, 17).nextSeed());
        assertNotEquals(TrainingLoop.initRandom(5).nextSeed(), TrainingLoop.stepRandom(5, 0).nextSeed());
    }

    @Test
    void aLossThatIsNotAScalarIsAnError() {
        Objective vectorLoss = new Quadratic() {
            @Override
            public Tensor loss(Params params, long step, RandomStream rng) {
                return params.get("w").square();
            }
        };
        try (TrainingLoop loop = TrainingLoop.start(vectorLoss, Sgd.of(0.1), 0)) {
            TrainingException e = assertThrows(TrainingException.class, loop::step);
            assertTrue(e.getMessage().contains("one-element"), e.getMessage());
        }
    }

    /**
     * Native memory stays flat: every array the kernels hand out is recorded, and the number still
     * open after 5 steps equals the number after 65 (Adam state, parameters and the objective's
     * anchor snapshot are replaced, never accumulated).
     */
    @Test
    void liveArraysStayFlatOverManySteps() {
        List<ReferenceArray> created = new ArrayList<>();
        Engine counting = Engine.of(countingBackend(new ReferenceBackend(), created), DType.FLOAT64);
        Objective objective = new TestExperiments.LinearExperiment(3, 8, 4, 0.1)
                .build(new BuildContext(counting, TestExperiments.registry(), java.nio.file.Path.of("."), 0));
        long afterWarmup;
        long afterMany;
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.01), 3)) {
            for (int i = 0; i < 5; i++) {
                loop.step();
            }
            loop.evaluate();
            afterWarmup = open(created);
            for (int i = 0; i < 60; i++) {
                loop.step();
            }
            loop.evaluate();
            afterMany = open(created);
            assertTrue(created.size() > 1000, "the proxy saw the arrays: " + created.size());
        }
        assertEquals(afterWarmup, afterMany, "open arrays after 5 vs 65 steps");
        // closing the loop frees parameters and optimizer state; the anchor belongs to the objective
        ((TestExperiments.LinearObjective) objective).loadState(Params.empty());
        assertEquals(0, open(created), "arrays left open after everything was closed");
    }

    private static long open(List<ReferenceArray> arrays) {
        return arrays.stream().filter(a -> !a.isClosed()).count();
    }

    /** The reference backend with kernels that record every array they return. */
    static Backend countingBackend(ReferenceBackend delegate, List<ReferenceArray> created) {
        Kernels real = delegate.kernels();
        Kernels proxy = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (p, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (result instanceof NativeArray a) {
                        created.add((ReferenceArray) a);
                    } else if (result instanceof TopK t) {
                        created.add((ReferenceArray) t.values());
                        created.add((ReferenceArray) t.indices());
                    } else if (result instanceof AdamResult r) {
                        created.add((ReferenceArray) r.param());
                        created.add((ReferenceArray) r.m());
                        created.add((ReferenceArray) r.v());
                    } else if (result instanceof List<?> results) {
                        // adamUpdateForeach/sgdUpdateForeach: the default ran inside the delegate, unseen; record its results
                        for (Object o : results) {
                            if (o instanceof AdamResult r) {
                                created.add((ReferenceArray) r.param());
                                created.add((ReferenceArray) r.m());
                                created.add((ReferenceArray) r.v());
                            } else if (o instanceof dev.metaforge.spi.SgdResult r) {
                                created.add((ReferenceArray) r.param());
                                if (r.buffer() != null) {
                                    created.add((ReferenceArray) r.buffer());
                                }
                            }
                        }
                    }
                    return result;
                });
        return new Backend() {
            @Override
            public String name() {
                return delegate.name();
            }

            @Override
            public String version() {
                return delegate.version();
            }

            @Override
            public List<Device> devices() {
                return delegate.devices();
            }

            @Override
            public Device device() {
                return delegate.device();
            }

            @Override
            public Set<Capability> capabilities() {
                return delegate.capabilities();
            }

            @Override
            public Kernels kernels() {
                return proxy;
            }

            @Override
            public void close() {
                delegate.close();
            }
        };
    }

    @Test
    void resumeCopiesTheParameters() {
        Quadratic q = new Quadratic();
        Params given;
        try (var scope = dev.metaforge.api.tensor.Scope.open()) {
            given = Params.of(Map.of("w", engine.tensor(new double[] {1, 2, 3}, 3)));
            try (TrainingLoop loop = TrainingLoop.resume(q, Sgd.of(0.1), 0, given, 7)) {
                assertEquals(7, loop.completedSteps());
                loop.step();
                assertEquals(8, loop.completedSteps());
            }
            assertArrayEquals(new double[] {1, 2, 3}, given.get("w").toDoubles(), "the caller's tensors stay valid");
        }
    }
}
