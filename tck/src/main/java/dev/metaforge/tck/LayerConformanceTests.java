package dev.metaforge.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.AvgPool2d;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Dropout;
import dev.metaforge.api.nn.Embedding;
import dev.metaforge.api.nn.Flatten;
import dev.metaforge.api.nn.LayerNorm;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.MaxPool2d;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.MultiHeadAttention;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.TransformerBlock;
import dev.metaforge.api.random.Philox;
import dev.metaforge.api.random.RandomStream;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * LAYER-*: every built-in layer (convolution with stride, padding, dilation and groups; max and
 * average pooling; BatchNorm in training mode with its running statistics; LayerNorm; dropout;
 * embedding; flatten; residual; causal multi-head attention; a transformer block) runs on the
 * backend under test through the same API code as on the float64 reference backend, from the same
 * parameters, inputs and random streams: outputs, new state and gradients agree (FLOAT32), gradients
 * match central finite differences (FLOAT64), second order through a convolution matches finite
 * differences of gradients, and a weight batch of networks in one call equals the networks one by one.
 */
@ExtendWith(TckExtension.class)
class LayerConformanceTests {
    private static final long SEED = 11;

    /**
     * A layer under test.
     *
     * @param name    shown in reports
     * @param module  the layer
     * @param input   the input shape
     * @param indices true for an INT64 index input (embedding), drawn in [0, vocab)
     */
    record Case(String name, Module module, Shape input, boolean indices) {
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("conv2d 3x3 pad 1", Conv2d.of(2, 3, 3).withPadding(1), Shape.of(2, 2, 5, 5), false));
        c.add(new Case("conv2d stride 2, pad 1, dilation 2, groups 2, no bias",
                new Conv2d(4, 6, 3, 2, new Conv2dOptions(new int[] {2, 1}, new int[] {1, 1}, new int[] {2, 1}, 2), false,
                        dev.metaforge.api.nn.Initializer.torchDefault()),
                Shape.of(2, 4, 7, 6), false));
        c.add(new Case("max-pool 2", MaxPool2d.of(2), Shape.of(2, 3, 4, 4), false));
        c.add(new Case("max-pool 3, stride 2, pad 1", MaxPool2d.of(3, 2, 1), Shape.of(1, 2, 5, 5), false));
        c.add(new Case("avg-pool 3, stride 2, pad 1", AvgPool2d.of(3, 2, 1), Shape.of(1, 2, 5, 5), false));
        c.add(new Case("batchnorm over channels", BatchNorm.of(3), Shape.of(4, 3, 3, 3), false));
        c.add(new Case("layernorm", LayerNorm.of(5), Shape.of(3, 4, 5), false));
        c.add(new Case("dropout 0.3", new Dropout(0.3), Shape.of(4, 5), false));
        c.add(new Case("embedding", new Embedding(7, 4), Shape.of(3, 5), true));
        c.add(new Case("flatten (last three axes) then linear", Sequential.of(new Flatten(-3, -1), Linear.of(12, 2)), Shape.of(2, 3, 2, 2), false));
        c.add(new Case("residual", new Residual(Sequential.of(Linear.of(4, 4), Activation.TANH)), Shape.of(3, 4), false));
        c.add(new Case("causal multi-head attention", new MultiHeadAttention(8, 2, true, true), Shape.of(2, 5, 8), false));
        c.add(new Case("transformer block", new TransformerBlock(8, 2, 16, 0.0, true), Shape.of(2, 4, 8), false));
        return c;
    }

    @TckRule(id = "LAYER-FORWARD-1")
    @DisplayName("LAYER-FORWARD-1 every layer's training output, new state and gradients in FLOAT32 agree with the float64 reference")
    @TestFactory
    Stream<DynamicTest> layersAgreeWithReference(TckContext tck) {
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
        return cases().stream().map(c -> dynamicTest(c.name(), () -> {
            try (Scope s = Scope.open()) {
                Result expected = run(c, reference);
                Result actual = run(c, engine);
                Compare.assertClose(expected.output(), actual.output(), 2e-4, 2e-5, c.name() + ": output");
                for (String n : expected.state().keySet()) {
                    Compare.assertClose(expected.state().get(n), actual.state().get(n), 2e-4, 2e-5, c.name() + ": state " + n);
                }
                for (String n : expected.gradient().keySet()) {
                    double[] e = expected.gradient().get(n);
                    Compare.assertClose(e, actual.gradient().get(n), 2e-3, 1e-4 * Math.max(1e-2, Compare.maxAbs(e)),
                            c.name() + ": gradient of " + n);
                }
            }
        }));
    }

    @TckRule(id = "LAYER-GRAD-1", capability = Capability.FLOAT64)
    @DisplayName("LAYER-GRAD-1 every layer's gradient in FLOAT64 matches central finite differences along a random direction")
    @TestFactory
    Stream<DynamicTest> gradientsMatchFiniteDifferences(TckContext tck) {
        Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
        return cases().stream().map(c -> dynamicTest(c.name(), () -> {
            try (Scope s = Scope.open()) {
                Params params = c.module().init(engine, RandomStream.of(SEED));
                Tensor input = input(c, engine);
                Params state = c.module().initState(engine, 0);
                Map<String, Tensor> all = new LinkedHashMap<>(params.asMap());
                if (!c.indices()) {
                    all.put("input", input);
                }
                Params point = Params.of(all);
                Params direction = point.mapNamed((n, t) -> engine.tensor(Philox.uniform(SEED + n.hashCode(), (int) t.size()),
                        t.shape(), DType.FLOAT64).sub(0.5));
                double analytic;
                try (Scope step = Scope.open()) {
                    Params tracked = point.requiringGrad();
                    Tensor loss = loss(c, tracked, input, state, engine);
                    Params g = Grad.of(loss).wrt(tracked);
                    analytic = 0;
                    for (String n : point.names()) {
                        analytic += g.get(n).mul(direction.get(n)).sum().item();
                    }
                }
                double h = 1e-5;
                double plus = loss(c, shifted(point, direction, h), input, state, engine).item();
                double minus = loss(c, shifted(point, direction, -h), input, state, engine).item();
                double numeric = (plus - minus) / (2 * h);
                Compare.assertClose(new double[] {numeric}, new double[] {analytic}, 1e-5, 1e-8,
                        c.name() + ": directional derivative of sum(output * R)");
            }
        }));
    }

    @TckRule(id = "LAYER-2ND-1", capability = Capability.FLOAT64)
    @DisplayName("LAYER-2ND-1 a Hessian-vector product through a strided, dilated, grouped convolution matches finite differences of gradients")
    @TestFactory
    Stream<DynamicTest> secondOrderThroughConvolution(TckContext tck) {
        Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
        return cases().subList(0, 2).stream().map(c -> dynamicTest(c.name(), () -> {
            try (Scope s = Scope.open()) {
                Module net = Sequential.of(c.module(), Activation.TANH);
                Params params = net.init(engine, RandomStream.of(SEED));
                Tensor x = input(c, engine);
                Map<String, Tensor> all = new LinkedHashMap<>(params.asMap());
                all.put("input", x);
                Params point = Params.of(all);
                Params v = point.mapNamed((n, t) -> engine.tensor(Philox.uniform(SEED + 7 * n.hashCode(), (int) t.size()),
                        t.shape(), DType.FLOAT64).sub(0.5));
                // Hv = grad <grad f, v>; compared with (grad f(p + h v) - grad f(p - h v)) / 2h.
                Params hv;
                try (Scope step = Scope.open()) {
                    Params tracked = point.requiringGrad();
                    Tensor f = net.apply(tracked.filter(n -> !n.equals("input")), tracked.get("input")).square().sum();
                    Params g = Grad.of(f).withGraph().wrt(tracked);
                    Tensor dot = null;
                    for (String n : point.names()) {
                        Tensor term = g.get(n).mul(v.get(n)).sum();
                        dot = dot == null ? term : dot.add(term);
                    }
                    hv = step.keep(Grad.of(dot).wrt(tracked));
                }
                double h = 1e-5;
                Params gp = gradient(net, shifted(point, v, h));
                Params gm = gradient(net, shifted(point, v, -h));
                for (String n : point.names()) {
                    double[] numeric = gp.get(n).sub(gm.get(n)).div(2 * h).toDoubles();
                    Compare.assertClose(numeric, hv.get(n).toDoubles(), 1e-4, 1e-6 * Math.max(1, Compare.maxAbs(numeric)),
                            c.name() + ": Hessian-vector product, block " + n);
                }
            }
        }));
    }

    @TckRule(id = "LAYER-WEIGHTBATCH-1")
    @DisplayName("LAYER-WEIGHTBATCH-1 three networks of every layer in one call equal the three networks one by one; a batch of one equals the unbatched call exactly")
    @TestFactory
    Stream<DynamicTest> weightBatchIdentity(TckContext tck) {
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        return cases().stream().filter(c -> !c.module().parameters().isEmpty()).map(c -> dynamicTest(c.name(), () -> {
            try (Scope s = Scope.open()) {
                // Per-network inputs [B, ...]: the one form every layer reads without ambiguity.
                List<Params> nets = new ArrayList<>();
                List<Tensor> inputs = new ArrayList<>();
                for (int b = 0; b < 3; b++) {
                    nets.add(c.module().init(engine, RandomStream.of(SEED + b)));
                    inputs.add(input(c, engine, SEED + 20 + b));
                }
                double[] batched = c.module().apply(stack(nets), Tensor.stack(inputs, 0)).toDoubles();
                int per = batched.length / 3;
                for (int b = 0; b < 3; b++) {
                    double[] single = c.module().apply(nets.get(b), inputs.get(b)).toDoubles();
                    assertEquals(per, single.length, c.name() + ": output size of network " + b);
                    double[] slice = java.util.Arrays.copyOfRange(batched, b * per, (b + 1) * per);
                    Compare.assertClose(single, slice, 1e-5, 1e-6, c.name() + ": network " + b + " of a weight batch of 3");
                }
                Tensor x = inputs.get(0);
                double[] one = c.module().apply(stack(nets.subList(0, 1)), x.expandDims(0)).toDoubles();
                double[] unbatched = c.module().apply(nets.get(0), x).toDoubles();
                assertEquals(unbatched.length, one.length, c.name() + ": size of a batch of one");
                Compare.assertIdentical(unbatched, one, c.name() + ": a weight batch of one equals the unbatched call exactly");
            }
        }));
    }

    /** Output, new state and gradients of sum(output * R) in TRAIN mode with a fixed stream. */
    record Result(double[] output, Map<String, double[]> state, Map<String, double[]> gradient) {
    }

    private static Result run(Case c, Engine engine) {
        Params params = c.module().init(engine, RandomStream.of(SEED));
        Tensor x = input(c, engine);
        Params state = c.module().initState(engine, 0);
        try (Scope s = Scope.open()) {
            Map<String, Tensor> all = new LinkedHashMap<>(params.asMap());
            if (!c.indices()) {
                all.put("input", x);
            }
            Params tracked = Params.of(all).requiringGrad();
            ModuleOutput out = c.module().forward(tracked.filter(n -> !n.equals("input")),
                    c.indices() ? x : tracked.get("input"), ModuleCall.train(state, RandomStream.of(SEED + 3)));
            Tensor weights = weights(out.output().shape(), engine);
            Params g = Grad.of(out.output().mul(weights).sum()).wrt(tracked);
            Map<String, double[]> st = new LinkedHashMap<>();
            out.state().asMap().forEach((n, t) -> st.put(n, t.toDoubles()));
            Map<String, double[]> gr = new LinkedHashMap<>();
            g.asMap().forEach((n, t) -> gr.put(n, t.toDoubles()));
            return new Result(out.output().toDoubles(), st, gr);
        }
    }

    private static Tensor loss(Case c, Params point, Tensor indexInput, Params state, Engine engine) {
        Tensor x = c.indices() ? indexInput : point.get("input");
        ModuleOutput out = c.module().forward(point.filter(n -> !n.equals("input")), x,
                ModuleCall.train(state, RandomStream.of(SEED + 3)));
        return out.output().mul(weights(out.output().shape(), engine)).sum();
    }

    private static Params gradient(Module net, Params point) {
        try (Scope s = Scope.open()) {
            Params tracked = point.requiringGrad();
            Tensor f = net.apply(tracked.filter(n -> !n.equals("input")), tracked.get("input")).square().sum();
            return s.keep(Grad.of(f).wrt(tracked));
        }
    }

    private static Tensor input(Case c, Engine engine) {
        return input(c, engine, SEED + 1);
    }

    private static Tensor input(Case c, Engine engine, long seed) {
        int n = c.input().sizeAsInt();
        if (c.indices()) {
            long[] idx = new long[n];
            RandomStream rng = RandomStream.of(seed);
            for (int i = 0; i < n; i++) {
                idx[i] = rng.nextInt(((Embedding) c.module()).vocab());
            }
            return engine.indices(idx, c.input().dims());
        }
        return engine.tensor(Philox.uniform(seed + 1, n), c.input(), engine.defaultDType()).mul(2.0).sub(1.0);
    }

    /** The fixed R of sum(output * R), so every output entry matters. */
    private static Tensor weights(Shape shape, Engine engine) {
        return engine.tensor(Philox.uniform(SEED + 4, shape.sizeAsInt()), shape, engine.defaultDType()).sub(0.5);
    }

    private static Params shifted(Params point, Params direction, double h) {
        return point.mapNamed((n, t) -> t.add(direction.get(n).mul(h)));
    }

    private static Params stack(List<Params> nets) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : nets.get(0).names()) {
            List<Tensor> parts = new ArrayList<>();
            for (Params p : nets) {
                parts.add(p.get(n));
            }
            out.put(n, Tensor.stack(parts, 0));
        }
        return Params.of(out);
    }

}
