package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.Interval;
import dev.metaforge.api.hyper.IntervalBounds;
import dev.metaforge.api.hyper.IntervalParams;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-level gradient checks: for every hypernetwork, the gradient of a loss through the
 * generated weight batch and the target with respect to the hypernetwork's parameters and the
 * target's ordinary parameters, against central finite differences (float64, reference backend).
 */
class HyperGradientTest {
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

    static List<HyperFixtures.Kind> kinds() {
        return HyperFixtures.kinds();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void gradientThroughGeneratedWeightBatchMatchesFiniteDifferences(HyperFixtures.Kind kind) {
        HyperTarget target = HyperFixtures.smallTarget();
        HyperNetwork hyper = kind.build().apply(target);
        Params h = hyper.init(engine, RandomStream.of(21)).prefixed("hyper");
        Params ordinary = target.initOrdinary(engine, RandomStream.of(22)).prefixed("target");
        Tensor contexts = HyperFixtures.context(engine, hyper, 3, 23);
        Tensor x = HyperFixtures.uniform(engine, 24, 3, 4, 2);
        Tensor y = HyperFixtures.uniform(engine, 25, 3, 4, 3);
        double worst = GradientCheck.check(engine, h.merge(ordinary), p -> {
            Params generated = hyper.generate(p.scoped("hyper"), contexts);
            return target.apply(generated, p.scoped("target"), x).sub(y).square().mean();
        }, 1e-6, 40, 26);
        assertTrue(worst < 1e-6, kind + ": worst difference " + worst);
    }

    @Test
    void hyperIntervalWorstCaseLossGradientMatchesFiniteDifferences() {
        // Through interval propagation in the hypernetwork and in the target, and the worst-case logits.
        HyperTarget target = HyperFixtures.smallTarget();
        HyperIntervalNetwork hyper = new HyperIntervalNetwork(target.generated(), 3, 4, List.of(5), dev.metaforge.api.nn.Activation.TANH, 0.5);
        Params h = hyper.init(engine, RandomStream.of(31)).prefixed("hyper");
        Params ordinary = target.initOrdinary(engine, RandomStream.of(32)).prefixed("target");
        Tensor ids = hyper.taskIds(engine, 2);
        Tensor x = HyperFixtures.uniform(engine, 33, 6, 2);
        Tensor labels = engine.indices(new long[] {0, 1, 2, 0, 1, 2}, 6);
        Tensor oneHot = Losses.oneHot(labels, 3).cast(x.dtype());
        GradientCheck.check(engine, h.merge(ordinary), p -> {
            IntervalParams w = hyper.generateInterval(p.scoped("hyper"), ids);
            Params center = target.merge(w.center(), p.scoped("target"));
            Interval logits = IntervalBounds.applyToPoint(target.module(), new IntervalParams(center, w.radius()), x);
            Tensor worst = IntervalBounds.worstCaseLogits(new Interval(logits.center().squeeze(0), logits.radius().squeeze(0)), oneHot);
            return Losses.crossEntropy(worst, oneHot);
        }, 1e-6, 40, 34);
    }

    @Test
    void continualObjectiveGradientWithRegularizerMatchesFiniteDifferences() {
        // The whole continual loss at task 3: cross-entropy + output regularizer over tasks 1 and 2.
        HyperTarget target = HyperFixtures.smallTarget();
        SplitBlobsSequence tasks = new SplitBlobsSequence(3, 0.2, 10, 1);
        HyperTarget twoClass = new HyperTarget(dev.metaforge.api.nn.Mlp.of(List.of(2, 4, 2), dev.metaforge.api.nn.Activation.TANH),
                target.selection());
        TaskEmbeddingHyperNetwork hyper = new TaskEmbeddingHyperNetwork(3, 4, new HmlpHyperNetwork(twoClass.generated(), 4,
                List.of(5), dev.metaforge.api.nn.Activation.TANH, dev.metaforge.api.nn.Initializer.torchDefault()));
        ContinualObjective objective = new ContinualObjective(engine, twoClass, hyper, tasks, 1, 8, 0.5, 0.5);
        Params start = objective.init(RandomStream.of(41));
        objective.beforeStep(start, 2);
        Params moved = start.map(t -> t.add(HyperFixtures.uniform(engine, 42, t.shape().dims()).mul(0.1)));
        GradientCheck.check(engine, moved, p -> objective.loss(p, 2, RandomStream.of(43)), 1e-6, 40, 44);
        objective.close();
    }
}
