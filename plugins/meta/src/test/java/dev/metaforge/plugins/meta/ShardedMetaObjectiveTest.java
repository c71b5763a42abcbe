package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.meta.MetaGradientCheck;
import dev.metaforge.api.data.GaussianClusters;
import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The meta-objective split over tasks: for every learner, the gradients of the shards of a
 * partition of the meta-batch sum to the single-process step's meta-gradient (the reference:
 * {@code Grad.of(objective.lossTerms(...))}, the computation {@code TrainingLoop} runs), in float64
 * on the reference backend, for partitions into one, two and three shards. The whole range is the
 * single-process loss bit for bit.
 */
class ShardedMetaObjectiveTest {
    private static final long SEED = 5;
    private static final long STEP = 3;
    private static final int BATCH = 7;
    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static Module tiny() {
        return Mlp.of(List.of(1, 6, 6, 1), Activation.TANH);
    }

    private MetaObjective objective(MetaLearner learner, TaskSampler sampler) {
        return new MetaObjective(engine, learner, sampler, sampler, BATCH, 0, List.of(1), 0);
    }

    private MetaObjective sinusoid(MetaLearner learner) {
        return objective(learner, SinusoidTasks.standard(5, 5));
    }

    private static RandomStream rng() {
        return TrainingLoop.stepRandom(SEED, STEP);
    }

    private void checkSplits(MetaObjective objective) {
        Params theta = objective.init(TrainingLoop.initRandom(SEED));
        Params tracked = theta.requiringGrad();
        Tensor wholeLoss = objective.lossTerms(tracked, STEP, rng()).total();
        Params whole = Grad.of(wholeLoss).wrt(tracked);
        int[][][] partitions = {{{0, BATCH}}, {{0, 3}, {3, BATCH}}, {{0, 2}, {2, 5}, {5, BATCH}}};
        for (int[][] partition : partitions) {
            Params sum = null;
            double lossSum = 0;
            for (int[] range : partition) {
                Params p = theta.requiringGrad();
                Tensor part = objective.shardLossTerms(p, STEP, rng(), range[0], range[1]).total();
                lossSum += part.item();
                Params g = Grad.of(part).wrt(p);
                sum = sum == null ? g : sum.zip(g, Tensor::add);
            }
            double loss = partition.length == 1 ? lossSum : objective.combinedLoss(lossSum, sum);
            // Relative to each entry, with the gradient's largest entry as the floor: summation order is all that differs.
            double error = MetaGradientCheck.maxRelativeError(sum, whole, maxAbs(whole));
            assertTrue(error < 1e-13, objective.learner() + " with " + partition.length + " shards: meta-gradient max relative error " + error);
            assertEquals(wholeLoss.item(), loss, 1e-12 * Math.abs(wholeLoss.item()), objective.learner() + " loss with " + partition.length + " shards");
            if (partition.length == 1) {
                for (String name : whole.names()) {
                    assertArrayEquals(whole.get(name).toDoubles(), sum.get(name).toDoubles(), 0.0, "one shard is the step itself: " + name);
                }
            }
        }
    }

    private static double maxAbs(Params p) {
        double max = 0;
        for (Tensor t : p.values()) {
            for (double v : t.toDoubles()) {
                max = Math.max(max, Math.abs(v));
            }
        }
        return max;
    }

    @Test
    void secondOrderMamlSplitsExactly() {
        checkSplits(sinusoid(new Maml(tiny(), TaskLoss.MSE, 2, 0.05, false)));
    }

    @Test
    void firstOrderMamlSplitsExactly() {
        checkSplits(sinusoid(new Maml(tiny(), TaskLoss.MSE, 2, 0.05, true)));
    }

    @Test
    void metaSgdSplitsExactly() {
        checkSplits(sinusoid(new MetaSgd(tiny(), TaskLoss.MSE, 1, 0.05, false)));
    }

    @Test
    void anilSplitsExactly() {
        checkSplits(sinusoid(Anil.withLastLayerHead(tiny(), TaskLoss.MSE, 2, 0.05, false)));
    }

    @Test
    void reptileSplitsExactly() {
        checkSplits(sinusoid(new Reptile(tiny(), TaskLoss.MSE, 3, 0.05)));
    }

    @Test
    void prototypicalNetworkSplitsExactly() {
        FewShotEpisodes episodes = new FewShotEpisodes(GaussianClusters.generate(7, 0, 12, 10, 3, 3, 0.3, 1.0), 3, 2, 2, true);
        checkSplits(objective(new PrototypicalNetwork(Mlp.of(List.of(6, 8, 4), Activation.TANH)), episodes));
    }

    @Test
    void aLearnerThatDoesNotSayHowItSplitsIsNotShardable() {
        MetaLearner opaque = new MetaLearner() {
            private final Maml inner = new Maml(tiny(), TaskLoss.MSE, 1, 0.05, false);

            @Override
            public Module module() {
                return inner.module();
            }

            @Override
            public TaskLoss loss() {
                return TaskLoss.MSE;
            }

            @Override
            public int innerSteps() {
                return 1;
            }

            @Override
            public Params adapt(Params metaParams, TaskBatch tasks, int steps) {
                return inner.adapt(metaParams, tasks, steps);
            }

            @Override
            public Tensor predict(Params adapted, Tensor inputs) {
                return inner.predict(adapted, inputs);
            }

            @Override
            public Tensor metaLoss(Params metaParams, TaskBatch batch) {
                return inner.metaLoss(metaParams, batch);
            }
        };
        MetaObjective objective = sinusoid(opaque);
        assertFalse(objective.shardable());
        Params theta = objective.init(TrainingLoop.initRandom(SEED)).requiringGrad();
        objective.shardLossTerms(theta, STEP, rng(), 0, BATCH);   // the whole batch is still fine
        assertThrows(UnsupportedOperationException.class, () -> objective.shardLossTerms(theta, STEP, rng(), 0, 3));
        assertThrows(IllegalArgumentException.class, () -> objective.shardLossTerms(theta, STEP, rng(), 3, 3));
    }
}
