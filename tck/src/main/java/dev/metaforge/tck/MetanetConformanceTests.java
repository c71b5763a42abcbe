package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.Net2Net;
import dev.metaforge.api.graph.NeuronPermutation;
import dev.metaforge.api.graph.ParamGraph;
import dev.metaforge.api.graph.PermutationHarness;
import dev.metaforge.api.graph.SymmetryReport;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.metanet.MetaNetworkSpec;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.MaxPool2d;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.TransformerBlock;
import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.StructureBuilder;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/**
 * GRAPH-* and METANET-*: the parameter graph ({@link GraphLayout}), the neuron-permutation symmetry
 * and harness ({@link PermutationHarness}), every built-in metanetwork (read from the
 * {@link MetaNetworkSpec} names the plugins register) and {@link Net2Net}, on the backend under
 * test. Architectures: an MLP, a residual MLP, a transformer-like block (layer norm, heads split into
 * blocks, residual MLP) and a CNN with per-channel normalisation, a residual block and a flatten;
 * all but the MLP are written here as third-party modules that only describe their structure.
 * References: bit-for-bit equality for copies (graph features, round trips), the float64 reference
 * backend for metanetwork outputs, central finite differences for gradients, the original network's
 * outputs for symmetries and Net2Net.
 */
@ExtendWith(TckExtension.class)
class MetanetConformanceTests {
    private static final long SEED = 17;

    /** A small configuration of every built-in metanetwork; a registered name missing here fails METANET-*-1. */
    static final Map<String, String> METANETWORKS = Map.of(
            "gnn", "{\"type\":\"gnn\",\"hidden\":6,\"layers\":2,\"outputs\":2,\"editScale\":0.5}",
            "nfn", "{\"type\":\"nfn\",\"channels\":4,\"layers\":2,\"outputs\":2,\"editScale\":0.5}");

    // ---- architectures, as third-party modules ------------------------------------------------

    /** {@code x + body(x)}: returns its input group. */
    record Skip(Module body) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return body.parameters().stream().map(s -> s.prefixed("body")).toList();
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return input.add(body.apply(params.scoped("body"), input));
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup h = body.describe(b, StructureBuilder.join(prefix, "body"), input);
            b.layer(prefix, "residual", b.current(h), b.current(input), Map.of(), Map.of());
            return b.current(input);
        }
    }

    /** Normalises the last axis, then a per-feature scale and shift (the group it reads is the group it writes). */
    record FeatureNorm(int d) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("g", Shape.of(d), ParamKind.SCALE, List.of(Axis.OUT), 1, 1, Initializer.uniform(1)),
                    new ParamSpec("s", Shape.of(d), ParamKind.BIAS, List.of(Axis.OUT), 1, 1, Initializer.uniform(1)));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            Tensor c = x.sub(x.mean(-1, true));
            return c.div(c.square().mean(-1, true).add(1e-5).sqrt()).mul(params.get("g")).add(params.get("s"));
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup g = b.resolve(input, d);
            b.layer(prefix, "layernorm", g, g, Map.of("scale", StructureBuilder.join(prefix, "g"), "bias", StructureBuilder.join(prefix, "s")),
                    Map.of());
            return g;
        }
    }

    /** Projects to {@code heads} blocks, softmax inside each block, projects back. */
    record Heads(int d, int heads, int size) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("up", Shape.of(d, heads * size), ParamKind.WEIGHT, d, heads * size, Initializer.torchDefault()),
                    new ParamSpec("down", Shape.of(heads * size, d), ParamKind.WEIGHT, heads * size, d, Initializer.torchDefault()));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            Tensor u = x.matmul(params.get("up"));
            return u.reshape(u.dim(0), heads, size).softmax(-1).reshape(u.dim(0), heads * size).matmul(params.get("down"));
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup in = b.resolve(input, d);
            NeuronGroup h = b.group(StructureBuilder.join(prefix, "heads"), heads * size, heads);
            b.layer(prefix + ".up", "linear", in, h, Map.of("weight", StructureBuilder.join(prefix, "up")), Map.of());
            NeuronGroup o = b.group(StructureBuilder.join(prefix, "out"), d);
            b.layer(prefix + ".down", "linear", h, o, Map.of("weight", StructureBuilder.join(prefix, "down")), Map.of());
            return o;
        }
    }

    /** A 3x3 same convolution, weight [OUT, IN, KERNEL, KERNEL] and bias [OUT]. */
    record Conv(int in, int out) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("k", Shape.of(out, in, 3, 3), ParamKind.CONV_WEIGHT, List.of(Axis.OUT, Axis.IN, Axis.KERNEL, Axis.KERNEL),
                    in * 9, out * 9, Initializer.torchDefault()),
                    new ParamSpec("b", Shape.of(out), ParamKind.BIAS, List.of(Axis.OUT), in * 9, out, Initializer.torchDefault()));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return x.conv2d(params.get("k"), Conv2dOptions.of(new int[] {1, 1}, new int[] {1, 1})).add(params.get("b").reshape(1, out, 1, 1));
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup i = b.resolve(input, in);
            NeuronGroup o = b.group(StructureBuilder.join(prefix, "ch"), out);
            b.layer(prefix, "conv2d", i, o, Map.of("weight", StructureBuilder.join(prefix, "k"), "bias", StructureBuilder.join(prefix, "b")),
                    Map.of());
            return o;
        }
    }

    /** Per-channel normalisation of NCHW maps with scale and shift. */
    record ChannelNorm(int c) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("g", Shape.of(c), ParamKind.SCALE, List.of(Axis.OUT), 1, 1, Initializer.uniform(1)),
                    new ParamSpec("s", Shape.of(c), ParamKind.BIAS, List.of(Axis.OUT), 1, 1, Initializer.uniform(1)));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            Tensor m = x.sub(x.mean(new int[] {0, 2, 3}, true));
            Tensor n = m.div(m.square().mean(new int[] {0, 2, 3}, true).add(1e-5).sqrt());
            return n.mul(params.get("g").reshape(1, c, 1, 1)).add(params.get("s").reshape(1, c, 1, 1));
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup g = b.resolve(input, c);
            b.layer(prefix, "batchnorm", g, g, Map.of("scale", StructureBuilder.join(prefix, "g"), "bias", StructureBuilder.join(prefix, "s")),
                    Map.of());
            return g;
        }
    }

    /** NCHW to [N, C*H*W]: a group derived from the channels. */
    record Flatten() implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of();
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return x.reshape(x.dim(0), -1);
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup flat = b.derived(StructureBuilder.join(prefix, "flat"), input);
            b.layer(prefix, "flatten", input, flat, Map.of(), Map.of());
            return flat;
        }
    }

    static Module mlp() {
        return Mlp.of(List.of(3, 6, 5, 2), Activation.TANH);
    }

    static Module residualMlp() {
        return Sequential.of(Linear.of(3, 6), Activation.TANH, new Skip(Sequential.of(Linear.of(6, 6), Activation.TANH)), Linear.of(6, 2));
    }

    static Module transformerBlock() {
        return Sequential.of(new Skip(Sequential.of(new FeatureNorm(4), new Heads(4, 2, 3))),
                new Skip(Sequential.of(new FeatureNorm(4), Linear.of(4, 8), Activation.RELU, Linear.of(8, 4))));
    }

    static Module cnn(int channels) {
        return Sequential.of(new Conv(1, channels), new ChannelNorm(channels), Activation.RELU,
                new Skip(Sequential.of(new Conv(channels, channels), new ChannelNorm(channels), Activation.RELU)), new Flatten(),
                Linear.of(channels * 9, 3));
    }

    static Module realResidualCnn() {
        return Sequential.of(Conv2d.of(1, 3, 3).withPadding(1), BatchNorm.of(3), Activation.RELU,
                new Residual(Sequential.of(Conv2d.of(3, 3, 3).withPadding(1), BatchNorm.of(3), Activation.RELU)),
                MaxPool2d.of(2), dev.metaforge.api.nn.Flatten.of(), Linear.of(3 * 2 * 2, 2));
    }

    /** Architecture name to (module, input shape). */
    static Map<String, Case> architectures() {
        Map<String, Case> m = new LinkedHashMap<>();
        m.put("mlp", new Case(mlp(), Shape.of(5, 3), false));
        m.put("residual mlp", new Case(residualMlp(), Shape.of(5, 3), false));
        m.put("transformer-like block", new Case(transformerBlock(), Shape.of(5, 4), false));
        m.put("cnn with norm, residual block and flatten", new Case(cnn(3), Shape.of(2, 1, 3, 3), true));
        // The real layers of api/nn (the cases above are stand-ins written as a third party would).
        m.put("api/nn residual cnn: conv2d, batchnorm, residual, maxpool2d, flatten, linear", new Case(realResidualCnn(), Shape.of(2, 1, 4, 4), true));
        m.put("api/nn transformer-block (heads as blocks)", new Case(new TransformerBlock(8, 2, 16, 0.0, false), Shape.of(2, 3, 8), false));
        return m;
    }

    record Case(Module module, Shape input, boolean convolution) {
    }

    // ---- GRAPH ---------------------------------------------------------------------------------

    @TckRule(id = "GRAPH-ROUNDTRIP-1")
    @DisplayName("GRAPH-ROUNDTRIP-1 params -> graph -> params is bit-identical for every architecture, one network and a weight batch")
    @TestFactory
    Stream<DynamicTest> roundTrip(TckContext tck) {
        return perArchitecture(tck, (name, c, dtype) -> {
            Engine engine = Engine.of(tck.backend(), dtype);
            GraphLayout layout = GraphLayout.of(c.module());
            Params one = c.module().init(engine, RandomStream.of(SEED));
            identical(one, layout.toParams(layout.toGraph(one)), name);
            Params batch = batch(c.module(), engine, 3);
            identical(batch, layout.toGraph(batch).toParams(), name + " (weight batch of 3)");
        });
    }

    @TckRule(id = "GRAPH-FEATURES-1")
    @DisplayName("GRAPH-FEATURES-1 node, edge and global features equal the reference backend's graph bit for bit")
    @TestFactory
    Stream<DynamicTest> featuresAgreeWithReference(TckContext tck) {
        return perArchitecture(tck, (name, c, dtype) -> {
            Engine engine = Engine.of(tck.backend(), dtype);
            Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
            GraphLayout layout = GraphLayout.of(c.module());
            Params p = batch(c.module(), engine, 2);
            ParamGraph actual = layout.toGraph(p);
            ParamGraph expected = layout.toGraph(copy(p, reference));
            Compare.assertIdentical(expected.nodes().toDoubles(), actual.nodes().toDoubles(), name + ": node features");
            Compare.assertIdentical(expected.edges().toDoubles(), actual.edges().toDoubles(), name + ": edge features");
            if (layout.globalWidth() > 0) {
                Compare.assertIdentical(expected.globals().toDoubles(), actual.globals().toDoubles(), name + ": globals");
            }
        });
    }

    @TckRule(id = "GRAPH-PERMUTE-1")
    @DisplayName("GRAPH-PERMUTE-1 the graph of permuted parameters is the relabelled graph, bit for bit")
    @TestFactory
    Stream<DynamicTest> permutedGraph(TckContext tck) {
        return perArchitecture(tck, (name, c, dtype) -> {
            Engine engine = Engine.of(tck.backend(), dtype);
            GraphLayout layout = GraphLayout.of(c.module());
            Params p = batch(c.module(), engine, 2);
            for (int t = 0; t < 3; t++) {
                NeuronPermutation perm = layout.symmetry().random(RandomStream.of(SEED + t));
                ParamGraph a = layout.toGraph(layout.symmetry().apply(perm, p));
                ParamGraph b = layout.toGraph(p).permuted(perm);
                Compare.assertIdentical(b.nodes().toDoubles(), a.nodes().toDoubles(), name + ": nodes under " + perm);
                Compare.assertIdentical(b.edges().toDoubles(), a.edges().toDoubles(), name + ": edges under " + perm);
            }
        });
    }

    @TckRule(id = "GRAPH-GRAD-1", capability = Capability.FLOAT64)
    @DisplayName("GRAPH-GRAD-1 gradients through the graph construction and its inverse match central finite differences (FLOAT64)")
    @TestFactory
    Stream<DynamicTest> gradientThroughGraph(TckContext tck) {
        return architectures().entrySet().stream().map(e -> dynamicTest(e.getKey(), () -> {
            try (Scope s = Scope.open()) {
                Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
                GraphLayout layout = GraphLayout.of(e.getValue().module());
                Tensor nw = engine.uniform(Shape.of(1, layout.nodeCount(), layout.nodeFeatureWidth()), -1, 1, SEED);
                Tensor ew = engine.uniform(Shape.of(1, layout.edgeCount(), layout.edgeFeatureWidth()), -1, 1, SEED + 1);
                Function<Params, Tensor> loss = q -> {
                    ParamGraph g = layout.toGraph(q);
                    Tensor a = g.nodes().tanh().mul(nw).sum().add(g.edges().square().mul(ew).sum());
                    Tensor b = null;
                    for (Tensor t : g.withFeatures(g.nodes().mul(ew.sum()), g.edges().sin()).toParams().values()) {
                        b = b == null ? t.square().sum() : b.add(t.square().sum());
                    }
                    return a.add(b);
                };
                directionalDerivative(engine, e.getValue().module().init(engine, RandomStream.of(SEED)), loss, e.getKey());
            }
        }));
    }

    @TckRule(id = "GRAPH-GRAD-2", capability = Capability.FLOAT64)
    @DisplayName("GRAPH-GRAD-2 Hessian-vector products through a metanetwork reading the graph match finite differences of gradients (FLOAT64)")
    @TestFactory
    Stream<DynamicTest> secondOrderThroughGraph(TckContext tck) {
        SpecRegistry specs = SpecRegistry.load(loader());
        return Stream.of(dynamicTest("gnn on an mlp", () -> {
            try (Scope s = Scope.open()) {
                Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
                Module net = mlp();
                MetaNetwork meta = specs.read(METANETWORKS.get("gnn"), MetaNetworkSpec.class, "TCK").build(GraphLayout.of(net));
                Params own = meta.init(engine, RandomStream.of(SEED));
                Params theta = net.init(engine, RandomStream.of(SEED + 1));
                Params v = randomDirection(theta, engine, SEED + 2);
                // The gradient at tracked parameters, recorded so it can be differentiated again.
                Function<Params, Params> grad = t -> {
                    Tensor f = meta.predict(own, meta.layout().toGraph(t)).tanh().sum();
                    return Grad.of(f).withGraph().wrt(t);
                };
                Params t = theta.requiringGrad();
                Params g = grad.apply(t);
                Tensor gv = null;
                for (String n : g.names()) {
                    Tensor term = g.get(n).mul(v.get(n)).sum();
                    gv = gv == null ? term : gv.add(term);
                }
                Params hv = Grad.of(gv).wrt(t);
                double h = 1e-5;
                Params plus = grad.apply(shifted(theta, v, h).requiringGrad());
                Params minus = grad.apply(shifted(theta, v, -h).requiringGrad());
                for (String n : theta.names()) {
                    double[] a = hv.get(n).toDoubles();
                    double[] p = plus.get(n).toDoubles();
                    double[] m = minus.get(n).toDoubles();
                    double[] numeric = new double[a.length];
                    for (int i = 0; i < a.length; i++) {
                        numeric[i] = (p[i] - m[i]) / (2 * h);
                    }
                    Compare.assertClose(numeric, a, 1e-4, 1e-7, "Hessian-vector product for " + n);
                }
            }
        }));
    }

    // ---- METANET -------------------------------------------------------------------------------

    @TckRule(id = "METANET-FUNCTION-1")
    @DisplayName("METANET-FUNCTION-1 random permutations of hidden neurons (ties, heads as blocks) leave every architecture's outputs unchanged")
    @TestFactory
    Stream<DynamicTest> permutationsKeepFunction(TckContext tck) {
        return perArchitecture(tck, (name, c, dtype) -> {
            Engine engine = Engine.of(tck.backend(), dtype);
            Params p = c.module().init(engine, RandomStream.of(SEED));
            Tensor x = engine.uniform(c.input(), -1, 1, SEED + 3);
            PermutationHarness.of(c.module()).trials(3).seed(SEED).tolerance(tolerance(dtype)).checkFunction(p, x).assertPassed();
        });
    }

    @TckRule(id = "METANET-HARNESS-1")
    @DisplayName("METANET-HARNESS-1 the permutation harness catches a metanetwork that reads a neuron's index and a module that hides a residual tie")
    @TestFactory
    Stream<DynamicTest> harnessCatchesPlantedBugs(TckContext tck) {
        return Stream.of(dynamicTest("index-reading metanetwork", () -> {
            try (Scope s = Scope.open()) {
                Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
                Module net = mlp();
                GraphLayout layout = GraphLayout.of(net);
                double[] ramp = new double[layout.nodeCount()];
                for (int i = 0; i < ramp.length; i++) {
                    ramp[i] = i;
                }
                Tensor index = engine.tensor(ramp, Shape.of(1, layout.nodeCount(), 1), DType.FLOAT32);
                SymmetryReport r = PermutationHarness.of(net).tolerance(1e-4)
                        .checkInvariant(net.init(engine, RandomStream.of(SEED)), q -> layout.toGraph(q).nodes().mul(index).sum());
                if (r.passed()) {
                    throw new AssertionFailedError("the harness passed a metanetwork that weights nodes by their index: " + r);
                }
            }
        }), dynamicTest("module hiding a residual tie", () -> {
            try (Scope s = Scope.open()) {
                Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
                Module hidden = new Module() {
                    @Override
                    public List<ParamSpec> parameters() {
                        return Linear.of(6, 6).parameters();
                    }

                    @Override
                    public Tensor apply(Params params, Tensor input) {
                        return input.add(Linear.of(6, 6).apply(params, input));
                    }

                    @Override
                    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
                        return Linear.of(6, 6).describe(b, prefix, input);
                    }
                };
                Module net = Sequential.of(Linear.of(3, 6), Activation.TANH, hidden, Linear.of(6, 2));
                SymmetryReport r = PermutationHarness.of(net).tolerance(1e-4)
                        .checkFunction(net.init(engine, RandomStream.of(SEED)), engine.uniform(Shape.of(4, 3), -1, 1, SEED));
                if (r.passed()) {
                    throw new AssertionFailedError("the harness passed a module whose residual addition is not described: " + r);
                }
            }
        }));
    }

    @TckRule(id = "METANET-INVARIANT-1")
    @DisplayName("METANET-INVARIANT-1 every built-in metanetwork's prediction is invariant to hidden-neuron permutations")
    @TestFactory
    Stream<DynamicTest> invariance(TckContext tck) {
        return perMetanetwork(tck, (meta, target, engine, dtype) -> {
            Params own = meta.init(engine, RandomStream.of(SEED));
            Params theta = target.init(engine, RandomStream.of(SEED + 1));
            PermutationHarness.of(target).trials(3).seed(SEED).tolerance(tolerance(dtype))
                    .checkInvariant(theta, p -> meta.predict(own, meta.layout().toGraph(p))).assertPassed();
        });
    }

    @TckRule(id = "METANET-EQUIVARIANT-1")
    @DisplayName("METANET-EQUIVARIANT-1 every built-in metanetwork's edited weights permute with its input's")
    @TestFactory
    Stream<DynamicTest> equivariance(TckContext tck) {
        return perMetanetwork(tck, (meta, target, engine, dtype) -> {
            Params own = meta.init(engine, RandomStream.of(SEED));
            Params theta = target.init(engine, RandomStream.of(SEED + 1));
            PermutationHarness.of(target).trials(3).seed(SEED).tolerance(tolerance(dtype))
                    .checkEquivariant(theta, p -> meta.edit(own, meta.layout().toGraph(p)).toParams()).assertPassed();
        });
    }

    @TckRule(id = "METANET-REFERENCE-1")
    @DisplayName("METANET-REFERENCE-1 every built-in metanetwork's prediction and edit on a weight batch agree with the float64 reference backend")
    @TestFactory
    Stream<DynamicTest> agreesWithReference(TckContext tck) {
        return perMetanetwork(tck, (meta, target, engine, dtype) -> {
            Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
            Params own = meta.init(engine, RandomStream.of(SEED));
            Params theta = batch(target, engine, 3);
            Params ownRef = copy(own, reference);
            Params thetaRef = copy(theta, reference);
            double rtol = dtype == DType.FLOAT32 ? 2e-3 : 1e-9;
            double atol = dtype == DType.FLOAT32 ? 1e-5 : 1e-12;
            Compare.assertClose(meta.predict(ownRef, meta.layout().toGraph(thetaRef)).toDoubles(),
                    meta.predict(own, meta.layout().toGraph(theta)).toDoubles(), rtol, atol, meta.kind() + ": prediction");
            Params expected = meta.edit(ownRef, meta.layout().toGraph(thetaRef)).toParams();
            Params actual = meta.edit(own, meta.layout().toGraph(theta)).toParams();
            for (String n : expected.names()) {
                Compare.assertClose(expected.get(n).toDoubles(), actual.get(n).toDoubles(), rtol, atol, meta.kind() + ": edited " + n);
            }
        });
    }

    @TckRule(id = "METANET-NET2NET-1")
    @DisplayName("METANET-NET2NET-1 Net2Net widen and deepen keep the outputs of an MLP (and of a CNN with norm and residual: CONVOLUTION)")
    @TestFactory
    Stream<DynamicTest> net2netPreservesFunction(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            tests.add(dynamicTest("mlp " + dtype, () -> {
                try (Scope s = Scope.open()) {
                    Engine engine = Engine.of(tck.backend(), dtype);
                    Mlp net = Mlp.of(List.of(3, 5, 4, 2), Activation.RELU);
                    Params p = net.init(engine, RandomStream.of(SEED));
                    Tensor x = engine.uniform(Shape.of(6, 3), -1, 1, SEED);
                    double[] expected = net.apply(p, x).toDoubles();
                    Net2Net.Grown w = Net2Net.widenMlp(net, p, 1, 9, 0.2, RandomStream.of(SEED));
                    Compare.assertClose(expected, w.module().apply(w.params(), x).toDoubles(), tolerance(dtype), tolerance(dtype), "widened mlp");
                    Net2Net.Grown d = Net2Net.deepenMlp(net, p, 0);
                    Compare.assertIdentical(expected, d.module().apply(d.params(), x).toDoubles(), "deepened mlp (identity layer after relu)");
                }
            }));
            if (tck.supports(Capability.CONVOLUTION)) {
                tests.add(dynamicTest("cnn " + dtype, () -> {
                    try (Scope s = Scope.open()) {
                        Engine engine = Engine.of(tck.backend(), dtype);
                        Module net = cnn(3);
                        Params p = net.init(engine, RandomStream.of(SEED));
                        Tensor x = engine.uniform(Shape.of(2, 1, 3, 3), -1, 1, SEED);
                        Module wider = cnn(5);
                        Params q = Net2Net.widen(net, p, wider, "0.ch", 0.2, RandomStream.of(SEED));
                        Compare.assertClose(net.apply(p, x).toDoubles(), wider.apply(q, x).toDoubles(), 10 * tolerance(dtype),
                                10 * tolerance(dtype), "widened cnn");
                    }
                }));
            }
        }
        return tests.stream();
    }

    // ---- helpers -------------------------------------------------------------------------------

    @FunctionalInterface
    interface ArchitectureCheck {
        void run(String name, Case c, DType dtype) throws Exception;
    }

    @FunctionalInterface
    interface MetanetCheck {
        void run(MetaNetwork meta, Module target, Engine engine, DType dtype) throws Exception;
    }

    private static Stream<DynamicTest> perArchitecture(TckContext tck, ArchitectureCheck check) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            for (Map.Entry<String, Case> e : architectures().entrySet()) {
                if (e.getValue().convolution() && !tck.supports(Capability.CONVOLUTION)) {
                    continue;
                }
                tests.add(dynamicTest(e.getKey() + " " + dtype, () -> {
                    try (Scope s = Scope.open()) {
                        check.run(e.getKey(), e.getValue(), dtype);
                    }
                }));
            }
        }
        return tests.stream();
    }

    private static Stream<DynamicTest> perMetanetwork(TckContext tck, MetanetCheck check) {
        SpecRegistry specs = SpecRegistry.load(loader());
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : specs.names(MetaNetworkSpec.class)) {
            String json = METANETWORKS.get(name);
            if (json == null) {
                tests.add(dynamicTest(name, () -> {
                    throw new AssertionFailedError("built-in metanetwork '" + name + "' has no configuration in MetanetConformanceTests.METANETWORKS");
                }));
                continue;
            }
            MetaNetworkSpec spec = specs.read(json, MetaNetworkSpec.class, "TCK metanetwork " + name);
            for (DType dtype : tck.floatingDTypes()) {
                int applicable = 0;
                for (Map.Entry<String, Case> e : architectures().entrySet()) {
                    MetaNetwork meta;
                    try {
                        meta = spec.build(GraphLayout.of(e.getValue().module()));
                    } catch (IllegalArgumentException notForThisArchitecture) {
                        continue; // e.g. nfn reads MLPs only; it says so when built
                    }
                    applicable++;
                    MetaNetwork m = meta;
                    tests.add(dynamicTest(name + " on " + e.getKey() + " " + dtype, () -> {
                        try (Scope s = Scope.open()) {
                            check.run(m, e.getValue().module(), Engine.of(tck.backend(), dtype), dtype);
                        }
                    }));
                }
                if (applicable == 0) {
                    tests.add(dynamicTest(name + " " + dtype, () -> {
                        throw new AssertionFailedError("metanetwork '" + name + "' reads none of the TCK's architectures");
                    }));
                }
            }
        }
        return tests.stream();
    }

    private static double tolerance(DType dtype) {
        return dtype == DType.FLOAT32 ? 1e-4 : 1e-10;
    }

    private static void identical(Params expected, Params actual, String what) {
        if (!expected.names().equals(actual.names())) {
            throw new AssertionFailedError(what + ": names " + actual.names() + " != " + expected.names());
        }
        for (String n : expected.names()) {
            if (!expected.get(n).shape().equals(actual.get(n).shape()) || expected.get(n).dtype() != actual.get(n).dtype()) {
                throw new AssertionFailedError(what + ": " + n + " is " + actual.get(n).dtype() + " " + actual.get(n).shape() + ", expected "
                        + expected.get(n).dtype() + " " + expected.get(n).shape());
            }
            Compare.assertIdentical(expected.get(n).toDoubles(), actual.get(n).toDoubles(), what + ": " + n);
        }
    }

    private static Params batch(Module net, Engine engine, int b) {
        List<Params> members = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            members.add(net.init(engine, RandomStream.of(SEED + 10 + i)));
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec s : net.parameters()) {
            out.put(s.name(), Tensor.stack(members.stream().map(m -> m.get(s.name())).toList(), 0));
        }
        return Params.of(out);
    }

    private static Params copy(Params params, Engine engine) {
        return params.map(t -> engine.tensor(t.toDoubles(), t.shape(), engine.defaultDType()));
    }

    private static Params randomDirection(Params like, Engine engine, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return like.map(t -> {
            double[] d = new double[(int) t.size()];
            for (int i = 0; i < d.length; i++) {
                d[i] = r.nextDouble() * 2 - 1;
            }
            return engine.tensor(d, t.shape(), t.dtype());
        });
    }

    private static Params shifted(Params params, Params direction, double h) {
        return params.zip(direction, (p, d) -> p.add(d.mul(h)));
    }

    private static void directionalDerivative(Engine engine, Params theta, Function<Params, Tensor> loss, String what) {
        Params v = randomDirection(theta, engine, SEED + 5);
        Params t = theta.requiringGrad();
        Params g = Grad.of(loss.apply(t)).wrt(t);
        double analytic = 0;
        for (String n : g.names()) {
            double[] gn = g.get(n).toDoubles();
            double[] vn = v.get(n).toDoubles();
            for (int i = 0; i < gn.length; i++) {
                analytic += gn[i] * vn[i];
            }
        }
        double h = 1e-6;
        double numeric = (loss.apply(shifted(theta, v, h)).item() - loss.apply(shifted(theta, v, -h)).item()) / (2 * h);
        Compare.assertClose(new double[] {numeric}, new double[] {analytic}, 1e-6, 1e-8, what + ": directional derivative");
    }

    private static ClassLoader loader() {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        return tccl != null ? tccl : MetanetConformanceTests.class.getClassLoader();
    }
}
