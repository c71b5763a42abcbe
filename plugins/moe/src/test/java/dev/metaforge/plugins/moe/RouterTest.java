package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.Routing;
import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.tensor.TopKResult;
import dev.metaforge.spi.Shape;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Auxiliary losses against closed forms, and each router's defining property against a float64 reference. */
class RouterTest {
    private static final int E = 4;

    /** Tokens e_t (d = E) and a circulant gate: token t prefers expert t, then t+1: balanced for k = 1 and 2. */
    private static Params circulant(Engine engine, double strength) {
        double[] w = new double[E * E];
        for (int t = 0; t < E; t++) {
            w[t * E + t] = strength;
            w[t * E + (t + 1) % E] = strength / 2;
        }
        return Params.of(Map.of("weight", engine.tensor(w, E, E)));
    }

    private static Tensor identityTokens(Engine engine, int copies) {
        double[] x = new double[copies * E * E];
        for (int c = 0; c < copies; c++) {
            for (int t = 0; t < E; t++) {
                x[(c * E + t) * E + t] = 1;
            }
        }
        return engine.tensor(x, copies * E, E);
    }

    @Test
    void balancedRoutingGivesExactlyAlpha() {
        Engine engine = MoeFixtures.engine();
        for (int k : new int[] {1, 2}) {
            try (Scope s = Scope.open()) {
                Router router = new SoftmaxTopKRouter(E, E, k, true, 0, 0.01, 0, "topk");
                RoutingPlan plan = router.route(circulant(engine, 3.0), identityTokens(engine, 3), ModuleCall.eval(Params.empty()));
                double[] load = plan.load().toDoubles();
                assertArrayEquals(new double[] {0.25, 0.25, 0.25, 0.25}, load, 1e-15, "the routing is balanced");
                assertEquals(0.01, plan.losses().get(Routing.BALANCE_LOSS).item(), 1e-15, "α · E · Σ fᵢPᵢ = α when balanced");
            }
        }
    }

    @Test
    void balanceLossMatchesItsFormulaWhenImbalanced() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Router router = new SoftmaxTopKRouter(3, E, 2, true, 0, 0.5, 0, "topk");
            Params p = router.init(engine, RandomStream.of(9));
            Tensor x = MoeFixtures.randomTokens(engine, 17, 3, 2);
            RoutingPlan plan = router.route(p, x, ModuleCall.eval(Params.empty()));
            double[][] prob = MoeFixtures.softmaxLogits(x.toDoubles(), p.get("weight").toDoubles(), 17, 3, E);
            double[] f = new double[E];
            double[] mean = new double[E];
            for (double[] row : prob) {
                for (int e : MoeFixtures.topK(row, 2)) {
                    f[e] += 1.0 / (17 * 2);
                }
                for (int e = 0; e < E; e++) {
                    mean[e] += row[e] / 17;
                }
            }
            double expected = 0;
            for (int e = 0; e < E; e++) {
                expected += f[e] * mean[e];
            }
            expected *= 0.5 * E;
            assertEquals(expected, plan.losses().get(Routing.BALANCE_LOSS).item(), 1e-14);
        }
    }

    @Test
    void zLossOfZeroLogitsIsBetaLnESquared() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Router router = new SoftmaxTopKRouter(3, E, 1, false, 1.25, 0, 0.001, "switch");
            Params p = Params.of(Map.of("weight", engine.zeros(3, E)));
            RoutingPlan plan = router.route(p, MoeFixtures.randomTokens(engine, 5, 3, 1), ModuleCall.eval(Params.empty()));
            assertEquals(0.001 * Math.log(E) * Math.log(E), plan.losses().get(Routing.Z_LOSS).item(), 1e-16);
        }
    }

    @Test
    void switchDropsOverflowWithWeightZeroAndKeepsTheTopProbability() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            // Every token prefers expert 0: capacity ceil(1.0 · 8 / 4) = 2, so 6 of 8 are dropped.
            double[] w = new double[2 * E];
            w[0] = 5;
            Router router = new SoftmaxTopKRouter(2, E, 1, false, 1.0, 0.01, 0, "switch");
            Tensor x = engine.full(Shape.of(8, 2), 1.0, engine.defaultDType());
            RoutingPlan plan = router.route(Params.of(Map.of("weight", engine.tensor(w, 2, E))), x, ModuleCall.eval(Params.empty()));
            assertEquals(2, plan.capacity());
            assertArrayEquals(new double[] {1, 1, 0, 0, 0, 0, 0, 0}, plan.kept().toDoubles());
            double top = Math.exp(5) / (Math.exp(5) + 3);
            assertArrayEquals(new double[] {top, top, 0, 0, 0, 0, 0, 0}, plan.weight().toDoubles(), 1e-15);
            assertEquals(0.75, plan.statistics().get(Routing.DROP_RATE).item(), 1e-15);
            assertEquals(0.01 * E * top, plan.losses().get(Routing.BALANCE_LOSS).item(), 1e-15,
                    "f = (1, 0, 0, 0): the loss is α · E · P₀");
        }
    }

    @Test
    void noisyTopKLoadEstimatorIsTheProbabilityOfStayingInTheTopK() {
        // Shazeer et al. 2017, appendix A: P(x, i) = Φ((clean_i − kth_excluding(H, k, i)) / scale_i) is the
        // probability that expert i is in x's top k when only its own noise is drawn again. Checked against a
        // float64 Monte-Carlo estimate of exactly that event.
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            int n = 6;
            int k = 2;
            NoisyTopKRouter router = new NoisyTopKRouter(3, E, k, 0, 0, 1.0, 0.01);
            Params p = Params.of(Map.of("weight", MoeFixtures.randomTokens(engine, 3, E, 4),
                    "noise_weight", MoeFixtures.randomTokens(engine, 3, E, 5)));
            Tensor x = MoeFixtures.randomTokens(engine, n, 3, 6);
            Tensor clean = Routing.logits(x, p.get("weight"));
            Tensor scale = router.noiseScale(p, x);
            Tensor noisy = clean.add(engine.normal(Shape.of(n, E), 0, 1, 77).mul(scale));
            TopKResult top = noisy.topK(k + 1, -1);
            double[] smooth = router.smoothLoad(clean, noisy, scale, top).toDoubles();
            double[] c = clean.toDoubles();
            double[] sc = scale.toDoubles();
            double[] h = noisy.toDoubles();
            SplittableRandom random = new SplittableRandom(1);
            int draws = 200_000;
            double[] estimate = new double[E];
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < E; i++) {
                    int inside = 0;
                    for (int r = 0; r < draws; r++) {
                        double u1 = 1.0 - random.nextDouble();
                        double g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random.nextDouble());
                        double hi = c[t * E + i] + g * sc[t * E + i];
                        int above = 0;
                        for (int j = 0; j < E; j++) {
                            if (j != i && h[t * E + j] > hi) {
                                above++;
                            }
                        }
                        if (above < k) {
                            inside++;
                        }
                    }
                    estimate[i] += inside / (double) draws;
                }
            }
            for (int i = 0; i < E; i++) {
                assertEquals(estimate[i], smooth[i], 0.01, "smooth load of expert " + i);
            }
        }
    }

    @Test
    void noisyTopKDrawsNoiseOnlyInTraining() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            NoisyTopKRouter router = new NoisyTopKRouter(3, E, 2, 0, 0.1, 0.1, 0.01);
            Params p = Params.of(Map.of("weight", MoeFixtures.randomTokens(engine, 3, E, 4),
                    "noise_weight", MoeFixtures.randomTokens(engine, 3, E, 5)));
            Tensor x = MoeFixtures.randomTokens(engine, 40, 3, 6);
            RoutingPlan eval1 = router.route(p, x, ModuleCall.eval(Params.empty()));
            RoutingPlan eval2 = router.route(p, x, ModuleCall.eval(Params.empty()));
            assertArrayEquals(eval1.weight().toDoubles(), eval2.weight().toDoubles());
            RoutingPlan train = router.route(p, x, ModuleCall.train(Params.empty(), RandomStream.of(1)));
            assertTrue(MoeFixtures.maxAbsDiff(eval1.weight().toDoubles(), train.weight().toDoubles()) > 1e-3,
                    "training adds noise to the gate logits");
            assertTrue(train.losses().containsKey(NoisyTopKRouter.IMPORTANCE_LOSS));
            assertTrue(train.losses().containsKey(NoisyTopKRouter.LOAD_LOSS));
            double[] g = train.weightsPerToken().toDoubles();
            for (int t = 0; t < 40; t++) {
                assertEquals(1.0, g[2 * t] + g[2 * t + 1], 1e-12, "softmax over the kept noisy logits");
            }
        }
    }

    @Test
    void auxFreeGatesIgnoreTheBias() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            AuxFreeRouter router = new AuxFreeRouter(3, E, 2, 0.001, 0, 0);
            Params p = router.init(engine, RandomStream.of(2));
            Tensor x = MoeFixtures.randomTokens(engine, 30, 3, 3);
            Params zero = Params.of(Map.of("bias", engine.zeros(E)));
            Params shifted = Params.of(Map.of("bias", engine.tensor(new double[] {0.3, -0.2, 0.05, 0.0}, E)));
            RoutingPlan a = router.route(p, x, ModuleCall.eval(zero));
            RoutingPlan b = router.route(p, x, ModuleCall.eval(shifted));
            // The bias changes which experts are chosen, never the gate of a chosen expert:
            // g = sigmoid(x W)_e / Σ over the chosen, in float64 Java.
            double[] w = p.get("weight").toDoubles();
            double[] xs = x.toDoubles();
            for (RoutingPlan plan : new RoutingPlan[] {a, b}) {
                long[] experts = plan.expert().toLongs();
                double[] gates = plan.weight().toDoubles();
                for (int t = 0; t < 30; t++) {
                    double[] sig = new double[2];
                    for (int j = 0; j < 2; j++) {
                        double l = 0;
                        for (int i = 0; i < 3; i++) {
                            l += xs[t * 3 + i] * w[i * E + (int) experts[t * 2 + j]];
                        }
                        sig[j] = 1 / (1 + Math.exp(-l));
                    }
                    for (int j = 0; j < 2; j++) {
                        assertEquals(sig[j] / (sig[0] + sig[1]), gates[t * 2 + j], 1e-15);
                    }
                }
            }
            assertTrue(MoeFixtures.maxAbsDiff(a.expert().toLongs().length == 0 ? new double[0] : toDouble(a.expert().toLongs()),
                    toDouble(b.expert().toLongs())) > 0, "the bias does change the selection here");
        }
    }

    private static double[] toDouble(long[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    @Test
    void auxFreeBiasMovesBySignOfLoadError() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            AuxFreeRouter router = new AuxFreeRouter(3, E, 1, 0.01, 0, 0);
            Params p = router.init(engine, RandomStream.of(5));
            Tensor x = MoeFixtures.randomTokens(engine, 50, 3, 3);
            Params state = Params.of(Map.of("bias", engine.tensor(new double[] {0.1, 0, 0, -0.1}, E)));
            RoutingPlan plan = router.route(p, x, ModuleCall.train(state, RandomStream.of(1)));
            double[] load = plan.load().toDoubles();
            double[] next = plan.state().get("bias").toDoubles();
            double[] before = {0.1, 0, 0, -0.1};
            for (int e = 0; e < E; e++) {
                double expected = before[e] + 0.01 * Math.signum(0.25 - load[e]);
                assertEquals(expected, next[e], 1e-15, "expert " + e + " with load " + load[e]);
            }
            RoutingPlan eval = router.route(p, x, ModuleCall.eval(state));
            assertArrayEquals(before, eval.state().get("bias").toDoubles(), "evaluation leaves the state alone");
        }
    }

    @Test
    void auxFreeBalancesWithoutAuxiliaryLoss() {
        // A router whose gate strongly prefers expert 0; only the bias state moves (no gradient step):
        // the maximal load violation, averaged over the last 100 calls (the sign update oscillates by
        // design), must fall from far above 1 to below 0.25.
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            int d = 3;
            AuxFreeRouter router = new AuxFreeRouter(d, E, 1, 0.003, 0, 0);
            double[] w = new double[d * E];
            SplittableRandom r = new SplittableRandom(3);
            for (int i = 0; i < w.length; i++) {
                w[i] = r.nextDouble() - 0.5 + (i % E == 0 ? 1.0 : 0);
            }
            Params p = Params.of(Map.of("weight", engine.tensor(w, d, E)));
            Tensor x = MoeFixtures.randomTokens(engine, 256, d, 4).abs();
            Params state = Params.of(Map.of("bias", engine.zeros(E)));
            double first = Double.NaN;
            double last = 0;
            int steps = 600;
            for (int step = 0; step < steps; step++) {
                RoutingPlan plan = router.route(p, x, ModuleCall.train(state, RandomStream.of(step)));
                double violation = plan.statistics().get(AuxFreeRouter.MAX_VIOLATION).item();
                if (step == 0) {
                    first = violation;
                }
                if (step >= steps - 100) {
                    last += violation / 100;
                }
                state = plan.state();
            }
            assertTrue(first > 1.0, "the router starts imbalanced: MaxVio " + first);
            assertTrue(last < 0.25, "the bias balanced the load: MaxVio " + first + " -> " + last);
        }
    }

    @Test
    void auxFreeStateTravelsThroughTheLayer() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            MixtureOfExperts moe = MoeFixtures.layer(new AuxFreeRouter(3, E, 2, 0.001, 0, 0), 4);
            assertEquals("router.bias", moe.stateSpecs().get(0).name());
            Params p = moe.init(engine, RandomStream.of(1));
            Params state = moe.initState(engine, 0);
            ModuleOutput out = moe.forward(p, MoeFixtures.randomTokens(engine, 12, 3, 2), ModuleCall.train(state, RandomStream.of(0)));
            assertEquals(java.util.List.of("router.bias"), out.state().names());
            assertTrue(out.metrics().containsKey(AuxFreeRouter.MAX_VIOLATION));
        }
    }
}
