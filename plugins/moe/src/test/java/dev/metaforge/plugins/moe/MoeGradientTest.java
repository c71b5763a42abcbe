package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.moe.Router;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Gradients through router and experts against central finite differences (the independent
 * reference) in float64, for every router: the loss is {@code Σ y·r + the auxiliary losses} with a
 * fixed random r, and the routing decisions are fixed under the ±1e-6 perturbations (random data:
 * no near ties). Noisy top-k draws its noise from the same stream on every evaluation.
 */
class MoeGradientTest {
    private static final int D = 5;

    static Map<String, Router> routers() {
        Map<String, Router> m = new LinkedHashMap<>();
        m.put("topk capacity", new SoftmaxTopKRouter(D, 4, 2, true, 1.0, 0.1, 0.01, "topk"));
        m.put("switch", new SoftmaxTopKRouter(D, 4, 1, false, 1.25, 0.1, 0.01, "switch"));
        m.put("dropless", new SoftmaxTopKRouter(D, 4, 2, true, 0, 0.1, 0.01, "dropless"));
        m.put("noisy top-k", new NoisyTopKRouter(D, 4, 2, 0, 0.1, 0.1, 0.01));
        m.put("expert choice", new ExpertChoiceRouter(D, 4, 2.0, 0.01));
        m.put("aux-free", new AuxFreeRouter(D, 4, 2, 0.001, 0, 0.1));
        return m;
    }

    @Test
    void everyRoutersGradientMatchesFiniteDifferences() {
        Engine engine = MoeFixtures.engine();
        routers().forEach((name, router) -> {
            try (Scope s = Scope.open()) {
                MixtureOfExperts moe = MoeFixtures.layer(router, 6);
                Params p = moe.init(engine, RandomStream.of(7));
                if (router instanceof NoisyTopKRouter) {
                    p = p.mapNamed((n, t) -> n.startsWith("router.") ? MoeFixtures.randomTokens(engine, D, 4, n.hashCode()) : t);
                }
                Tensor x = MoeFixtures.randomTokens(engine, 13, D, 3);
                Tensor r = MoeFixtures.randomTokens(engine, 13, D, 4);
                Params state = moe.initState(engine, 0);
                Function<Params, Tensor> loss = params -> {
                    ModuleOutput out = moe.forward(params, x, ModuleCall.train(state, RandomStream.of(42)));
                    Tensor total = out.output().mul(r).sum();
                    return out.auxLoss() == null ? total : total.add(out.auxLoss());
                };
                check(name, p, loss);
            }
        });
    }

    @Test
    void gradientWithRespectToTheTokensMatchesFiniteDifferences() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            MixtureOfExperts moe = MoeFixtures.layer(new SoftmaxTopKRouter(D, 4, 2, true, 0, 0.1, 0.01, "dropless"), 6);
            Params p = moe.init(engine, RandomStream.of(7));
            Tensor r = MoeFixtures.randomTokens(engine, 9, D, 4);
            Params x = Params.of(Map.of("x", MoeFixtures.randomTokens(engine, 9, D, 3)));
            check("tokens", x, px -> {
                ModuleOutput out = moe.forward(p, px.get("x"), ModuleCall.eval(Params.empty()));
                return out.output().mul(r).sum().add(out.auxLoss());
            });
        }
    }

    /** Every entry of every tensor: analytic vs central differences, relative 1e-6 (atol 1e-8). */
    static void check(String name, Params at, Function<Params, Tensor> loss) {
        Params tracked = at.requiringGrad();
        Params grads = Grad.of(loss.apply(tracked)).wrt(tracked);
        double h = 1e-6;
        double worst = 0;
        boolean nonZero = false;
        SplittableRandom random = new SplittableRandom(0);
        for (String n : at.names()) {
            Tensor t = at.get(n);
            double[] base = t.toDoubles();
            double[] g = grads.get(n).toDoubles();
            for (int sample = 0; sample < Math.min(base.length, 12); sample++) {
                int i = base.length <= 12 ? sample : random.nextInt(base.length);
                double fPlus = evaluate(loss, at, n, base, i, h);
                double fMinus = evaluate(loss, at, n, base, i, -h);
                double numeric = (fPlus - fMinus) / (2 * h);
                double err = Math.abs(numeric - g[i]) / Math.max(1, Math.max(Math.abs(numeric), Math.abs(g[i])));
                worst = Math.max(worst, err);
                nonZero |= Math.abs(g[i]) > 1e-9;
                assertTrue(err < 1e-6, name + ": d loss / d " + n + "[" + i + "] analytic " + g[i] + " numeric " + numeric);
            }
        }
        assertTrue(nonZero, name + ": the gradient is identically zero, so the check proves nothing");
    }

    private static double evaluate(Function<Params, Tensor> loss, Params at, String name, double[] base, int i, double delta) {
        try (Scope s = Scope.open()) {
            double[] moved = base.clone();
            moved[i] += delta;
            Tensor t = at.get(name);
            Params p = at.with(name, t.engine().tensor(moved, t.shape(), t.dtype()));
            return loss.apply(p).item();
        }
    }
}
