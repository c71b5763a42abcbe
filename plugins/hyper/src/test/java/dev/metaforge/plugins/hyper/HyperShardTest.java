package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Hypernetwork training split over a batch's conditions: for the MIP loss-weighting example and a
 * sinusoid family with an hmlp hypernetwork, shard gradients and losses sum to the single-process
 * step's (the reference: the gradient of {@code lossTerms}), float64 on the reference backend.
 */
class HyperShardTest {
    private static final Path EXAMPLES = Path.of("..", "..", "examples");

    private void checkSplits(String json) throws Exception {
        SpecRegistry all = SpecRegistry.load(getClass().getClassLoader());
        TrainSpec spec = all.read(json, TrainSpec.class, "test");
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        HyperObjective objective = assertInstanceOf(HyperObjective.class,
                spec.experiment().build(new BuildContext(engine, all, EXAMPLES, spec.seed())));
        assertTrue(objective.shardable());
        int b = objective.shardUnits(0);
        try (Scope scope = Scope.open()) {
            Params theta = objective.init(TrainingLoop.initRandom(2));
            Params p = theta.requiringGrad();
            Tensor whole = objective.lossTerms(p, 3, TrainingLoop.stepRandom(2, 3)).total();
            Params reference = Grad.of(whole).wrt(p);
            int[] cuts = {0, 1, b / 2, b};
            double loss = 0;
            Params sum = null;
            for (int i = 0; i + 1 < cuts.length; i++) {
                Params q = theta.requiringGrad();
                Tensor part = objective.shardLossTerms(q, 3, TrainingLoop.stepRandom(2, 3), cuts[i], cuts[i + 1]).total();
                loss += part.item();
                Params g = Grad.of(part).wrt(q);
                sum = sum == null ? g : sum.zip(g, Tensor::add);
            }
            assertEquals(whole.item(), loss, 1e-12 * Math.abs(whole.item()));
            double scale = 0;
            for (Tensor t : reference.values()) {
                for (double v : t.toDoubles()) {
                    scale = Math.max(scale, Math.abs(v));
                }
            }
            for (String name : reference.names()) {
                double[] want = reference.get(name).toDoubles();
                double[] got = sum.get(name).toDoubles();
                for (int i = 0; i < want.length; i++) {
                    assertTrue(Math.abs(want[i] - got[i]) <= 1e-12 * scale, name + "[" + i + "]: " + got[i] + " vs " + want[i]);
                }
            }
            Params one = theta.requiringGrad();
            Params whole1 = Grad.of(objective.shardLossTerms(one, 3, TrainingLoop.stepRandom(2, 3), 0, b).total()).wrt(one);
            for (String name : reference.names()) {
                assertArrayEquals(reference.get(name).toDoubles(), whole1.get(name).toDoubles(), 0.0, "whole batch = the step: " + name);
            }
        }
    }

    @Test
    void mipLossWeightingSplitsOverConditions() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(EXAMPLES.resolve("mip-loss-weighting.json").toFile());
        checkSplits(json.writeValueAsString(root));
    }

    @Test
    void standardHypernetworkOnSinusoidFamiliesSplitsOverConditions() throws Exception {
        checkSplits("{\"experiment\": {\"type\": \"hypernetwork\", \"target\": {\"type\": \"mlp\", \"sizes\": [1, 8, 1], \"activation\": \"tanh\"},"
                + " \"hypernetwork\": {\"type\": \"hmlp\", \"contextSize\": 2, \"hidden\": [16]}, \"task\": {\"type\": \"sinusoid\"},"
                + " \"contextsPerStep\": 6, \"pointsPerContext\": 5},"
                + " \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.001}, \"steps\": 1, \"dtype\": \"float64\"}");
    }
}
