package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** MixER's defining properties: a closed-form (K-means + least squares) top-1 gate, no gradient to it, experts that specialise. */
class MixerTest {
    private static final MixedSystems TASK = new MixedSystems(3, 12, 4, 16, 1);

    @Test
    void theGateIsTheLeastSquaresFitOfTheKMeansLabels() {
        MixerRouter router = new MixerRouter(TASK.width(), 4, 3);
        MixedSystems.Environment[] envs = TASK.environmentsList();
        double[][] contexts = new double[envs.length][];
        for (int e = 0; e < envs.length; e++) {
            contexts[e] = envs[e].context();
        }
        double ridge = 1e-3;
        MixerRouter.Fit fit = router.fit(contexts, 20, ridge, 5);
        // normal equations (XᵀX + λI') G = XᵀY, with X = [ξ, 1] and Y the one-hot labels, checked in float64
        int p = 5;
        for (int a = 0; a < p; a++) {
            for (int k = 0; k < 3; k++) {
                double lhs = a < 4 ? ridge * fit.gate()[a][k] : 0;
                double rhs = 0;
                for (int i = 0; i < envs.length; i++) {
                    double[] row = {contexts[i][0], contexts[i][1], contexts[i][2], contexts[i][3], 1};
                    double pred = 0;
                    for (int b = 0; b < p; b++) {
                        pred += row[b] * fit.gate()[b][k];
                    }
                    lhs += row[a] * pred;
                    rhs += row[a] * (fit.labels()[i] == k ? 1 : 0);
                }
                assertEquals(rhs, lhs, 1e-9, "normal equation (" + a + ", " + k + ")");
            }
        }
        // well-separated families: each family to one expert, different families to different experts
        Set<Integer> used = new HashSet<>();
        for (int f = 0; f < 3; f++) {
            Set<Integer> experts = new HashSet<>();
            for (MixedSystems.Environment env : envs) {
                if (env.family() == f) {
                    experts.add(fit.route(env.context()));
                }
            }
            assertEquals(1, experts.size(), "family " + f + " goes to one expert");
            used.addAll(experts);
        }
        assertEquals(3, used.size(), "the families go to different experts");
    }

    @Test
    void theGatingReceivesNoGradient() {
        MixtureOfExperts moe = MixerExperimentSpec.layer(3, () -> Mlp.of(List.of(TASK.width(), 8, 1), Activation.TANH), TASK);
        for (ParamSpec s : moe.parameters()) {
            assertTrue(s.name().startsWith("experts."), "only experts are trained by gradient: " + s.name());
        }
        assertEquals(List.of("router.weight", "router.bias"), moe.stateSpecs().stream().map(s -> s.name()).toList());
    }

    @Test
    void theExpertsSpecialiseOnTheirFamilies() {
        SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
        TrainSpec spec = specs.read(Path.of("..", "..", "examples", "moe-mixer.json"), TrainSpec.class);
        Engine engine = MoeFixtures.engine().withDefaultDType(DType.FLOAT32);
        MixerObjective objective = (MixerObjective) spec.experiment().build(new BuildContext(engine, specs, Path.of("."), 0));
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(0.003), 0)) {
            double first = Double.NaN;
            for (int i = 0; i < 400; i++) {
                double loss = loop.step();
                if (i == 0) {
                    first = loss;
                }
            }
            var metrics = loop.evaluate();
            assertEquals(1.0, metrics.get("routingPurity"), 0.0, metrics.toString());
            assertTrue(metrics.get("mse") < first / 4, "trained: " + first + " -> " + metrics);
            // cross-evaluation: each expert fits its own family better than the others' families
            MixerRouter.Fit fit = objective.fitFromState();
            MixedSystems.Environment[] envs = TASK.environmentsList();
            Params experts = loop.params().scoped(MixtureOfExperts.EXPERTS);
            try (Scope s = Scope.open()) {
                for (MixedSystems.Environment env : envs) {
                    int own = fit.route(env.context());
                    double ownError = error(objective, experts, own, env, engine);
                    for (int e = 0; e < 3; e++) {
                        if (e != own) {
                            double other = error(objective, experts, e, env, engine);
                            assertTrue(ownError < other, "family " + env.family() + ": its expert " + own + " (" + ownError
                                    + ") beats expert " + e + " (" + other + ")");
                        }
                    }
                }
            }
        }
    }

    private static double error(MixerObjective objective, Params experts, int e, MixedSystems.Environment env, Engine engine) {
        int n = 25;
        double[] x = new double[n * TASK.width()];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double t = -1.5 + 3.0 * i / (n - 1);
            env.token(t, x, i * TASK.width());
            y[i] = env.target(t);
        }
        Params one = experts.map(t -> t.slice(0, e, e + 1).squeeze(0));
        Tensor out = objective.model().expert().apply(one, engine.tensor(x, Shape.of(n, TASK.width()), DType.FLOAT32));
        return Losses.mse(out, engine.tensor(y, Shape.of(n, 1), DType.FLOAT32)).item();
    }
}
