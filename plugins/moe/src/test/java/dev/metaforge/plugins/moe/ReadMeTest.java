package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.moe.RoutingPlan;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Read-ME's defining property: every layer's routing is computed from the input alone, before the stack runs. */
class ReadMeTest {
    private static final int D = 6;

    static ReadMe stack(double capacity) {
        List<dev.metaforge.api.moe.Router> routers = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            routers.add(new SoftmaxTopKRouter(4, 4, 2, true, capacity, 0.01, 0, "topk"));
        }
        return new ReadMe(D, ReadMe.trunk(D, 4), routers, 4, Mlp.of(List.of(D, 5, D), Activation.RELU), 0);
    }

    @Test
    void routingOfEveryLayerIsKnownBeforeTheStackRunsAndIgnoresTheBackbone() {
        Engine engine = MoeFixtures.engine();
        for (double capacity : new double[] {0, 1.0}) {
            try (Scope s = Scope.open()) {
                ReadMe stack = stack(capacity);
                Params p = stack.init(engine, RandomStream.of(1));
                Tensor x = MoeFixtures.randomTokens(engine, 20, D, 2);
                ModuleCall call = ModuleCall.eval(Params.empty());
                List<RoutingPlan> ahead = stack.plans(p, x, call);
                assertEquals(3, ahead.size());
                // the forward pass uses exactly these plans
                assertArrayEquals(stack.run(p, x, ahead).output().toDoubles(), stack.forward(p, x, call).output().toDoubles(), 0.0);
                // change every backbone weight: the hidden states change, the routing does not
                Params moved = p.mapNamed((name, t) -> name.startsWith(ReadMe.LAYERS + ".") ? t.mul(1.7).add(0.3) : t);
                List<RoutingPlan> after = stack.plans(moved, x, call);
                assertTrue(MoeFixtures.maxAbsDiff(stack.apply(p, x).toDoubles(), stack.apply(moved, x).toDoubles()) > 1e-3,
                        "the backbone change is visible in the output");
                for (int l = 0; l < 3; l++) {
                    assertArrayEquals(ahead.get(l).expert().toLongs(), after.get(l).expert().toLongs(), "layer " + l + " experts");
                    assertArrayEquals(ahead.get(l).weight().toDoubles(), after.get(l).weight().toDoubles(), 0.0, "layer " + l + " gates");
                }
                List<long[]> needed = ReadMe.expertsNeeded(ahead);
                for (int l = 0; l < 3; l++) {
                    long total = 0;
                    for (long c : needed.get(l)) {
                        total += c;
                    }
                    double kept = 0;
                    for (double v : ahead.get(l).kept().toDoubles()) {
                        kept += v;
                    }
                    assertEquals((long) kept, total, "layer " + l + ": the schedule counts every computed assignment");
                }
            }
        }
    }

    @Test
    void eachBlockIsAResidualMoeOverItsPlan() {
        // Independent float64 check of block 0: h1 = x + Σ_j gate · expert_e(x), expert evaluated alone.
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            ReadMe stack = stack(0);
            Params p = stack.init(engine, RandomStream.of(3));
            Tensor x = MoeFixtures.randomTokens(engine, 7, D, 4);
            List<RoutingPlan> plans = stack.plans(p, x, ModuleCall.eval(Params.empty()));
            ReadMe one = new ReadMe(D, stack.pregate(), stack.routers().subList(0, 1), 4, stack.expert(), 0);
            double[] h1 = one.run(p, x, plans.subList(0, 1)).output().toDoubles();
            long[] experts = plans.get(0).expert().toLongs();
            double[] gates = plans.get(0).weight().toDoubles();
            double[] xs = x.toDoubles();
            Params layer0 = p.scoped("layers.0.experts");
            for (int t = 0; t < 7; t++) {
                double[] expected = MoeFixtures.row(xs, t, D);
                for (int j = 0; j < 2; j++) {
                    double[] out = MoeFixtures.expertMlp(layer0, (int) experts[t * 2 + j], MoeFixtures.row(xs, t, D), Activation.RELU);
                    for (int i = 0; i < D; i++) {
                        expected[i] += gates[t * 2 + j] * out[i];
                    }
                }
                assertArrayEquals(expected, MoeFixtures.row(h1, t, D), 1e-12, "token " + t);
            }
        }
    }

    @Test
    void gradientsReachTheTrunkTheGatesAndEveryLayer() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            ReadMe stack = stack(0);
            Params p = stack.init(engine, RandomStream.of(5));
            Tensor x = MoeFixtures.randomTokens(engine, 9, D, 6);
            Tensor r = MoeFixtures.randomTokens(engine, 9, D, 7);
            MoeGradientTest.check("read-me", p, params -> {
                ModuleOutput out = stack.forward(params, x, ModuleCall.eval(Params.empty()));
                return out.output().mul(r).sum().add(out.auxLoss());
            });
        }
    }
}
