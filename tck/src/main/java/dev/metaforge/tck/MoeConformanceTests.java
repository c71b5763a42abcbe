package dev.metaforge.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.Shape;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/**
 * MOE-*: mixture-of-experts layers built from their JSON specs (every router type name of the
 * {@code moe} plugin) and run on the backend under test. The oracle is plain float64 Java written
 * here, independently of the layer: softmax routing, top-k with ties to the lower index, GShard
 * capacity in choice-major priority, each expert evaluated on its own, {@code y = Σ kept · gate ·
 * expert(x)}; gradients against central finite differences; auxiliary losses against closed forms.
 *
 * <p>Rules: plan invariants (MOE-PLAN-1) and agreement with the reference backend (MOE-PLAN-2);
 * the load-balancing loss equals α for balanced routing (MOE-AUX-1) and the z-loss equals
 * β (ln E)² for zero logits (MOE-AUX-2); the dropless layer equals the dense masked float64
 * reference for every block size (MOE-DROPLESS-1) and the capacity layer the masked reference with
 * GShard drops (MOE-CAPACITY-1); expert choice gives every expert exactly ⌈c·n/E⌉ tokens
 * (MOE-EC-1); the E experts as one weight batch equal each expert run alone (MOE-WEIGHTBATCH-1);
 * gradients through router and experts match finite differences (MOE-GRAD-1, FLOAT64) and the
 * reference backend's (MOE-GRAD-2); a training step copies nothing to the host (MOE-HOST-1); the
 * moe-classification experiment's loss and gradient agree with the reference backend (MOE-MODEL-1).
 */
@ExtendWith(TckExtension.class)
class MoeConformanceTests {
    private static final int D = 6;
    private static final int H = 5;
    private static final int E = 4;
    private static final String EXPERT = "{\"type\":\"mlp\",\"sizes\":[" + D + "," + H + "," + D + "],\"activation\":\"relu\"}";

    /** Token-choice routers, by name; JSON of the "router" field. */
    static final Map<String, String> TOKEN_CHOICE = tokenChoice();

    private static Map<String, String> tokenChoice() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("topk k=2 capacity 1.0", "{\"type\":\"topk\",\"k\":2,\"capacityFactor\":1.0,\"zLossWeight\":0.01}");
        m.put("topk k=3 no capacity, not renormalised", "{\"type\":\"topk\",\"k\":3,\"normalize\":false}");
        m.put("switch capacity 1.25", "{\"type\":\"switch\"}");
        m.put("switch capacity 0.5", "{\"type\":\"switch\",\"capacityFactor\":0.5}");
        m.put("dropless k=2", "{\"type\":\"dropless\",\"k\":2}");
        m.put("noisy-topk k=2", "{\"type\":\"noisy-topk\",\"k\":2}");
        m.put("aux-free k=2", "{\"type\":\"aux-free\",\"k\":2,\"balanceWeight\":0.01}");
        return m;
    }

    /** Every router, for the gradient and host-copy rules. */
    static Map<String, String> allRouters() {
        Map<String, String> m = new LinkedHashMap<>(TOKEN_CHOICE);
        m.put("expert-choice c=2", "{\"type\":\"expert-choice\",\"capacityFactor\":2,\"zLossWeight\":0.01}");
        return m;
    }

    private static MixtureOfExperts layer(SpecRegistry specs, String router, int blockSize) {
        String json = "{\"type\":\"moe\",\"width\":" + D + ",\"experts\":" + E + ",\"expert\":" + EXPERT + ",\"router\":" + router
                + ",\"blockSize\":" + blockSize + "}";
        Module m = specs.read(json, ModuleSpec.class, "TCK moe spec").build();
        if (!(m instanceof MixtureOfExperts moe)) {
            throw new AssertionFailedError("type 'moe' built a " + m.kind() + ", not a MixtureOfExperts");
        }
        return moe;
    }

    // ---- MOE-PLAN -------------------------------------------------------------------------------

    @TckRule(id = "MOE-PLAN-1")
    @DisplayName("MOE-PLAN-1 token-choice plans: distinct slots per expert, kept exactly when slot < capacity, no expert over capacity, dropped assignments weigh 0")
    @TestFactory
    Stream<DynamicTest> planInvariants(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        return TOKEN_CHOICE.entrySet().stream().map(c -> dynamicTest(c.getKey(), () -> {
            try (Scope s = Scope.open()) {
                MixtureOfExperts moe = layer(specs, c.getValue(), 0);
                Params p = moe.init(engine, RandomStream.of(3));
                Tensor x = tokens(engine, 29, 5);
                for (ModuleCall call : List.of(ModuleCall.eval(moe.initState(engine, 0)),
                        ModuleCall.train(moe.initState(engine, 0), RandomStream.of(1)))) {
                    checkInvariants(c.getKey() + " (" + call.mode() + ")", moe.route(p, x, call), c.getValue().contains("\"normalize\":false"));
                }
            }
        }));
    }

    private static void checkInvariants(String what, RoutingPlan plan, boolean unnormalised) {
        int n = plan.tokens();
        int k = plan.k();
        long[] expert = plan.expert().toLongs();
        long[] slot = plan.slot().toLongs();
        long[] token = plan.token().toLongs();
        double[] kept = plan.kept().toDoubles();
        double[] weight = plan.weight().toDoubles();
        int capacity = plan.capacity() == 0 ? Integer.MAX_VALUE : plan.capacity();
        List<Set<Long>> slots = new ArrayList<>();
        int[] keptPerExpert = new int[plan.experts()];
        for (int e = 0; e < plan.experts(); e++) {
            slots.add(new java.util.HashSet<>());
        }
        for (int a = 0; a < expert.length; a++) {
            int e = (int) expert[a];
            if (e < 0 || e >= plan.experts() || token[a] != a / k) {
                throw new AssertionFailedError(what + ": assignment " + a + " has expert " + e + " and token " + token[a]);
            }
            if (!slots.get(e).add(slot[a])) {
                throw new AssertionFailedError(what + ": slot " + slot[a] + " of expert " + e + " is given twice");
            }
            boolean shouldKeep = slot[a] < capacity;
            if ((kept[a] == 1) != shouldKeep || (kept[a] != 0 && kept[a] != 1)) {
                throw new AssertionFailedError(what + ": assignment " + a + " has slot " + slot[a] + ", capacity "
                        + plan.capacity() + ", kept " + kept[a]);
            }
            if (kept[a] == 0 && weight[a] != 0) {
                throw new AssertionFailedError(what + ": dropped assignment " + a + " has weight " + weight[a] + ", not 0");
            }
            if (weight[a] < 0) {
                throw new AssertionFailedError(what + ": negative combine weight " + weight[a]);
            }
            keptPerExpert[e] += kept[a] == 1 ? 1 : 0;
        }
        for (int e = 0; e < plan.experts(); e++) {
            // ranks: the slots of an expert are 0..count-1
            for (long sl = 0; sl < slots.get(e).size(); sl++) {
                if (!slots.get(e).contains(sl)) {
                    throw new AssertionFailedError(what + ": expert " + e + " has slots " + slots.get(e) + ", not 0..count-1");
                }
            }
            if (keptPerExpert[e] > capacity) {
                throw new AssertionFailedError(what + ": expert " + e + " keeps " + keptPerExpert[e] + " > capacity " + capacity);
            }
        }
        if (!unnormalised) {
            for (int t = 0; t < n; t++) {
                double sum = 0;
                boolean dropped = false;
                for (int j = 0; j < k; j++) {
                    sum += weight[t * k + j];
                    dropped |= kept[t * k + j] == 0;
                }
                if (!dropped && k > 1 && Math.abs(sum - 1) > 1e-5) {
                    throw new AssertionFailedError(what + ": the gates of token " + t + " sum to " + sum + ", not 1");
                }
            }
        }
        double[] load = plan.load().toDoubles();
        double total = 0;
        for (double l : load) {
            total += l;
        }
        Compare.assertClose(new double[] {1.0}, new double[] {total}, 1e-6, 1e-6, what + ": the load fractions sum to 1");
    }

    @TckRule(id = "MOE-PLAN-2")
    @DisplayName("MOE-PLAN-2 routing decisions in FLOAT32 (experts, slots, drops) equal the float64 reference backend's; combine weights agree")
    @TestFactory
    Stream<DynamicTest> planAgreesWithReference(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
        return allRouters().entrySet().stream().map(c -> dynamicTest(c.getKey(), () -> {
            try (Scope s = Scope.open()) {
                MixtureOfExperts moe = layer(specs, c.getValue(), 0);
                Params p = moe.init(engine, RandomStream.of(4));
                Params pr = copy(p, reference);
                Tensor x = tokens(engine, 31, 6);
                RoutingPlan actual = moe.route(p, x, ModuleCall.eval(moe.initState(engine, 0)));
                RoutingPlan expected = moe.route(pr, copy(x, reference), ModuleCall.eval(moe.initState(reference, 0)));
                Compare.assertExact(null, expected.expert().toLongs(), null, actual.expert().toLongs(), c.getKey() + ": experts");
                Compare.assertExact(null, expected.token().toLongs(), null, actual.token().toLongs(), c.getKey() + ": tokens");
                Compare.assertExact(null, expected.slot().toLongs(), null, actual.slot().toLongs(), c.getKey() + ": slots");
                Compare.assertClose(expected.kept().toDoubles(), actual.kept().toDoubles(), Tolerance.EXACT, c.getKey() + ": kept");
                Compare.assertClose(expected.weight().toDoubles(), actual.weight().toDoubles(), 1e-4, 1e-6, c.getKey() + ": weights");
            }
        }));
    }

    // ---- MOE-AUX --------------------------------------------------------------------------------

    @TckRule(id = "MOE-AUX-1")
    @DisplayName("MOE-AUX-1 the load-balancing loss α·E·Σ fᵢPᵢ equals α for perfectly balanced routing (k = 1 and 2)")
    @TestFactory
    Stream<DynamicTest> balancedRoutingGivesAlpha(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        return Stream.of(1, 2).map(k -> dynamicTest("k=" + k, () -> {
            try (Scope s = Scope.open()) {
                // tokens e_t of width E, gate c at (t, t) and c/2 at (t, t+1): every expert is first choice of one
                // token and second choice of one, and the mean probabilities are 1/E by symmetry.
                String json = "{\"type\":\"moe\",\"width\":" + E + ",\"experts\":" + E + ",\"expert\":{\"type\":\"mlp\",\"sizes\":["
                        + E + ",3," + E + "]},\"router\":{\"type\":\"topk\",\"k\":" + k + ",\"balanceWeight\":0.25}}";
                MixtureOfExperts moe = (MixtureOfExperts) specs.read(json, ModuleSpec.class, "TCK").build();
                double[] w = new double[E * E];
                double[] x = new double[2 * E * E];
                for (int t = 0; t < E; t++) {
                    w[t * E + t] = 3;
                    w[t * E + (t + 1) % E] = 1.5;
                    x[t * E + t] = 1;
                    x[(E + t) * E + t] = 1;
                }
                Params p = moe.init(engine, RandomStream.of(1)).with("router.weight", engine.tensor(w, E, E));
                RoutingPlan plan = moe.route(p, engine.tensor(x, 2 * E, E), ModuleCall.eval(Params.empty()));
                Compare.assertClose(new double[] {0.25, 0.25, 0.25, 0.25}, plan.load().toDoubles(), Tolerance.FLOAT32, "load");
                Compare.assertClose(new double[] {0.25}, new double[] {plan.losses().get("balance_loss").item()},
                        Tolerance.FLOAT32, "balance loss with α = 0.25");
            }
        }));
    }

    @TckRule(id = "MOE-AUX-2")
    @DisplayName("MOE-AUX-2 the router z-loss β·mean(logsumexp(logits)²) equals β·(ln E)² for all-zero logits")
    @Test
    void zLossOfZeroLogits(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        try (Scope s = Scope.open()) {
            MixtureOfExperts moe = layer(specs, "{\"type\":\"switch\",\"zLossWeight\":0.5}", 0);
            Params p = moe.init(engine, RandomStream.of(1)).with("router.weight", engine.zeros(D, E));
            RoutingPlan plan = moe.route(p, tokens(engine, 9, 2), ModuleCall.eval(Params.empty()));
            double expected = 0.5 * Math.log(E) * Math.log(E);
            Compare.assertClose(new double[] {expected}, new double[] {plan.losses().get("z_loss").item()}, Tolerance.FLOAT32,
                    "z-loss of zero logits");
        }
    }

    // ---- MOE-DROPLESS / MOE-CAPACITY / MOE-EC ------------------------------------------------------

    @TckRule(id = "MOE-DROPLESS-1")
    @DisplayName("MOE-DROPLESS-1 the dropless layer (sort + block-grouped batched experts) equals the dense masked float64 reference Σ gate·expert(x), for every block size")
    @TestFactory
    Stream<DynamicTest> droplessEqualsDenseReference(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        return Stream.of(0, 1, 3, 8, 64).flatMap(block -> Stream.of(1, 2, 4).map(k -> dynamicTest("block " + block + ", k=" + k, () -> {
            try (Scope s = Scope.open()) {
                MixtureOfExperts moe = layer(specs, "{\"type\":\"dropless\",\"k\":" + k + "}", block);
                checkAgainstReference(engine, moe, 37, k, 0, true);
            }
        })));
    }

    @TckRule(id = "MOE-CAPACITY-1")
    @DisplayName("MOE-CAPACITY-1 the capacity layer equals the float64 reference with GShard drops (choice-major priority), dropped tokens contributing 0")
    @TestFactory
    Stream<DynamicTest> capacityEqualsMaskedReference(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        return Stream.of(0.5, 1.0, 1.25, 2.0).flatMap(f -> Stream.of(1, 2).map(k -> dynamicTest("factor " + f + ", k=" + k, () -> {
            try (Scope s = Scope.open()) {
                MixtureOfExperts moe = layer(specs, "{\"type\":\"topk\",\"k\":" + k + ",\"normalize\":" + (k > 1) + ",\"capacityFactor\":"
                        + f + "}", 0);
                checkAgainstReference(engine, moe, 26, k, f, k > 1);
            }
        })));
    }

    /** Routing and output recomputed in float64 Java from host copies of the parameters. */
    private static void checkAgainstReference(Engine engine, MixtureOfExperts moe, int n, int k, double factor, boolean normalize) {
        Params p = moe.init(engine, RandomStream.of(7 + k));
        Tensor x = tokens(engine, n, 8 + k);
        RoutingPlan plan = moe.route(p, x, ModuleCall.eval(Params.empty()));
        double[] y = moe.apply(p, x).toDoubles();
        double[] xs = x.toDoubles();
        double[][] prob = softmax(xs, p.get("router.weight").toDoubles(), n, D, E);
        int capacity = factor > 0 ? (int) Math.min(n, Math.max(1, Math.ceil(factor * n * k / E - 1e-9))) : Integer.MAX_VALUE;
        int[][] top = new int[n][];
        for (int t = 0; t < n; t++) {
            top[t] = topK(prob[t], k);
        }
        boolean[][] kept = new boolean[n][k];
        int[] used = new int[E];
        for (int j = 0; j < k; j++) {
            for (int t = 0; t < n; t++) {
                kept[t][j] = used[top[t][j]]++ < capacity;
            }
        }
        long[] expectedExperts = new long[n * k];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < k; j++) {
                expectedExperts[t * k + j] = top[t][j];
            }
        }
        Compare.assertExact(null, expectedExperts, null, plan.expert().toLongs(), "experts chosen (float64 reference routing)");
        Experts experts = new Experts(p);
        double[] expected = new double[n * D];
        for (int t = 0; t < n; t++) {
            double norm = 0;
            for (int j = 0; j < k; j++) {
                norm += prob[t][top[t][j]];
            }
            for (int j = 0; j < k; j++) {
                if (!kept[t][j]) {
                    continue;
                }
                double gate = prob[t][top[t][j]] / (normalize ? norm : 1);
                double[] out = experts.apply(top[t][j], row(xs, t));
                for (int i = 0; i < D; i++) {
                    expected[t * D + i] += gate * out[i];
                }
            }
        }
        Compare.assertClose(expected, y, 1e-4, 1e-5, "layer output vs the masked float64 reference");
    }

    @TckRule(id = "MOE-EC-1")
    @DisplayName("MOE-EC-1 expert choice: every expert processes exactly ceil(c·n/E) distinct tokens, its highest-affinity ones, and the output matches the float64 reference")
    @TestFactory
    Stream<DynamicTest> expertChoiceLoad(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        return Stream.of(new double[] {1, 24}, new double[] {2, 24}, new double[] {1.5, 20}).map(c -> dynamicTest(
                "c=" + c[0] + ", n=" + (int) c[1], () -> {
                    try (Scope s = Scope.open()) {
                        int n = (int) c[1];
                        MixtureOfExperts moe = layer(specs, "{\"type\":\"expert-choice\",\"capacityFactor\":" + c[0] + "}", 0);
                        Params p = moe.init(engine, RandomStream.of(9));
                        Tensor x = tokens(engine, n, 3);
                        RoutingPlan plan = moe.route(p, x, ModuleCall.eval(Params.empty()));
                        int capacity = (int) Math.ceil(c[0] * n / E);
                        assertEquals(capacity, plan.capacity(), "capacity ceil(c·n/E)");
                        long[] experts = plan.expert().toLongs();
                        long[] tokens = plan.token().toLongs();
                        double[] xs = x.toDoubles();
                        double[][] prob = softmax(xs, p.get("router.weight").toDoubles(), n, D, E);
                        double[] expected = new double[n * D];
                        Experts ex = new Experts(p);
                        for (int e = 0; e < E; e++) {
                            int count = 0;
                            Set<Long> picked = new java.util.HashSet<>();
                            for (int a = 0; a < experts.length; a++) {
                                if (experts[a] == e) {
                                    count++;
                                    picked.add(tokens[a]);
                                }
                            }
                            assertEquals(capacity, count, "expert " + e + " processes exactly ceil(c·n/E) tokens");
                            double[] column = new double[n];
                            for (int t = 0; t < n; t++) {
                                column[t] = prob[t][e];
                            }
                            Set<Long> best = new java.util.HashSet<>();
                            for (int t : topK(column, capacity)) {
                                best.add((long) t);
                                double[] out = ex.apply(e, row(xs, t));
                                for (int i = 0; i < D; i++) {
                                    expected[t * D + i] += prob[t][e] * out[i];
                                }
                            }
                            assertEquals(best, picked, "expert " + e + " takes its highest-affinity tokens");
                        }
                        Compare.assertClose(expected, moe.apply(p, x).toDoubles(), 1e-4, 1e-5, "expert-choice output");
                    }
                }));
    }

    // ---- MOE-WEIGHTBATCH ------------------------------------------------------------------------

    @TckRule(id = "MOE-WEIGHTBATCH-1")
    @DisplayName("MOE-WEIGHTBATCH-1 the E experts run as one weight batch equal each expert run alone with its own parameters")
    @Test
    void expertsAsOneWeightBatch(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        try (Scope s = Scope.open()) {
            MixtureOfExperts moe = layer(specs, "{\"type\":\"topk\"}", 0);
            Params experts = moe.init(engine, RandomStream.of(2)).scoped(MixtureOfExperts.EXPERTS);
            Tensor buffer = tokens(engine, E * 5, 4).reshape(E, 5, D);
            double[] batched = moe.expert().apply(experts, buffer).toDoubles();
            double[] alone = new double[batched.length];
            for (int e = 0; e < E; e++) {
                int at = e;
                Params one = experts.map(t -> t.slice(0, at, at + 1).squeeze(0));
                double[] out = moe.expert().apply(one, buffer.slice(0, e, e + 1).squeeze(0)).toDoubles();
                System.arraycopy(out, 0, alone, e * out.length, out.length);
            }
            Compare.assertClose(alone, batched, Tolerance.FLOAT32.times(10), "batched experts vs one at a time");
        }
    }

    // ---- MOE-GRAD -------------------------------------------------------------------------------

    @TckRule(id = "MOE-GRAD-1", capability = Capability.FLOAT64)
    @DisplayName("MOE-GRAD-1 in FLOAT64, the gradient of Σ y·r + aux losses through router and experts matches central finite differences, every router")
    @TestFactory
    Stream<DynamicTest> gradientMatchesFiniteDifferences(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
        return allRouters().entrySet().stream().map(c -> dynamicTest(c.getKey(), () -> {
            try (Scope s = Scope.open()) {
                MixtureOfExperts moe = layer(specs, c.getValue(), 0);
                Params start = randomized(moe.init(engine, RandomStream.of(5)), engine);
                Tensor x = tokens(engine, 13, 3);
                Tensor r = tokens(engine, 13, 4);
                Params state = moe.initState(engine, 0);
                java.util.function.Function<Params, Tensor> loss = params -> lossOf(moe, params, x, r, state);
                Params direction = direction(start, engine);
                double analytic;
                try (Scope g = Scope.open()) {
                    Params tracked = start.requiringGrad();
                    Params grads = Grad.of(loss.apply(tracked)).wrt(tracked);
                    analytic = dot(grads, direction);
                }
                double h = 1e-6;
                double plus;
                double minus;
                try (Scope g = Scope.open()) {
                    plus = loss.apply(start.zip(direction, (a, d) -> a.add(d.mul(h)))).item();
                    minus = loss.apply(start.zip(direction, (a, d) -> a.sub(d.mul(h)))).item();
                }
                double numeric = (plus - minus) / (2 * h);
                assertTrue(Math.abs(analytic) > 1e-6, c.getKey() + ": the directional derivative is zero; the check proves nothing");
                Compare.assertClose(new double[] {numeric}, new double[] {analytic}, 1e-5, 1e-8,
                        c.getKey() + ": directional derivative along a random direction");
            }
        }));
    }

    @TckRule(id = "MOE-GRAD-2")
    @DisplayName("MOE-GRAD-2 in FLOAT32, the gradient through router and experts agrees with the float64 reference backend's, every router")
    @TestFactory
    Stream<DynamicTest> gradientAgreesWithReference(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
        return allRouters().entrySet().stream().map(c -> dynamicTest(c.getKey(), () -> {
            try (Scope s = Scope.open()) {
                MixtureOfExperts moe = layer(specs, c.getValue(), 0);
                Params start = randomized(moe.init(engine, RandomStream.of(6)), engine);
                Tensor x = tokens(engine, 15, 3);
                Tensor r = tokens(engine, 15, 4);
                // Backends draw different noise from one seed, so the noisy router is compared in eval mode.
                boolean train = !c.getValue().contains("noisy");
                Map<String, double[]> actual = gradient(moe, start, x, r, moe.initState(engine, 0), train);
                Map<String, double[]> expected = gradient(moe, copy(start, reference), copy(x, reference), copy(r, reference),
                        moe.initState(reference, 0), train);
                for (String name : expected.keySet()) {
                    double[] e = expected.get(name);
                    Compare.assertClose(e, actual.get(name), 2e-3, 1e-4 * Math.max(1e-3, Compare.maxAbs(e)), c.getKey() + ": gradient of " + name);
                }
            }
        }));
    }

    private static Tensor lossOf(MixtureOfExperts moe, Params params, Tensor x, Tensor r, Params state) {
        return lossOf(moe, params, x, r, state, true);
    }

    private static Tensor lossOf(MixtureOfExperts moe, Params params, Tensor x, Tensor r, Params state, boolean train) {
        ModuleCall call = train ? ModuleCall.train(state, RandomStream.of(42)) : ModuleCall.eval(state);
        ModuleOutput out = moe.forward(params, x, call);
        Tensor total = out.output().mul(r).sum();
        return out.auxLoss() == null ? total : total.add(out.auxLoss());
    }

    private static Map<String, double[]> gradient(MixtureOfExperts moe, Params at, Tensor x, Tensor r, Params state,
                                                  boolean train) {
        try (Scope s = Scope.open()) {
            Params tracked = at.requiringGrad();
            Params grads = Grad.of(lossOf(moe, tracked, x, r, state, train)).wrt(tracked);
            Map<String, double[]> out = new LinkedHashMap<>();
            for (String n : grads.names()) {
                out.put(n, grads.get(n).toDoubles());
            }
            return out;
        }
    }

    // ---- MOE-HOST -------------------------------------------------------------------------------

    @TckRule(id = "MOE-HOST-1")
    @DisplayName("MOE-HOST-1 a training step through an MoE layer (forward, backward, Adam) calls no toDoubles/toFloats/toLongs on the backend, every router")
    @TestFactory
    Stream<DynamicTest> noHostCopies(TckContext tck) {
        SpecRegistry specs = specs();
        HostCopyCounter copies = new HostCopyCounter(tck.backend());
        Engine engine = Engine.of(copies.backend(), DType.FLOAT32);
        return allRouters().entrySet().stream().map(c -> dynamicTest(c.getKey(), () -> {
            MixtureOfExperts moe = layer(specs, c.getValue(), 0);
            Optimizer adam = Adam.adam(1e-3);
            try (Scope s = Scope.open()) {
                Params params = moe.init(engine, RandomStream.of(1));
                Params state = moe.initState(engine, 0);
                Tensor x = engine.uniform(Shape.of(32, D), -1, 1, 3);
                Tensor target = engine.uniform(Shape.of(32, D), -1, 1, 4);
                copies.reset();
                for (int step = 0; step < 2; step++) {
                    Params tracked = params.requiringGrad();
                    ModuleOutput out = moe.forward(tracked, x, ModuleCall.train(state, RandomStream.of(step)));
                    Tensor loss = out.output().sub(target).square().mean();
                    if (out.auxLoss() != null) {
                        loss = loss.add(out.auxLoss());
                    }
                    params = adam.step(params, Grad.of(loss).wrt(tracked));
                    state = out.state().isEmpty() ? state : out.state().stopGradient();
                }
                assertEquals(0, copies.count(), c.getKey() + ": host copies during two training steps");
                x.sum().item();
                assertEquals(1, copies.count(), "the counting kernels see host copies");
            } finally {
                adam.close();
            }
        }));
    }

    // ---- MOE-MODEL ------------------------------------------------------------------------------

    @TckRule(id = "MOE-MODEL-1")
    @DisplayName("MOE-MODEL-1 the moe-classification experiment's training loss (with auxiliary losses) and gradient in FLOAT32 agree with the float64 reference backend")
    @TestFactory
    Stream<DynamicTest> experimentAgreesWithReference(TckContext tck) {
        SpecRegistry specs = specs();
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
        return Stream.of("{\"type\":\"switch\"}", "{\"type\":\"aux-free\",\"k\":2}", "{\"type\":\"dropless\",\"k\":2}")
                .map(router -> dynamicTest(router, () -> {
                    String json = "{\"type\":\"moe-classification\",\"model\":{\"type\":\"sequential\",\"layers\":["
                            + "{\"type\":\"linear\",\"in\":5,\"out\":6},{\"type\":\"moe\",\"width\":6,\"experts\":3,\"expert\":"
                            + "{\"type\":\"mlp\",\"sizes\":[6,4,6],\"activation\":\"tanh\"},\"router\":" + router + "},"
                            + "{\"type\":\"linear\",\"in\":6,\"out\":3}]},"
                            + "\"clusters\":{\"classes\":3,\"features\":5,\"modes\":2,\"train\":40,\"test\":10},\"batch\":12}";
                    try (Scope s = Scope.open()) {
                        ExperimentSpec spec = specs.read(json, ExperimentSpec.class, "TCK moe experiment");
                        Objective actual = spec.build(new BuildContext(engine, specs, Path.of("."), 1));
                        Objective expected = spec.build(new BuildContext(reference, specs, Path.of("."), 1));
                        Params start = actual.init(RandomStream.of(2));
                        double[] a = lossAndGradient(actual, start);
                        double[] e = lossAndGradient(expected, copy(start, reference));
                        Compare.assertClose(e, a, 2e-3, 1e-4 * Math.max(1e-3, Compare.maxAbs(e)), "loss (first) and gradient");
                    }
                }));
    }

    private static double[] lossAndGradient(Objective objective, Params params) {
        try (Scope s = Scope.open()) {
            Params tracked = params.requiringGrad();
            Tensor loss = objective.lossTerms(tracked, 0, RandomStream.of(3)).total();
            Params grads = Grad.of(loss).wrt(tracked);
            List<Double> out = new ArrayList<>();
            out.add(loss.item());
            for (String n : grads.names()) {
                for (double v : grads.get(n).toDoubles()) {
                    out.add(v);
                }
            }
            return out.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    // ---- the float64 oracle and helpers -----------------------------------------------------------

    /** The experts' two-layer MLP parameters on the host: {@code relu(x W1[e] + b1[e]) W2[e] + b2[e]}. */
    private static final class Experts {
        private final double[] w1;
        private final double[] b1;
        private final double[] w2;
        private final double[] b2;

        Experts(Params p) {
            Params ex = p.scoped(MixtureOfExperts.EXPERTS);
            w1 = ex.get("0.weight").toDoubles();
            b1 = ex.get("0.bias").toDoubles();
            w2 = ex.get("1.weight").toDoubles();
            b2 = ex.get("1.bias").toDoubles();
        }

        double[] apply(int e, double[] x) {
            double[] hidden = new double[H];
            for (int j = 0; j < H; j++) {
                double s = b1[e * H + j];
                for (int i = 0; i < D; i++) {
                    s += x[i] * w1[(e * D + i) * H + j];
                }
                hidden[j] = Math.max(0, s);
            }
            double[] out = new double[D];
            for (int j = 0; j < D; j++) {
                double s = b2[e * D + j];
                for (int i = 0; i < H; i++) {
                    s += hidden[i] * w2[(e * H + i) * D + j];
                }
                out[j] = s;
            }
            return out;
        }
    }

    private static double[][] softmax(double[] x, double[] w, int n, int d, int e) {
        double[][] p = new double[n][e];
        for (int t = 0; t < n; t++) {
            double[] l = new double[e];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < e; j++) {
                for (int i = 0; i < d; i++) {
                    l[j] += x[t * d + i] * w[i * e + j];
                }
                max = Math.max(max, l[j]);
            }
            double z = 0;
            for (int j = 0; j < e; j++) {
                p[t][j] = Math.exp(l[j] - max);
                z += p[t][j];
            }
            for (int j = 0; j < e; j++) {
                p[t][j] /= z;
            }
        }
        return p;
    }

    /** Indices of the k largest, descending, ties to the lower index. */
    private static int[] topK(double[] v, int k) {
        int[] out = new int[k];
        boolean[] used = new boolean[v.length];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < v.length; i++) {
                if (!used[i] && (best < 0 || v[i] > v[best])) {
                    best = i;
                }
            }
            used[best] = true;
            out[j] = best;
        }
        return out;
    }

    private static double[] row(double[] x, int t) {
        double[] r = new double[D];
        System.arraycopy(x, t * D, r, 0, D);
        return r;
    }

    private static Tensor tokens(Engine engine, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n * D];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble() * 2 - 1;
        }
        return engine.tensor(x, Shape.of(n, D), engine.defaultDType());
    }

    /** Zero-initialised router weights (noisy top-k) replaced by random ones, so gradients are generic. */
    private static Params randomized(Params p, Engine engine) {
        SplittableRandom r = new SplittableRandom(17);
        return p.mapNamed((name, t) -> {
            if (!name.startsWith("router.")) {
                return t;
            }
            double[] v = new double[(int) t.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextDouble() - 0.5;
            }
            return engine.tensor(v, t.shape(), t.dtype());
        });
    }

    private static Params direction(Params like, Engine engine) {
        SplittableRandom r = new SplittableRandom(23);
        return like.map(t -> {
            double[] v = new double[(int) t.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextDouble() * 2 - 1;
            }
            return engine.tensor(v, t.shape(), t.dtype());
        });
    }

    private static double dot(Params a, Params b) {
        double s = 0;
        for (String n : a.names()) {
            double[] x = a.get(n).toDoubles();
            double[] y = b.get(n).toDoubles();
            for (int i = 0; i < x.length; i++) {
                s += x[i] * y[i];
            }
        }
        return s;
    }

    private static Params copy(Params p, Engine engine) {
        return p.map(t -> copy(t, engine));
    }

    private static Tensor copy(Tensor t, Engine engine) {
        return engine.tensor(t.toDoubles(), t.shape(), engine.defaultDType());
    }

    private static SpecRegistry specs() {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        return SpecRegistry.load(tccl != null ? tccl : MoeConformanceTests.class.getClassLoader());
    }
}
