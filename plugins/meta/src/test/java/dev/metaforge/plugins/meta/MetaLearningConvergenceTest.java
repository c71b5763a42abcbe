package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.GaussianClusters;
import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Every learner learns: short meta-training runs on the reference backend, judged on held-out
 * tasks against the same network before meta-training (the reference point) and against chance.
 * The full-length figures are in {@link MamlSinusoidReproductionTest} (tagged slow).
 */
class MetaLearningConvergenceTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT32);

    static Stream<String> sinusoidLearners() {
        return Stream.of("maml", "fomaml", "meta-sgd", "anil", "reptile");
    }

    private static MetaLearner learner(String name) {
        Mlp net = Mlp.of(List.of(1, 20, 20, 1), Activation.RELU);
        return switch (name) {
            case "maml" -> new Maml(net, TaskLoss.MSE, 1, 0.01, false);
            case "fomaml" -> new Maml(net, TaskLoss.MSE, 1, 0.01, true);
            case "meta-sgd" -> new MetaSgd(net, TaskLoss.MSE, 1, 0.01, false);
            case "anil" -> Anil.withLastLayerHead(net, TaskLoss.MSE, 5, 0.05, false);
            case "reptile" -> new Reptile(net, TaskLoss.MSE, 5, 0.01);
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest
    @MethodSource("sinusoidLearners")
    void sinusoidMetaTrainingLowersThePostAdaptationError(String name) {
        SinusoidTasks tasks = SinusoidTasks.standard(10, 10);
        MetaLearner learner = learner(name);
        // Judged after ten inner steps; learners with learned rates or a head-only loop after the
        // steps they train with (a learned rate need not suit ten steps).
        int steps = name.equals("meta-sgd") || name.equals("anil") ? learner.innerSteps() : 10;
        String metric = "mse_after_" + steps;
        MetaObjective objective = new MetaObjective(engine, learner, tasks, tasks, 10, 200, List.of(steps), 99);
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(3e-3), 0)) {
            double before = loop.evaluate().get(metric);
            for (int i = 0; i < 400; i++) {
                loop.step();
            }
            double after = loop.evaluate().get(metric);
            System.out.printf("%s: %s %.3f -> %.3f%n", name, metric, before, after);
            assertTrue(after < 0.6 * before, name + ": post-adaptation MSE " + before + " -> " + after);
        }
    }

    @Test
    void prototypicalNetworksClassifyHeldOutClassesFarAboveChance() {
        // 5-way 1-shot over Gaussian clusters whose class lives in 4 of 16 dimensions; the other 12
        // are loud noise, so an untrained embedding is near chance (0.2) and a trained one ignores them.
        FewShotEpisodes train = new FewShotEpisodes(GaussianClusters.generate(7, 0, 64, 20, 4, 12, 0.3, 2.0), 5, 1, 5, true);
        FewShotEpisodes heldOut = new FewShotEpisodes(GaussianClusters.generate(7, 64, 100, 20, 4, 12, 0.3, 2.0), 5, 1, 5, true);
        PrototypicalNetwork protonet = new PrototypicalNetwork(Mlp.of(List.of(16, 32, 8), Activation.RELU));
        MetaObjective objective = new MetaObjective(engine, protonet, train, heldOut, 8, 500, List.of(0), 3);
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(3e-3), 0)) {
            double before = loop.evaluate().get("accuracy");
            for (int i = 0; i < 300; i++) {
                loop.step();
            }
            Map<String, Double> after = loop.evaluate();
            System.out.printf("protonet: held-out 5-way 1-shot accuracy %.3f -> %.3f%n", before, after.get("accuracy"));
            assertTrue(before < 0.35, "untrained accuracy near chance, got " + before);
            assertTrue(after.get("accuracy") > 0.85, "trained accuracy on held-out classes " + after);
        }
    }

    @Test
    void evaluationInsideNoGradGivesTheSameFigures() {
        MetaObjective objective = MamlSinusoid.objective(engine, false, 50, List.of(0, 10));
        try (Scope ignored = Scope.open()) {
            var params = objective.init(TrainingLoop.initRandom(4));
            Map<String, Double> plain = objective.evaluate(params);
            Map<String, Double> paused;
            try (NoGrad noGrad = NoGrad.enter()) {
                paused = objective.evaluate(params);
            }
            assertEquals(plain, paused);
            // Inside NoGrad a silent failure would be no adaptation at all (zero inner gradients).
            assertTrue(Math.abs(paused.get("mse_after_10") - paused.get("mse_after_0")) > 1e-2, "the inner loop adapted: " + paused);
        }
    }
}
