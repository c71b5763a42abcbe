package dev.metaforge.api.graph;

import static dev.metaforge.api.graph.GraphLayoutTest.assertBitIdentical;
import static dev.metaforge.api.graph.GraphLayoutTest.batchOf;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Flatten;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.MaxPool2d;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.TransformerBlock;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The parameter graph and the permutation harness over the real layers of api/nn (not the
 * test-local stand-ins of {@link ThirdPartyModules}): Conv2d, BatchNorm, a residual CNN with
 * BatchNorm and a transformer block. Round trips are compared bit for bit; function invariance
 * is checked by running the permuted network against the original (the reference is the
 * unpermuted network itself).
 */
class RealLayersGraphTest {
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

    static Module residualCnn() {
        return Sequential.of(
                Conv2d.of(1, 4, 3).withPadding(1), BatchNorm.of(4), Activation.RELU,
                new Residual(Sequential.of(Conv2d.of(4, 4, 3).withPadding(1), BatchNorm.of(4), Activation.RELU)),
                MaxPool2d.of(2), Flatten.of(), Linear.of(4 * 2 * 2, 3));
    }

    static Map<String, Module> modules() {
        Map<String, Module> m = new LinkedHashMap<>();
        m.put("conv2d", Conv2d.of(2, 3, 3));
        m.put("batchnorm", BatchNorm.of(3));
        m.put("conv-bn-relu-pool cnn", Sequential.of(Conv2d.of(1, 3, 3).withPadding(1), BatchNorm.of(3), Activation.RELU,
                MaxPool2d.of(2), Flatten.of(), Linear.of(3 * 2 * 2, 2)));
        m.put("residual cnn with batchnorm", residualCnn());
        m.put("transformer block", new TransformerBlock(8, 2, 16, 0.0, false));
        return m;
    }

    @Test
    void roundTripIsBitIdenticalOverRealLayers() {
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            Engine e = engine.withDefaultDType(dtype);
            for (Map.Entry<String, Module> m : modules().entrySet()) {
                GraphLayout layout = GraphLayout.of(m.getValue());
                Params p = m.getValue().init(e, RandomStream.of(7));
                assertBitIdentical(p, layout.toParams(layout.toGraph(p)), m.getKey() + " " + dtype);
                Params batch = batchOf(m.getValue(), e, 3);
                assertBitIdentical(batch, layout.toGraph(batch).toParams(), m.getKey() + " batch " + dtype);
            }
        }
    }

    @Test
    void permutationsKeepTheFunctionOfRealLayers() {
        PermutationHarness.of(residualCnn()).trials(4).tolerance(1e-10)
                .checkFunction(residualCnn().init(engine, RandomStream.of(3)), engine.uniform(Shape.of(2, 1, 4, 4), -1, 1, 5))
                .assertPassed();
        Module block = new TransformerBlock(8, 2, 16, 0.0, false);
        PermutationHarness.of(block).trials(4).tolerance(1e-10)
                .checkFunction(block.init(engine, RandomStream.of(3)), engine.uniform(Shape.of(2, 5, 8), -1, 1, 5))
                .assertPassed();
    }

    /**
     * BatchNorm's running statistics travel with the permutation through
     * {@link NeuronSymmetry#applyToState}: after a few TRAIN steps (non-trivial statistics) the
     * permuted network in EVAL mode computes the original's output. Reference: the unpermuted
     * network on the same input. Permuting the parameters but not the state must change it.
     */
    @Test
    void batchNormRunningStatisticsMoveWithTheChannels() {
        Module net = residualCnn();
        Params p = net.init(engine, RandomStream.of(3));
        Params state = net.initState(engine, 0);
        for (int step = 0; step < 3; step++) {
            state = net.forward(p, engine.uniform(Shape.of(4, 1, 4, 4), -1, 2, 10 + step),
                    dev.metaforge.api.nn.ModuleCall.train(state, RandomStream.of(step))).state();
        }
        Tensor x = engine.uniform(Shape.of(2, 1, 4, 4), -1, 1, 5);
        double[] expected = net.forward(p, x, dev.metaforge.api.nn.ModuleCall.eval(state)).output().toDoubles();
        NeuronSymmetry sym = NeuronSymmetry.of(net);
        for (int trial = 0; trial < 3; trial++) {
            NeuronPermutation perm = sym.random(RandomStream.of(40 + trial));
            Params pp = sym.apply(perm, p);
            double[] got = net.forward(pp, x, dev.metaforge.api.nn.ModuleCall.eval(sym.applyToState(perm, state))).output().toDoubles();
            double[] stale = net.forward(pp, x, dev.metaforge.api.nn.ModuleCall.eval(state)).output().toDoubles();
            double worst = 0;
            double staleWorst = 0;
            for (int i = 0; i < expected.length; i++) {
                worst = Math.max(worst, Math.abs(expected[i] - got[i]));
                staleWorst = Math.max(staleWorst, Math.abs(expected[i] - stale[i]));
            }
            org.junit.jupiter.api.Assertions.assertTrue(worst < 1e-10, "trial " + trial + ": deviation " + worst);
            org.junit.jupiter.api.Assertions.assertTrue(staleWorst > 1e-6, "trial " + trial + ": unpermuted state should change the output");
        }
    }
}
