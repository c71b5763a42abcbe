package dev.metaforge.plugins.moe;

import static dev.metaforge.plugins.moe.MoeFixtures.expertMlp;
import static dev.metaforge.plugins.moe.MoeFixtures.maxAbsDiff;
import static dev.metaforge.plugins.moe.MoeFixtures.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.ModuleStructure;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The layer's output against an independent float64 reference: the routing recomputed in plain Java
 * from the parameters (softmax, top-k, GShard choice-major capacity), then
 * {@code y[n] = Σ_j kept · gate · expert_{e_j}(x[n])} with each expert evaluated on its own.
 */
class MoeLayerTest {
    private static final int D = 6;
    private static final int H = 5;
    private static final int E = 4;

    @Test
    void capacityPlanAndOutputMatchTheFloat64Reference() {
        Engine engine = MoeFixtures.engine();
        for (double factor : new double[] {0.5, 1.0, 1.25, 3.0}) {
            try (Scope s = Scope.open()) {
                int n = 23;
                int k = 2;
                Router router = new SoftmaxTopKRouter(D, E, k, true, factor, 0.01, 0, "topk");
                check(engine, router, n, k, factor, true, 0);
            }
        }
    }

    @Test
    void droplessEqualsTheDenseMaskedReferenceForEveryBlockSize() {
        Engine engine = MoeFixtures.engine();
        for (int block : new int[] {0, 1, 3, 4, 16, 64}) {
            for (int k : new int[] {1, 2, 4}) {
                try (Scope s = Scope.open()) {
                    Router router = new SoftmaxTopKRouter(D, E, k, k > 1, 0, 0.01, 0, "dropless");
                    check(engine, router, 37, k, 0, k > 1, block);
                }
            }
        }
    }

    /** Routing and output recomputed in Java for a softmax top-k router; exact plan, output to 1e-12. */
    private static void check(Engine engine, Router router, int n, int k, double factor, boolean normalize, int block) {
        MixtureOfExperts moe = new MixtureOfExperts(router, Mlp.of(List.of(D, H, D), Activation.RELU), E, null, block);
        Params p = moe.init(engine, RandomStream.of(3 + block));
        Tensor x = MoeFixtures.randomTokens(engine, n, D, 11 + k);
        RoutingPlan plan = moe.route(p, x, ModuleCall.eval(Params.empty()));
        Tensor y = moe.forward(p, x, ModuleCall.eval(Params.empty())).output();

        double[] xs = x.toDoubles();
        double[][] prob = MoeFixtures.softmaxLogits(xs, p.get("router.weight").toDoubles(), n, D, E);
        int capacity = factor > 0 ? (int) Math.min(n, Math.max(1, Math.ceil(factor * n * k / E - 1e-9))) : Integer.MAX_VALUE;
        int[][] top = new int[n][];
        for (int t = 0; t < n; t++) {
            top[t] = MoeFixtures.topK(prob[t], k);
        }
        long[] expectedExpert = new long[n * k];
        long[] expectedSlot = new long[n * k];
        double[] expectedKept = new double[n * k];
        int[] used = new int[E];
        // choice-major priority with a capacity, token order without one
        for (int pass = 0; pass < (factor > 0 ? k : 1); pass++) {
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < k; j++) {
                    if (factor > 0 && j != pass) {
                        continue;
                    }
                    int e = top[t][j];
                    expectedExpert[t * k + j] = e;
                    expectedSlot[t * k + j] = used[e]++;
                    expectedKept[t * k + j] = expectedSlot[t * k + j] < capacity ? 1 : 0;
                }
            }
        }
        assertArrayEquals(expectedExpert, plan.expert().toLongs(), "experts of each assignment");
        assertArrayEquals(expectedSlot, plan.slot().toLongs(), "slots (ranks within each expert, priority order)");
        assertArrayEquals(expectedKept, plan.kept().toDoubles(), "kept flags");

        Params experts = p.scoped(MixtureOfExperts.EXPERTS);
        double[] expected = new double[n * D];
        for (int t = 0; t < n; t++) {
            double norm = 0;
            for (int j = 0; j < k; j++) {
                norm += prob[t][top[t][j]];
            }
            for (int j = 0; j < k; j++) {
                if (expectedKept[t * k + j] == 0) {
                    continue;
                }
                double gate = prob[t][top[t][j]] / (normalize ? norm : 1);
                double[] out = expertMlp(experts, top[t][j], row(xs, t, D), Activation.RELU);
                for (int i = 0; i < D; i++) {
                    expected[t * D + i] += gate * out[i];
                }
            }
        }
        double diff = maxAbsDiff(expected, y.toDoubles());
        assertTrue(diff < 1e-12, "factor " + factor + " k " + k + " block " + block + ": max |y - reference| = " + diff);
    }

    @Test
    void expertChoiceTakesExactlyCTokensPerExpertAndMatchesTheReference() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            int n = 20;
            ExpertChoiceRouter router = new ExpertChoiceRouter(D, E, 2.0, 0);
            MixtureOfExperts moe = MoeFixtures.layer(router, H);
            Params p = moe.init(engine, RandomStream.of(5));
            Tensor x = MoeFixtures.randomTokens(engine, n, D, 8);
            RoutingPlan plan = moe.route(p, x, ModuleCall.eval(Params.empty()));
            int c = 10; // 2 * 20 / 4
            assertEquals(c, plan.capacity());
            long[] experts = plan.expert().toLongs();
            int[] count = new int[E];
            for (long e : experts) {
                count[(int) e]++;
            }
            assertArrayEquals(new int[] {c, c, c, c}, count, "every expert processes exactly c·n/E tokens");
            double[] xs = x.toDoubles();
            double[][] prob = MoeFixtures.softmaxLogits(xs, p.get("router.weight").toDoubles(), n, D, E);
            double[] expected = new double[n * D];
            Params ex = p.scoped(MixtureOfExperts.EXPERTS);
            for (int e = 0; e < E; e++) {
                double[] column = new double[n];
                for (int t = 0; t < n; t++) {
                    column[t] = prob[t][e];
                }
                for (int t : MoeFixtures.topK(column, c)) {
                    double[] out = expertMlp(ex, e, row(xs, t, D), Activation.RELU);
                    for (int i = 0; i < D; i++) {
                        expected[t * D + i] += prob[t][e] * out[i];
                    }
                }
            }
            double diff = maxAbsDiff(expected, moe.apply(p, x).toDoubles());
            assertTrue(diff < 1e-12, "max |y - reference| = " + diff);
        }
    }

    @Test
    void theExpertsAreOneWeightBatchThatEqualsEachExpertRunAlone() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Mlp expert = Mlp.of(List.of(D, H, D), Activation.TANH);
            MixtureOfExperts moe = MixtureOfExperts.of(new SoftmaxTopKRouter(D, E, 2, true, 0, 0, 0, "topk"), expert);
            Params p = moe.init(engine, RandomStream.of(2));
            Tensor buffer = MoeFixtures.randomTokens(engine, E * 3, D, 4).reshape(E, 3, D);
            Params batch = p.scoped(MixtureOfExperts.EXPERTS);
            double[] batched = expert.apply(batch, buffer).toDoubles();
            List<Double> alone = new ArrayList<>();
            for (int e = 0; e < E; e++) {
                int at = e;
                Params one = batch.map(t -> t.slice(0, at, at + 1).squeeze(0));
                for (double v : expert.apply(one, buffer.slice(0, e, e + 1).squeeze(0)).toDoubles()) {
                    alone.add(v);
                }
            }
            assertArrayEquals(alone.stream().mapToDouble(Double::doubleValue).toArray(), batched, 1e-14);
        }
    }

    @Test
    void insideSequentialTheAuxiliaryValuesCarryTheLayersName() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            MixtureOfExperts moe = MoeFixtures.layer(new SoftmaxTopKRouter(D, E, 2, true, 1.25, 0.01, 0.001, "topk"), H);
            Sequential net = Sequential.of(Linear.of(3, D), moe, Linear.of(D, 2));
            Params p = net.init(engine, RandomStream.of(1));
            Tensor x = MoeFixtures.randomTokens(engine, 9, 3, 2);
            ModuleOutput out = net.forward(p, x, ModuleCall.train(net.initState(engine, 0), RandomStream.of(3)));
            assertEquals(List.of(9, 2), List.of(out.output().dim(0), out.output().dim(1)));
            assertTrue(out.losses().containsKey("1.balance_loss"), out.losses().keySet().toString());
            assertTrue(out.losses().containsKey("1.z_loss"), out.losses().keySet().toString());
            for (int e = 0; e < E; e++) {
                assertTrue(out.metrics().containsKey("1.expert_load." + e), out.metrics().keySet().toString());
            }
            assertTrue(out.metrics().containsKey("1.drop_rate"));
            double total = 0;
            for (int e = 0; e < E; e++) {
                total += out.metrics().get("1.expert_load." + e).item();
            }
            assertEquals(1.0, total, 1e-12, "the loads are fractions of all assignments");
            // apply() is forward in eval mode without the auxiliary values
            assertArrayEquals(net.apply(p, x).toDoubles(), out.output().toDoubles(), 1e-15);
        }
    }

    @Test
    void theStructureShowsRouterExpertsAndCombine() {
        MixtureOfExperts moe = new MixtureOfExperts(new SoftmaxTopKRouter(D, E, 2, true, 1.25, 0.01, 0, "topk"),
                Mlp.of(List.of(D, H, D), Activation.RELU), E, Linear.of(D, D), 0);
        ModuleStructure st = moe.structure();
        List<String> kinds = st.layers().stream().map(LayerInfo::kind).toList();
        assertEquals(List.of("router", "linear", "activation", "linear", "activation", "linear", "moe"), kinds);
        LayerInfo router = st.layers().get(0);
        assertEquals("router.weight", router.param("weight"));
        assertEquals("topk", router.attribute("router"));
        assertEquals(E, st.group(router.output()).size());
        LayerInfo combine = st.layers().get(st.layers().size() - 1);
        assertEquals("4", combine.attribute("experts"));
        assertEquals("2", combine.attribute("k"));
        assertEquals("mlp", combine.attribute("expertKind"));
        assertEquals(D, st.group(st.output()).size());
        assertEquals(List.of(E, D, H), List.of(moe.parameters().get(1).shape().dims()[0], moe.parameters().get(1).shape().dims()[1],
                moe.parameters().get(1).shape().dims()[2]));
    }

    @Test
    void aWeightBatchOfLayersEqualsEachLayerAlone() {
        // As a hypernetwork target: router and expert weights generated per network (leading B), biases shared.
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            MixtureOfExperts moe = MoeFixtures.layer(new SoftmaxTopKRouter(D, E, 2, true, 1.0, 0.01, 0, "topk"), H);
            Params a = moe.init(engine, RandomStream.of(1));
            Params b = moe.init(engine, RandomStream.of(2));
            Params batched = a.mapNamed((name, t) -> name.endsWith("weight")
                    ? Tensor.stack(List.of(t, b.get(name)), 0) : t);
            Params second = b.mapNamed((name, t) -> name.endsWith("weight") ? t : a.get(name));
            Tensor x = MoeFixtures.randomTokens(engine, 10, D, 3);
            Tensor y = moe.apply(batched, x);
            assertEquals(List.of(2, 10, D), List.of(y.dim(0), y.dim(1), y.dim(2)));
            assertArrayEquals(moe.apply(a, x).toDoubles(), y.slice(0, 0, 1).toDoubles(), 1e-15);
            assertArrayEquals(moe.apply(second, x).toDoubles(), y.slice(0, 1, 2).toDoubles(), 1e-15);
        }
    }

    @Test
    void sharedExpertIsAddedForEveryToken() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Router router = new SoftmaxTopKRouter(D, E, 1, false, 0, 0, 0, "topk");
            Mlp expert = Mlp.of(List.of(D, H, D), Activation.RELU);
            MixtureOfExperts plain = new MixtureOfExperts(router, expert, E, null, 0);
            MixtureOfExperts withShared = new MixtureOfExperts(router, expert, E, Linear.of(D, D), 0);
            Params p = withShared.init(engine, RandomStream.of(4));
            Tensor x = MoeFixtures.randomTokens(engine, 7, D, 5);
            Tensor expected = plain.apply(p.filter(n -> !n.startsWith("shared.")), x)
                    .add(Linear.of(D, D).apply(p.scoped("shared"), x));
            assertArrayEquals(expected.toDoubles(), withShared.apply(p, x).toDoubles(), 1e-15);
        }
    }

    @Test
    void tokensOfHigherRankAreRoutedOneByOne() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            MixtureOfExperts moe = MoeFixtures.layer(new SoftmaxTopKRouter(D, E, 2, true, 0, 0, 0, "topk"), H);
            Params p = moe.init(engine, RandomStream.of(6));
            Tensor x = MoeFixtures.randomTokens(engine, 12, D, 7);
            Tensor y3 = moe.apply(p, x.reshape(3, 4, D));
            assertEquals(List.of(3, 4, D), List.of(y3.dim(0), y3.dim(1), y3.dim(2)));
            assertArrayEquals(moe.apply(p, x).toDoubles(), y3.toDoubles(), 1e-15);
        }
    }
}
