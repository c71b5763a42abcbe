package dev.metaforge.plugins.metanet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.PermutationHarness;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.metanet.MetaNetworkSpec;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.StructureBuilder;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
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
 * A module written as a third-party plugin would write it -- its own class, its own parameter
 * names ("proj", "shift", "gain", "temp"), a kind no metanetwork code knows -- declares its
 * structure through describe() and goes through the graph and the built-in gnn with no
 * metanetwork code change: bit-identical round trip, invariant predictions, equivariant edits.
 */
class ThirdPartyPluginModuleTest {
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

    /** y = gain * tanh(x @ proj + shift) * temp: a gated projection with a per-network temperature. */
    record GatedProjection(int in, int out) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(
                    new ParamSpec("proj", Shape.of(in, out), ParamKind.WEIGHT, List.of(Axis.IN, Axis.OUT), in, out, Initializer.xavierUniform()),
                    new ParamSpec("shift", Shape.of(out), ParamKind.BIAS, List.of(Axis.OUT), in, out, Initializer.uniform(0.5)),
                    new ParamSpec("gain", Shape.of(out), ParamKind.SCALE, List.of(Axis.OUT), in, out, Initializer.normal(1.0)),
                    new ParamSpec("temp", Shape.of(1, 1), ParamKind.OTHER, List.of(Axis.OTHER, Axis.OTHER), 1, 1, Initializer.constant(0.7)));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return x.matmul(params.get("proj")).add(params.get("shift")).tanh().mul(params.get("gain")).mul(params.get("temp"));
        }

        @Override
        public String kind() {
            return "acme-gated-projection";
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup x = b.resolve(input, in);
            NeuronGroup y = b.group(StructureBuilder.join(prefix, "out"), out);
            b.layer(prefix, kind(), x, y, Map.of("weight", StructureBuilder.join(prefix, "proj"), "bias", StructureBuilder.join(prefix, "shift"),
                    "scale", StructureBuilder.join(prefix, "gain"), "temp", StructureBuilder.join(prefix, "temp")), Map.of());
            return y;
        }
    }

    static Module net() {
        return Sequential.of(new GatedProjection(3, 5), new GatedProjection(5, 4), Linear.of(4, 2));
    }

    @Test
    void thirdPartyModuleRoundTripsAndDrivesTheGnnUnchanged() {
        Module net = net();
        GraphLayout layout = GraphLayout.of(net);
        Params p = net.init(engine, RandomStream.of(9));
        Params back = layout.toParams(layout.toGraph(p));
        assertEquals(p.names(), back.names());
        for (String n : p.names()) {
            double[] a = p.get(n).toDoubles();
            double[] b = back.get(n).toDoubles();
            for (int i = 0; i < a.length; i++) {
                assertEquals(Double.doubleToLongBits(a[i]), Double.doubleToLongBits(b[i]), n + "[" + i + "] not bit-identical");
            }
        }
        assertEquals(2, layout.globalWidth(), "the two temperatures are per-network globals");

        PermutationHarness h = PermutationHarness.of(net).trials(3).tolerance(1e-10);
        h.checkFunction(p, engine.uniform(Shape.of(4, 3), -1, 1, 2)).assertPassed();
        SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
        MetaNetwork meta = specs.read("{\"type\": \"gnn\", \"hidden\": 8, \"layers\": 2, \"editScale\": 0.5}", MetaNetworkSpec.class, "test")
                .build(layout);
        Params own = meta.init(engine, RandomStream.of(1));
        h.checkInvariant(p, q -> meta.predict(own, meta.layout().toGraph(q))).assertPassed();
        h.checkEquivariant(p, q -> meta.edit(own, meta.layout().toGraph(q)).toParams()).assertPassed();
        Params edited = meta.edit(own, layout.toGraph(p)).toParams();
        double change = 0;
        for (String n : p.names()) {
            change += edited.get(n).sub(p.get(n)).abs().sum().item();
        }
        assertTrue(change > 1e-6, "the edit changed nothing");
    }
}
