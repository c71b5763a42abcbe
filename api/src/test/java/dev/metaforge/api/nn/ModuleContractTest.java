package dev.metaforge.api.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.Interval;
import dev.metaforge.api.hyper.IntervalBounds;
import dev.metaforge.api.hyper.IntervalParams;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Op;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.StatefulModel;
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
 * The module call contract (state, randomness and auxiliary values as explicit values), the
 * structure-as-data view, and the op names recorded for autodiff, on the float64 reference backend.
 * Expected values are computed by hand in each test.
 */
class ModuleContractTest {
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

    /**
     * A stateful, stochastic test layer: in TRAIN it counts calls in its state, draws one uniform
     * number from the call's stream (reported as a metric) and reports an aux loss 0.1 * sum(x).
     */
    record CountingLayer() implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of();
        }

        @Override
        public List<StateSpec> stateSpecs() {
            return List.of(new StateSpec("count", Shape.of(1), 0.0));
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return input;
        }

        @Override
        public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
            if (!call.training()) {
                return ModuleOutput.of(input, call.state());
            }
            Tensor count = call.state().get("count").add(1.0);
            double draw = call.random("counting layer").nextDouble();
            return ModuleOutput.of(input, Params.of(Map.of("count", count)))
                    .withLoss("penalty", input.sum().mul(0.1))
                    .withMetric("draw", input.engine().scalar(draw));
        }
    }

    private Sequential net() {
        return Sequential.of(new Linear(2, 3, true, Initializer.torchDefault()), new CountingLayer(), Activation.TANH,
                new CountingLayer());
    }

    @Test
    void sequentialThreadsStateAndAuxiliaryValuesUnderChildNames() {
        Sequential net = net();
        assertEquals(List.of("1.count", "3.count"), net.stateSpecs().stream().map(StateSpec::name).toList());
        Params p = net.init(engine, RandomStream.of(1));
        Params state = net.initState(engine, 0);
        Tensor x = engine.tensor(new double[] {0.5, -1, 2, 0.25}, 2, 2);

        ModuleOutput out = net.forward(p, x, ModuleCall.train(state, RandomStream.of(7)));
        assertEquals(List.of("1.count", "3.count"), out.state().names());
        assertArrayEquals(new double[] {1}, out.state().get("1.count").toDoubles());
        assertEquals(List.of("1.penalty", "3.penalty"), List.copyOf(out.losses().keySet()));
        assertEquals(List.of("1.draw", "3.draw"), List.copyOf(out.metrics().keySet()));
        // The first counting layer sees the linear layer's output, the second its tanh.
        Tensor h = net.layers().get(0).apply(p.scoped("0"), x);
        double expected = 0.1 * h.sum().item() + 0.1 * h.tanh().sum().item();
        assertEquals(expected, out.auxLoss().item(), 1e-12);
        // The plain call equals the forward output: the counting layers are identities.
        assertArrayEquals(net.apply(p, x).toDoubles(), out.output().toDoubles(), 0);

        ModuleOutput again = net.forward(p, x, ModuleCall.train(out.state(), RandomStream.of(7)));
        assertArrayEquals(new double[] {2}, again.state().get("3.count").toDoubles());

        ModuleOutput eval = net.forward(p, x, ModuleCall.eval(again.state()));
        assertSame(again.state().get("1.count"), eval.state().get("1.count"), "eval must not change the state");
        assertTrue(eval.losses().isEmpty());
    }

    @Test
    void childStreamsAreReproducibleAndIndependent() {
        Sequential net = net();
        Params p = net.init(engine, RandomStream.of(1));
        Tensor x = engine.tensor(new double[] {1, 2}, 1, 2);
        ModuleOutput a = net.forward(p, x, ModuleCall.train(net.initState(engine, 0), RandomStream.of(3)));
        ModuleOutput b = net.forward(p, x, ModuleCall.train(net.initState(engine, 0), RandomStream.of(3)));
        assertEquals(a.metrics().get("1.draw").item(), b.metrics().get("1.draw").item(), 0);
        assertTrue(a.metrics().get("1.draw").item() != a.metrics().get("3.draw").item(),
                "two children must get different draws from their split streams");
    }

    @Test
    void aModuleNeedingRandomnessFailsClearlyWithoutAStream() {
        CountingLayer layer = new CountingLayer();
        ModuleCall noStream = new ModuleCall(Mode.TRAIN, null, layer.initState(engine, 0));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> layer.forward(Params.empty(), engine.ones(1), noStream));
        assertTrue(e.getMessage().contains("counting layer needs a random stream"), e.getMessage());
    }

    @Test
    void stateIsWeightBatchAware() {
        Params state = net().initState(engine, 4);
        assertEquals(Shape.of(4, 1), state.get("1.count").shape());
    }

    @Test
    void statefulModelKeepsStateAcrossScopesAndSumsAuxLosses() {
        StatefulModel model = new StatefulModel(net(), engine, 0);
        Params p;
        try (Scope s = Scope.open()) {
            p = s.escape(net().init(engine, RandomStream.of(2)));
        }
        Tensor x = engine.tensor(new double[] {1, -1}, 1, 2);
        double aux;
        double task;
        double total;
        try (Scope step = Scope.open()) {
            ModuleOutput out = model.train(p, x, RandomStream.of(5));
            Tensor taskLoss = out.output().square().sum();
            LossTerms terms = StatefulModel.lossTerms(taskLoss, out);
            aux = out.auxLoss().item();
            task = taskLoss.item();
            total = terms.total().item();
            assertEquals(List.of("1.penalty", "3.penalty"), List.copyOf(terms.parts().keySet()));
        }
        assertEquals(task + aux, total, 1e-12);
        // The state survived the step's scope.
        assertArrayEquals(new double[] {1}, model.state().get("3.count").toDoubles());
        model.eval(p, x);
        assertArrayEquals(new double[] {1}, model.state().get("3.count").toDoubles());
        Params wrong = Params.of(Map.of("1.count", engine.zeros(1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.loadState(wrong));
        assertTrue(e.getMessage().contains("[1.count, 3.count]"), e.getMessage());
        model.close();
        p.close();
    }

    @Test
    void structureOfAnMlpNamesLayersGroupsAndParameters() {
        Mlp mlp = Mlp.of(List.of(3, 5, 2), Activation.RELU);
        ModuleStructure s = mlp.structure();
        assertEquals(List.of("linear", "activation", "linear", "activation"), s.layers().stream().map(LayerInfo::kind).toList());
        LayerInfo first = s.layers().get(0);
        assertEquals("0.weight", first.param("weight"));
        assertEquals("0.bias", first.param("bias"));
        assertEquals(3, s.group(s.input()).size());
        assertEquals(5, s.group(first.output()).size());
        assertEquals(2, s.group(s.output()).size());
        assertEquals("relu", s.layers().get(1).attribute("activation"));
        assertEquals("identity", s.layers().get(3).attribute("activation"));
        assertEquals(List.of("0.out"), s.hiddenGroups().stream().map(NeuronGroup::id).toList());
        ParamSpec w = mlp.parameters().get(0);
        assertEquals(List.of(Axis.IN, Axis.OUT), w.axes());
        assertEquals(1, w.axisOf(Axis.OUT));
    }

    @Test
    void structureRejectsALayerReadingTheWrongWidth() {
        Sequential bad = Sequential.of(Linear.of(3, 4), Linear.of(5, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, bad::structure);
        assertTrue(e.getMessage().contains("reads 5 features from group '0.out', which has 4"), e.getMessage());
    }

    @Test
    void aModuleWithParametersMustDescribeItself() {
        Module opaque = new Module() {
            @Override
            public List<ParamSpec> parameters() {
                return List.of(new ParamSpec("w", Shape.of(2, 2), ParamKind.WEIGHT, 2, 2, Initializer.zeros()));
            }

            @Override
            public Tensor apply(Params params, Tensor input) {
                return input.matmul(params.get("w"));
            }

            @Override
            public String kind() {
                return "opaque";
            }
        };
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, opaque::structure);
        assertTrue(e.getMessage().contains("module 'opaque'") && e.getMessage().contains("[w]"), e.getMessage());
    }

    @Test
    void paramSpecAxesMustMatchTheRank() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ParamSpec("w", Shape.of(2, 3),
                ParamKind.WEIGHT, List.of(Axis.OUT), 2, 3, Initializer.zeros()));
        assertTrue(e.getMessage().contains("needs one per dimension"), e.getMessage());
        assertEquals(List.of(Axis.OUT, Axis.IN, Axis.KERNEL, Axis.KERNEL),
                new ParamSpec("k", Shape.of(4, 3, 3, 3), ParamKind.CONV_WEIGHT, 27, 36, Initializer.zeros()).axes());
    }

    /**
     * A module written as a third party would: its own parameter names, no Metaforge layer class,
     * describing a linear layer and a tanh. Interval bounds read the description only.
     */
    record ThirdPartyDense(int in, int out) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("kernel", Shape.of(in, out), ParamKind.WEIGHT, in, out, Initializer.torchDefault()),
                    new ParamSpec("offset", Shape.of(out), ParamKind.BIAS, in, out, Initializer.torchDefault()));
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return input.matmul(params.get("kernel")).add(params.get("offset")).tanh();
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup inGroup = b.resolve(input, in);
            NeuronGroup outGroup = b.group(StructureBuilder.join(prefix, "out"), out);
            Map<String, String> params = new LinkedHashMap<>();
            params.put("weight", StructureBuilder.join(prefix, "kernel"));
            params.put("bias", StructureBuilder.join(prefix, "offset"));
            b.layer(prefix, "linear", inGroup, outGroup, params, Map.of());
            b.layer(prefix + ".act", "activation", outGroup, outGroup, Map.of(), Map.of("activation", "tanh"));
            return outGroup;
        }
    }

    @Test
    void intervalBoundsReadTheStructureNotTheClass() {
        ThirdPartyDense custom = new ThirdPartyDense(2, 3);
        Mlp builtIn = new Mlp(List.of(2, 3), Activation.TANH, Activation.TANH, Initializer.torchDefault());
        Params pc = custom.init(engine, RandomStream.of(4));
        Params pm = Params.of(Map.of("0.weight", pc.get("kernel"), "0.bias", pc.get("offset")));
        Params rc = pc.map(t -> t.abs().mul(0.1));
        Params rm = Params.of(Map.of("0.weight", rc.get("kernel"), "0.bias", rc.get("offset")));
        Tensor x = engine.tensor(new double[] {0.3, -0.7, 1.5, 0.2}, 2, 2);
        Interval a = IntervalBounds.apply(custom, new IntervalParams(pc, rc), IntervalBounds.point(x));
        Interval b = IntervalBounds.apply(builtIn, new IntervalParams(pm, rm), IntervalBounds.point(x));
        assertArrayEquals(b.lower().toDoubles(), a.lower().toDoubles(), 0);
        assertArrayEquals(b.upper().toDoubles(), a.upper().toDoubles(), 0);
        // Sound: the point weights' output lies inside the bounds.
        double[] y = custom.apply(pc, x).toDoubles();
        double[] lo = a.lower().toDoubles();
        double[] hi = a.upper().toDoubles();
        for (int i = 0; i < y.length; i++) {
            assertTrue(lo[i] <= y[i] && y[i] <= hi[i], "output " + i + " outside its interval");
        }
    }

    @Test
    void recordedTensorsNameTheirPrimitive() {
        Tensor w = engine.tensor(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad();
        Tensor y = w.matmul(w).sum();
        assertEquals(Op.SUM, y.op());
        assertEquals("sum", y.op().opName());
        assertEquals(null, w.op(), "a leaf has no primitive");
        assertEquals(null, engine.ones(2).add(1.0).op(), "untracked results record nothing");
    }
}
