package dev.metaforge.api.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.graph.ThirdPartyModules.Heads;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.StructureBuilder;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The permutation harness on the float64 reference backend: it passes true symmetries and catches
 * planted bugs — modules whose description hides a tie, and metanetworks that read a neuron's index.
 */
class PermutationHarnessTest {
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

    @Test
    void permutationsKeepTheFunctionOfEveryArchitecture() {
        Tensor flat = engine.uniform(Shape.of(5, 3), -1, 1, 1);
        check(Mlp.of(List.of(3, 7, 6, 2), Activation.TANH), flat);
        check(GraphLayoutTest.heads(), flat);
        Tensor images = engine.uniform(Shape.of(2, 1, 4, 4), -1, 1, 2);
        check(GraphLayoutTest.cnn(), images);
        check(GraphLayoutTest.withGlobal(), engine.uniform(Shape.of(5, 2), -1, 1, 3));
    }

    private void check(Module net, Tensor x) {
        Params p = net.init(engine, RandomStream.of(4));
        SymmetryReport r = PermutationHarness.of(net).trials(4).tolerance(1e-12).checkFunction(p, x).assertPassed();
        assertEquals(4, r.trials());
    }

    /** A residual block that forgets to say so: it adds its input but describes a plain chain. */
    record HiddenSkip(int d) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return Linear.of(d, d).parameters();
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return input.add(Linear.of(d, d).apply(params, input));
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            return Linear.of(d, d).describe(b, prefix, input);
        }
    }

    @Test
    void catchesAModuleThatHidesAResidualTie() {
        Module net = Sequential.of(Linear.of(3, 5), Activation.TANH, new HiddenSkip(5), Activation.TANH, Linear.of(5, 2));
        Params p = net.init(engine, RandomStream.of(4));
        SymmetryReport r = PermutationHarness.of(net).checkFunction(p, engine.uniform(Shape.of(4, 3), -1, 1, 1));
        assertFalse(r.passed(), "the harness must catch the untied residual: " + r);
        AssertionError e = assertThrows(AssertionError.class, r::assertPassed);
        assertTrue(e.getMessage().contains("function check failed"), e.getMessage());
    }

    /** The head layer described without its blocks: heads get mixed by the permutation. */
    record HeadsWithoutBlocks(Heads inner) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return inner.parameters();
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return inner.apply(params, input);
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup in = b.resolve(input, inner.d());
            NeuronGroup h = b.group(StructureBuilder.join(prefix, "heads"), inner.heads() * inner.headSize());
            b.layer(prefix + ".up", "linear", in, h, Map.of("weight", "up"), Map.of());
            NeuronGroup o = b.group(StructureBuilder.join(prefix, "out"), inner.d());
            b.layer(prefix + ".down", "linear", h, o, Map.of("weight", "down"), Map.of());
            return o;
        }
    }

    @Test
    void catchesHeadsDescribedWithoutBlocks() {
        Module net = new HeadsWithoutBlocks(new Heads(3, 3, 2));
        Params p = net.init(engine, RandomStream.of(4));
        SymmetryReport good = PermutationHarness.of(new Heads(3, 3, 2)).trials(5).checkFunction(p, engine.uniform(Shape.of(4, 3), -1, 1, 1));
        assertTrue(good.passed(), good.toString());
        SymmetryReport bad = PermutationHarness.of(net).trials(5).checkFunction(p, engine.uniform(Shape.of(4, 3), -1, 1, 1));
        assertFalse(bad.passed(), "mixing heads changes the function: " + bad);
    }

    @Test
    void invarianceHoldsForAPoolingMetanetworkAndCatchesOneThatReadsANeuronIndex() {
        Module net = GraphLayoutTest.cnn();
        GraphLayout layout = GraphLayout.of(net);
        Params p = net.init(engine, RandomStream.of(6));
        PermutationHarness h = PermutationHarness.of(net).trials(4).tolerance(1e-12);
        // Pools every node and edge feature: blind to neuron order.
        h.checkInvariant(p, q -> {
            ParamGraph g = layout.toGraph(q);
            return g.nodes().tanh().sum().add(g.edges().square().sum()).add(g.nodes().max(1, false).sum());
        }).assertPassed();
        // Planted bug: weights each node by its index in the graph.
        double[] position = new double[layout.nodeCount()];
        for (int n = 0; n < position.length; n++) {
            position[n] = n;
        }
        Tensor index = engine.tensor(position, Shape.of(1, layout.nodeCount(), 1), DType.FLOAT64);
        SymmetryReport bug = h.checkInvariant(p, q -> layout.toGraph(q).nodes().mul(index).sum());
        assertFalse(bug.passed(), "a metanetwork reading neuron indices must be caught: " + bug);
    }

    @Test
    void equivarianceHoldsForANodewiseEditAndCatchesAnIndexDependentOne() {
        Module net = Mlp.of(List.of(3, 6, 5, 2), Activation.RELU);
        GraphLayout layout = GraphLayout.of(net);
        Params p = net.init(engine, RandomStream.of(7));
        PermutationHarness h = PermutationHarness.of(net).trials(4).tolerance(1e-12);
        // theta' = theta + 0.01 * dec(h): here dec is elementwise on node and edge features.
        h.checkEquivariant(p, q -> {
            ParamGraph g = layout.toGraph(q);
            return g.withFeatures(g.nodes().add(g.nodes().tanh().mul(0.01)), g.edges().add(g.edges().sin().mul(0.01))).toParams();
        }).assertPassed();
        double[] ramp = new double[layout.edgeCount()];
        for (int e = 0; e < ramp.length; e++) {
            ramp[e] = 0.01 * e;
        }
        Tensor byIndex = engine.tensor(ramp, Shape.of(1, layout.edgeCount(), 1), DType.FLOAT64);
        SymmetryReport bug = h.checkEquivariant(p, q -> {
            ParamGraph g = layout.toGraph(q);
            return g.withFeatures(g.nodes(), g.edges().add(byIndex)).toParams();
        });
        assertFalse(bug.passed(), "an edit that depends on edge order must be caught: " + bug);
    }

    @Test
    void permutationsActOnWeightBatchesAndInvertExactly() {
        Module net = GraphLayoutTest.cnn();
        NeuronSymmetry sym = NeuronSymmetry.of(net);
        Params batch = GraphLayoutTest.batchOf(net, engine, 3);
        NeuronPermutation perm = sym.random(RandomStream.of(3));
        Params back = sym.apply(perm.inverse(), sym.apply(perm, batch));
        GraphLayoutTest.assertBitIdentical(batch, back, "P^-1 P theta");
        // Each network of the batch is permuted as it would be alone.
        Params first = batch.map(t -> t.slice(0, 0, 1).squeeze(0));
        GraphLayoutTest.assertBitIdentical(sym.apply(perm, first), sym.apply(perm, batch).map(t -> t.slice(0, 0, 1).squeeze(0)),
                "network 0");
    }

    @Test
    void aModuleWithoutHiddenNeuronsHasNothingToPermute() {
        Module net = Linear.of(3, 2);
        assertTrue(NeuronSymmetry.of(net).permutableClasses().isEmpty());
        assertFalse(NeuronSymmetry.of(net).random(RandomStream.of(1)).movesSomething());
    }
}
