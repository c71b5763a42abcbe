package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.Interval;
import dev.metaforge.api.hyper.IntervalParams;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** HyperInterval's ε schedule: values against the closed form, JSON forms, and the step's forward using ε(step). */
class PerturbationScheduleTest {
    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = HyperFixtures.engine();
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void valuesFollowTheLinearWarmUpOverTheFirstPartOfEachTask() {
        // 10 steps, warm-up over the first half: A = 5, ε(i) = 2 · i / 4 for i < 5, then 2.
        PerturbationSchedule half = new PerturbationSchedule(2.0, 0.5);
        double[] expected = {0, 0.5, 1.0, 1.5, 2.0, 2, 2, 2, 2, 2, 2};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], half.at(i, 10), 1e-15, "step " + i);
        }
        // 20 steps, warm-up 0.35: A = 7, ε(i) = 3 · i / 6.
        PerturbationSchedule part = new PerturbationSchedule(3.0, 0.35);
        for (int i = 0; i < 7; i++) {
            assertEquals(3.0 * i / 6, part.at(i, 20), 1e-15, "step " + i);
        }
        assertEquals(3.0, part.at(7, 20), 0.0);
        // Constant: the old form, a zero warm-up, or a warm-up of at most one step.
        assertEquals(1.5, PerturbationSchedule.constant(1.5).at(0, 100), 0.0);
        assertEquals(1.5, new PerturbationSchedule(1.5, 0.0).at(3, 100), 0.0);
        assertEquals(1.5, new PerturbationSchedule(1.5, 0.5).at(0, 3), 0.0);
        assertEquals(0.5, new PerturbationSchedule(1.5, null).warmup(), 0.0);
    }

    @Test
    void jsonTakesTheOldNumberOrAScheduleObject() {
        SpecRegistry specs = SpecRegistry.of(List.of(new HyperPlugin()));
        HyperIntervalSpec constant = (HyperIntervalSpec) specs.read("{\"type\": \"hyperinterval\", \"tasks\": 2, \"perturbation\": 0.7}",
                HyperNetworkSpec.class, "example");
        assertEquals(new PerturbationSchedule(0.7, 0.0), constant.perturbation());
        HyperIntervalSpec scheduled = (HyperIntervalSpec) specs.read(
                "{\"type\": \"hyperinterval\", \"tasks\": 2, \"perturbation\": {\"epsilon\": 1.5}}", HyperNetworkSpec.class, "example");
        assertEquals(new PerturbationSchedule(1.5, 0.5), scheduled.perturbation());
        HyperIntervalSpec absent = (HyperIntervalSpec) specs.read("{\"type\": \"hyperinterval\", \"tasks\": 2}",
                HyperNetworkSpec.class, "example");
        assertEquals(new PerturbationSchedule(1.0, 0.0), absent.perturbation());
        RuntimeException bad = assertThrows(RuntimeException.class, () -> specs.read(
                "{\"type\": \"hyperinterval\", \"tasks\": 2, \"perturbation\": {\"epsilon\": 1, \"warmup\": 2}}", HyperNetworkSpec.class,
                "example"));
        assertTrue(bad.getMessage().contains("warmup") && bad.getMessage().contains("[0, 1]"), bad.getMessage());
        RuntimeException missing = assertThrows(RuntimeException.class, () -> specs.read(
                "{\"type\": \"hyperinterval\", \"tasks\": 2, \"perturbation\": {\"warmup\": 0.5}}", HyperNetworkSpec.class, "example"));
        assertTrue(missing.getMessage().contains("epsilon"), missing.getMessage());
        RuntimeException negative = assertThrows(RuntimeException.class, () -> specs.read(
                "{\"type\": \"hyperinterval\", \"tasks\": 2, \"perturbation\": -1}", HyperNetworkSpec.class, "example"));
        assertTrue(negative.getMessage().contains("perturbation"), negative.getMessage());
    }

    @Test
    void theEmbeddingRadiusScalesWithEpsilonAndTheCentresKeepTheFinalOne() {
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(2, 3, 2), Activation.RELU));
        HyperIntervalNetwork hyper = new HyperIntervalNetwork(target.generated(), 2, 3, List.of(4), Activation.RELU,
                new PerturbationSchedule(2.0, 0.5));
        Params h = hyper.init(engine, RandomStream.of(3));
        Interval emb = hyper.embeddingInterval(h, hyper.taskIds(engine, 1), 0.8);
        double[] e = h.get("embeddings").toDoubles();
        double[] r = h.get("radii").toDoubles();
        double z = Math.exp(r[3]) + Math.exp(r[4]) + Math.exp(r[5]);
        for (int j = 0; j < 3; j++) {
            assertEquals(0.8 * Math.exp(r[3 + j]) / z, emb.radius().toDoubles()[j], 1e-12, "radius " + j);
            assertEquals(2.0 / (2 * 3) * Math.cos(e[3 + j]), emb.center().toDoubles()[j], 1e-12, "centre " + j);
        }
    }

    @Test
    void theStepsForwardUsesEpsilonAtThatStep() {
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(2, 3, 2), Activation.RELU));
        HyperIntervalNetwork hyper = new HyperIntervalNetwork(target.generated(), 3, 3, List.of(4), Activation.RELU,
                new PerturbationSchedule(1.0, 0.5));
        ContinualObjective objective = new ContinualObjective(engine, target, hyper, new SplitBlobsSequence(3, 0.4, 10, 7), 10, 4,
                0.5, 0.5);
        Params h = objective.init(RandomStream.of(5)).scoped(HyperObjective.HYPER);
        // Step 0 of any task: ε = 0, so the generated interval is a point (zero radius everywhere).
        for (long step : new long[] {0, 10, 20}) {
            IntervalParams box = objective.currentInterval(hyper, h, objective.taskAt(step), step);
            for (Tensor radius : box.radius().values()) {
                for (double v : radius.toDoubles()) {
                    assertEquals(0.0, v, 0.0, "step " + step);
                }
            }
        }
        // Other steps: the same interval as generating with the closed-form ε(step within task) = i / 4 (i < 5), else 1.
        long[] steps = {2, 4, 7, 13, 25, 29, 35};
        double[] eps = {0.5, 1.0, 1.0, 0.75, 1.0, 1.0, 1.0};
        for (int k = 0; k < steps.length; k++) {
            int task = objective.taskAt(steps[k]);
            assertEquals(eps[k], objective.epsilonAt(steps[k]), 1e-15, "step " + steps[k]);
            IntervalParams got = objective.currentInterval(hyper, h, task, steps[k]);
            IntervalParams want = hyper.generateInterval(h, hyper.taskIds(engine, new int[] {task}), eps[k]);
            for (String name : want.radius().names()) {
                assertArrayEquals(want.radius().get(name).toDoubles(), got.radius().get(name).toDoubles(), 1e-15, name);
                assertArrayEquals(want.center().get(name).toDoubles(), got.center().get(name).toDoubles(), 1e-15, name);
            }
        }
        // κ (0.5 here) during the warm-up (A = 5 of 10 steps): max(1 − 0.00005 i, κ), then κ.
        assertEquals(1.0, objective.midpointWeightAt(0), 0.0);
        assertEquals(1 - 0.00005 * 4, objective.midpointWeightAt(14), 1e-15);
        assertEquals(0.5, objective.midpointWeightAt(15), 0.0);
        assertEquals(0.5, new ContinualObjective(engine, target, new HyperIntervalNetwork(target.generated(), 3, 3, List.of(4),
                Activation.RELU, 1.0), new SplitBlobsSequence(3, 0.4, 10, 7), 10, 4, 0.5, 0.5).midpointWeightAt(0), 0.0);
        // A check that can fail: ε = 0.5 and ε = 1 give different radii.
        double half = hyper.generateInterval(h, hyper.taskIds(engine, new int[] {0}), 0.5).radius().get("0.weight").sum().item();
        double full = hyper.generateInterval(h, hyper.taskIds(engine, new int[] {0}), 1.0).radius().get("0.weight").sum().item();
        assertTrue(full > half * 1.5, half + " vs " + full);
    }
}
