package dev.metaforge.plugins.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ShardedObjective;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The regression objective split over a batch's examples: shard gradients and losses sum to the
 * single-process step's (the reference: the gradient of {@code lossTerms}), float64, reference backend.
 */
class RegressionShardTest {
    @Test
    void shardsOfTheBatchSumToTheWholeStep() {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        SpecRegistry specs = SpecRegistry.load(RegressionShardTest.class.getClassLoader());
        RegressionExperimentSpec spec = new RegressionExperimentSpec(new MlpSpec(List.of(1, 8, 1), "tanh", "identity", "torch"),
                new RegressionTask("sin", -3, 3, 10, 11));
        ShardedObjective objective = (ShardedObjective) spec.build(new BuildContext(engine, specs, Path.of("."), 0));
        assertEquals(10, objective.shardUnits(0));
        try (Scope scope = Scope.open()) {
            Params theta = objective.init(TrainingLoop.initRandom(1));
            Params p = theta.requiringGrad();
            Tensor whole = objective.lossTerms(p, 4, TrainingLoop.stepRandom(1, 4)).total();
            Params reference = Grad.of(whole).wrt(p);
            int[] cuts = {0, 3, 4, 10};
            double loss = 0;
            Params sum = null;
            for (int i = 0; i + 1 < cuts.length; i++) {
                Params q = theta.requiringGrad();
                Tensor part = objective.shardLossTerms(q, 4, TrainingLoop.stepRandom(1, 4), cuts[i], cuts[i + 1]).total();
                loss += part.item();
                Params g = Grad.of(part).wrt(q);
                sum = sum == null ? g : sum.zip(g, Tensor::add);
            }
            assertEquals(whole.item(), loss, 1e-14);
            for (String name : reference.names()) {
                double[] want = reference.get(name).toDoubles();
                double[] got = sum.get(name).toDoubles();
                for (int i = 0; i < want.length; i++) {
                    assertTrue(Math.abs(want[i] - got[i]) <= 1e-14 * Math.max(1, Math.abs(want[i])), name + "[" + i + "]: " + got[i] + " vs " + want[i]);
                }
            }
            Params one = theta.requiringGrad();
            Params whole1 = Grad.of(objective.shardLossTerms(one, 4, TrainingLoop.stepRandom(1, 4), 0, 10).total()).wrt(one);
            for (String name : reference.names()) {
                assertArrayEquals(reference.get(name).toDoubles(), whole1.get(name).toDoubles(), 0.0, "the whole batch is the step itself");
            }
        }
    }
}
