package dev.metaforge.api.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.graph.ThirdPartyModules.ChannelNorm;
import dev.metaforge.api.graph.ThirdPartyModules.Conv;
import dev.metaforge.api.graph.ThirdPartyModules.Flatten;
import dev.metaforge.api.graph.ThirdPartyModules.Heads;
import dev.metaforge.api.graph.ThirdPartyModules.Skip;
import dev.metaforge.api.graph.ThirdPartyModules.Temperature;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
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
 * The parameter graph on the float64 reference backend. Expected graph entries are read directly
 * from the parameters' values in Java (an independent reference: index arithmetic by hand), and
 * round trips are compared bit for bit.
 */
class GraphLayoutTest {
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

    /** conv(1->4) + norm + relu, a residual conv block with norm, flatten, linear to 3 classes (4x4 maps). */
    static Module cnn() {
        return Sequential.of(new Conv(1, 4), new ChannelNorm(4), Activation.RELU,
                new Skip(Sequential.of(new Conv(4, 4), new ChannelNorm(4), Activation.RELU)), new Flatten(), Linear.of(4 * 16, 3));
    }

    static Module heads() {
        return Sequential.of(Linear.of(3, 8), Activation.TANH, new Heads(8, 4, 3), Activation.TANH, Linear.of(8, 2));
    }

    static Module withGlobal() {
        return Sequential.of(Linear.of(2, 3), new Temperature(), Activation.TANH, Linear.of(3, 1));
    }

    @Test
    void mlpGraphHoldsBiasesOnNodesAndWeightsOnEdges() {
        Mlp mlp = Mlp.of(List.of(3, 5, 2), Activation.RELU);
        GraphLayout layout = GraphLayout.of(mlp);
        assertEquals(10, layout.nodeCount());
        assertEquals(3 * 5 + 5 * 2, layout.edgeCount());
        assertEquals(List.of("bias"), layout.nodeFeatureNames());
        assertEquals(1, layout.edgeFeatureWidth());
        assertEquals(0, layout.globalWidth());
        assertEquals(List.of(NodeRole.INPUT, NodeRole.HIDDEN, NodeRole.OUTPUT), layout.nodeSets().stream().map(NodeSet::role).toList());
        assertEquals(List.of(false, true, false), layout.nodeSets().stream().map(NodeSet::permutable).toList());

        Params p = mlp.init(engine, RandomStream.of(3));
        ParamGraph g = layout.toGraph(p);
        assertEquals(Shape.of(1, 10, 1), g.nodes().shape());
        assertEquals(Shape.of(1, 25, 1), g.edges().shape());
        double[] w0 = p.get("0.weight").toDoubles();   // [3, 5]
        double[] w1 = p.get("1.weight").toDoubles();   // [5, 2]
        double[] b0 = p.get("0.bias").toDoubles();
        double[] b1 = p.get("1.bias").toDoubles();
        double[] nodes = g.nodes().toDoubles();
        double[] edges = g.edges().toDoubles();
        int[] src = layout.edgeSources();
        int[] dst = layout.edgeTargets();
        for (int n = 0; n < 3; n++) {
            assertEquals(0.0, nodes[n], "input nodes carry no bias");
        }
        for (int j = 0; j < 5; j++) {
            assertEquals(b0[j], nodes[3 + j]);
        }
        for (int j = 0; j < 2; j++) {
            assertEquals(b1[j], nodes[8 + j]);
        }
        for (int e = 0; e < 25; e++) {
            if (e < 15) {
                int i = src[e];
                int o = dst[e] - 3;
                assertEquals(w0[i * 5 + o], edges[e], "edge " + e);
            } else {
                int i = src[e] - 3;
                int o = dst[e] - 8;
                assertEquals(w1[i * 2 + o], edges[e], "edge " + e);
            }
        }
    }

    @Test
    void roundTripIsBitIdenticalForEveryArchitecture() {
        Map<String, Module> modules = new LinkedHashMap<>();
        modules.put("mlp", Mlp.of(List.of(4, 6, 5, 3), Activation.TANH));
        modules.put("linear", Linear.of(3, 2));
        modules.put("linear without bias", new Linear(3, 2, false, dev.metaforge.api.nn.Initializer.torchDefault()));
        modules.put("cnn with residual and norm", cnn());
        modules.put("heads", heads());
        modules.put("global parameter", withGlobal());
        for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
            Engine e = engine.withDefaultDType(dtype);
            for (Map.Entry<String, Module> m : modules.entrySet()) {
                GraphLayout layout = GraphLayout.of(m.getValue());
                Params p = m.getValue().init(e, RandomStream.of(11));
                assertBitIdentical(p, layout.toParams(layout.toGraph(p)), m.getKey() + " " + dtype);
                Params batch = batchOf(m.getValue(), e, 3);
                ParamGraph g = layout.toGraph(batch);
                assertEquals(3, g.batchSize());
                assertTrue(g.batched());
                assertBitIdentical(batch, g.toParams(), m.getKey() + " batch " + dtype);
            }
        }
    }

    @Test
    void uploadedIndicesGiveTheSameGraphAndParameters() {
        Module net = withGlobal();
        GraphLayout layout = GraphLayout.of(net);
        Params p = batchOf(net, engine, 2);
        ParamGraph plain = layout.toGraph(p);
        try (GraphLayout.Indices indices = layout.indices(engine)) {
            ParamGraph g = layout.toGraph(p, indices);
            assertArrayBits(plain.edges().toDoubles(), g.edges().toDoubles(), "edges");
            assertArrayBits(plain.globals().toDoubles(), g.globals().toDoubles(), "globals");
            assertBitIdentical(p, layout.toParams(g.nodes(), g.edges(), g.globals(), true, indices), "round trip with indices");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GraphLayout.of(cnn()).toGraph(cnn().init(engine, RandomStream.of(1)), indices));
            assertTrue(e.getMessage().contains("another layout"), e.getMessage());
        }
    }

    @Test
    void batchedGraphStacksTheGraphsOfEachNetwork() {
        Module net = cnn();
        GraphLayout layout = GraphLayout.of(net);
        Params batch = batchOf(net, engine, 3);
        ParamGraph g = layout.toGraph(batch);
        for (int i = 0; i < 3; i++) {
            int k = i;
            ParamGraph single = layout.toGraph(batch.map(t -> t.slice(0, k, k + 1).squeeze(0)));
            assertArrayBits(single.nodes().toDoubles(), g.nodes().slice(0, i, i + 1).toDoubles(), "nodes of network " + i);
            assertArrayBits(single.edges().toDoubles(), g.edges().slice(0, i, i + 1).toDoubles(), "edges of network " + i);
        }
    }

    @Test
    void cnnGraphHasKernelEdgesNormNodesResidualIdentityEdgesAndFlattenedChannels() {
        Module net = cnn();
        GraphLayout layout = GraphLayout.of(net);
        // input(1) conv(4) norm-bias version(4) body conv(4) body norm-bias version(4) output(3)
        assertEquals(List.of(1, 4, 4, 4, 4, 3), layout.nodeSets().stream().map(NodeSet::size).toList());
        assertEquals(List.of("bias", "scale"), layout.nodeFeatureNames());
        assertEquals(16, layout.edgeFeatureWidth(), "a flattened channel's 16 positions are one edge's features");
        List<EdgeSet> sets = layout.edgeSets();
        assertEquals(List.of(EdgeKind.WEIGHT, EdgeKind.IDENTITY, EdgeKind.WEIGHT, EdgeKind.IDENTITY, EdgeKind.IDENTITY, EdgeKind.WEIGHT),
                sets.stream().map(EdgeSet::kind).toList());
        assertEquals(List.of(9, 1, 9, 1, 1, 16), sets.stream().map(EdgeSet::featureLength).toList());
        assertEquals("residual", sets.get(4).layerKind());
        // The residual joins the stream before the block (set 2) to the block's output (set 4).
        assertEquals(2, sets.get(4).from());
        assertEquals(4, sets.get(4).to());
        assertEquals(List.of(false, true, true, true, true, false), layout.nodeSets().stream().map(NodeSet::permutable).toList());

        Params p = net.init(engine, RandomStream.of(5));
        ParamGraph g = layout.toGraph(p);
        int fe = layout.edgeFeatureWidth();
        double[] edges = g.edges().toDoubles();
        double[] nodes = g.nodes().toDoubles();
        // Body conv [OUT=4, IN=4, 3, 3]: edge (i -> o) holds filters[o, i, :, :].
        double[] k = p.get("3.body.0.filters").toDoubles();
        EdgeSet body = sets.get(2);
        for (int i = 0; i < 4; i++) {
            for (int o = 0; o < 4; o++) {
                int edge = body.firstEdge() + i * 4 + o;
                for (int t = 0; t < 9; t++) {
                    assertEquals(k[((o * 4 + i) * 3 + t / 3) * 3 + t % 3], edges[edge * fe + t], "tap " + t + " of edge " + i + "->" + o);
                }
                for (int t = 9; t < fe; t++) {
                    assertEquals(0.0, edges[edge * fe + t], "padding");
                }
            }
        }
        // Identity edges carry 1 in feature 0.
        EdgeSet identity = sets.get(4);
        for (int j = 0; j < 4; j++) {
            assertEquals(1.0, edges[(identity.firstEdge() + j) * fe]);
        }
        // Norm: scale on the conv's nodes, its bias on the next version's nodes.
        double[] gamma = p.get("1.gamma").toDoubles();
        double[] beta = p.get("1.beta").toDoubles();
        double[] convBias = p.get("0.shift").toDoubles();
        NodeSet conv = layout.nodeSets().get(1);
        NodeSet normed = layout.nodeSets().get(2);
        for (int c = 0; c < 4; c++) {
            assertEquals(convBias[c], nodes[(conv.firstNode() + c) * 2]);
            assertEquals(gamma[c], nodes[(conv.firstNode() + c) * 2 + 1]);
            assertEquals(beta[c], nodes[(normed.firstNode() + c) * 2]);
        }
        // Linear after flatten [64, 3]: edge (channel c -> o) holds weight[c * 16 + r, o] at feature r.
        double[] w = p.get("5.weight").toDoubles();
        EdgeSet head = sets.get(5);
        assertEquals(4, head.from());
        for (int c = 0; c < 4; c++) {
            for (int o = 0; o < 3; o++) {
                for (int r = 0; r < 16; r++) {
                    assertEquals(w[(c * 16 + r) * 3 + o], edges[(head.firstEdge() + c * 3 + o) * fe + r]);
                }
            }
        }
    }

    @Test
    void headsAreBlocksOfOneTieClass() {
        NeuronSymmetry sym = NeuronSymmetry.of(heads());
        TieClass h = sym.classOf("2.heads");
        assertEquals(4, h.blocks());
        assertEquals(12, h.size());
        NeuronPermutation p = sym.random(RandomStream.of(2));
        int[] order = p.order(h.id());
        for (int b = 0; b < 4; b++) {
            int block = order[b * 3] / 3;
            for (int j = 0; j < 3; j++) {
                assertEquals(block, order[b * 3 + j] / 3, "a block must move as a whole: " + java.util.Arrays.toString(order));
            }
        }
    }

    @Test
    void residualTiesTheBlockOutputToTheStream() {
        NeuronSymmetry sym = NeuronSymmetry.of(cnn());
        assertEquals(List.of("0.channels", "3.body.0.channels"), sym.classOf("3.body.0.channels").groups());
        assertEquals(1, sym.permutableClasses().size());
        assertEquals(sym.classOf("0.channels"), sym.classOf("4.flat"), "a flattened group follows its channels");
    }

    @Test
    void globalParametersAreKeptWhole() {
        Module net = withGlobal();
        GraphLayout layout = GraphLayout.of(net);
        assertEquals(List.of("1.t"), layout.globalParams());
        Params p = net.init(engine, RandomStream.of(1));
        ParamGraph g = layout.toGraph(p);
        assertEquals(1.5, g.globals().toDoubles()[0]);
        assertNull(GraphLayout.of(Mlp.of(List.of(2, 2), Activation.RELU)).toGraph(Mlp.of(List.of(2, 2), Activation.RELU)
                .init(engine, RandomStream.of(1))).globals());
    }

    @Test
    void graphOfPermutedParametersIsThePermutedGraph() {
        for (Module net : List.of(cnn(), heads(), Mlp.of(List.of(3, 6, 6, 2), Activation.RELU))) {
            GraphLayout layout = GraphLayout.of(net);
            Params p = batchOf(net, engine, 2);
            for (int t = 0; t < 3; t++) {
                NeuronPermutation perm = layout.symmetry().random(RandomStream.of(t));
                assertTrue(perm.movesSomething());
                ParamGraph ofPermuted = layout.toGraph(layout.symmetry().apply(perm, p));
                ParamGraph permuted = layout.toGraph(p).permuted(perm);
                assertArrayBits(permuted.nodes().toDoubles(), ofPermuted.nodes().toDoubles(), net.kind() + " nodes");
                assertArrayBits(permuted.edges().toDoubles(), ofPermuted.edges().toDoubles(), net.kind() + " edges");
            }
        }
    }

    @Test
    void gradientsFlowThroughTheGraphConstructionAndItsInverse() {
        // loss = sum(c_n * nodes) + sum(d_e * edges^2) + sum(params back from a scaled graph): its gradient
        // with respect to each parameter entry is known in closed form through the slot maps, and we
        // check it against central finite differences (independent of the autodiff).
        Module net = cnn();
        GraphLayout layout = GraphLayout.of(net);
        Params p = net.init(engine, RandomStream.of(8)).requiringGrad();
        Tensor nodeWeights = engine.uniform(Shape.of(1, layout.nodeCount(), layout.nodeFeatureWidth()), -1, 1, 3);
        Tensor edgeWeights = engine.uniform(Shape.of(1, layout.edgeCount(), layout.edgeFeatureWidth()), -1, 1, 4);
        java.util.function.Function<Params, Tensor> loss = q -> {
            ParamGraph g = layout.toGraph(q);
            Tensor a = g.nodes().mul(nodeWeights).sum().add(g.edges().square().mul(edgeWeights).sum());
            Params back = g.withFeatures(g.nodes().mul(2.0), g.edges().tanh()).toParams();
            Tensor b = null;
            for (Tensor t : back.values()) {
                Tensor s = t.square().sum();
                b = b == null ? s : b.add(s);
            }
            return a.add(b);
        };
        Params grad = Grad.of(loss.apply(p)).wrt(p);
        RandomStream rng = RandomStream.of(9);
        for (ParamSpec spec : net.parameters()) {
            double[] analytic = grad.get(spec.name()).toDoubles();
            for (int probe = 0; probe < 3; probe++) {
                int i = rng.nextInt(analytic.length);
                double h = 1e-6;
                double numeric = (loss.apply(shift(p, spec.name(), i, h)).item() - loss.apply(shift(p, spec.name(), i, -h)).item()) / (2 * h);
                assertEquals(numeric, analytic[i], 1e-6 * Math.max(1, Math.abs(numeric)), spec.name() + "[" + i + "]");
            }
        }
    }

    @Test
    void aModuleThatLiesAboutItsAxesIsRejectedWithTheParameterNamed() {
        Module bad = new Module() {
            @Override
            public List<ParamSpec> parameters() {
                return List.of(new ParamSpec("w", Shape.of(3, 4), dev.metaforge.api.nn.ParamKind.WEIGHT, 3, 4,
                        dev.metaforge.api.nn.Initializer.zeros()));
            }

            @Override
            public Tensor apply(Params params, Tensor input) {
                return input.matmul(params.get("w"));
            }

            @Override
            public dev.metaforge.api.nn.NeuronGroup describe(dev.metaforge.api.nn.StructureBuilder b, String prefix,
                                                            dev.metaforge.api.nn.NeuronGroup input) {
                dev.metaforge.api.nn.NeuronGroup in = b.resolve(input, 4);   // wrong: the IN axis has 3
                dev.metaforge.api.nn.NeuronGroup out = b.group("out", 4);
                b.layer(prefix, "linear", in, out, Map.of("weight", "w"), Map.of());
                return out;
            }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GraphLayout.of(bad));
        assertTrue(e.getMessage().contains("parameter 'w'"), e.getMessage());
    }

    static Params batchOf(Module net, Engine e, int b) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        java.util.List<Params> members = new java.util.ArrayList<>();
        for (int i = 0; i < b; i++) {
            members.add(net.init(e, RandomStream.of(100 + i)));
        }
        for (ParamSpec s : net.parameters()) {
            out.put(s.name(), Tensor.stack(members.stream().map(m -> m.get(s.name())).toList(), 0));
        }
        return Params.of(out);
    }

    private static Params shift(Params p, String name, int i, double h) {
        return p.mapNamed((n, t) -> {
            if (!n.equals(name)) {
                return t.stopGradient();
            }
            double[] v = t.toDoubles();
            v[i] += h;
            return t.engine().tensor(v, t.shape(), t.dtype());
        });
    }

    static void assertBitIdentical(Params expected, Params actual, String what) {
        assertEquals(expected.names(), actual.names(), what);
        for (String n : expected.names()) {
            assertEquals(expected.get(n).shape(), actual.get(n).shape(), what + ": shape of " + n);
            assertEquals(expected.get(n).dtype(), actual.get(n).dtype(), what + ": dtype of " + n);
            assertArrayBits(expected.get(n).toDoubles(), actual.get(n).toDoubles(), what + ": " + n);
        }
    }

    static void assertArrayBits(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToLongBits(expected[i]) != Double.doubleToLongBits(actual[i])) {
                throw new AssertionError(what + ": entry " + i + " is " + actual[i] + ", expected bit for bit " + expected[i]);
            }
        }
    }
}
