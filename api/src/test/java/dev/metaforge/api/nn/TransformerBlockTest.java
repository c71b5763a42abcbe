package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static dev.metaforge.api.nn.LayerChecks.randomParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TransformerBlockTest {
    private final Engine engine = LayerChecks.engine();
    private static final TransformerBlock BLOCK = new TransformerBlock(4, 2, 6, 0.25, true);
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** The pre-LN equations, evaluated layer by layer, with GELU (tanh form) written out in Java. */
    @Test
    void plainCallIsThePreLayerNormBlock() {
        Params p = randomParams(engine, BLOCK, 1);
        Tensor x = random(engine, 2, 2, 3, 4);
        Tensor stream = x.add(new MultiHeadAttention(4, 2, true, true).apply(p.scoped("attn"), LayerNorm.of(4).apply(p.scoped("ln1"), x)));
        Tensor pre = Linear.of(4, 6).apply(p.scoped("fc1"), LayerNorm.of(4).apply(p.scoped("ln2"), stream));
        double[] h = pre.toDoubles();
        for (int i = 0; i < h.length; i++) {
            double u = h[i];
            h[i] = 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)));
        }
        Tensor expected = stream.add(Linear.of(6, 4).apply(p.scoped("fc2"), engine.tensor(h, pre.shape().dims())));
        Tensor y = BLOCK.apply(p, x);
        assertEquals(Shape.of(2, 3, 4), y.shape());
        assertArrayEquals(expected.toDoubles(), y.toDoubles(), 1e-12);
        assertArrayEquals(y.toDoubles(), BLOCK.forward(p, x, ModuleCall.eval(Params.empty())).output().toDoubles(), 0.0,
                "evaluation is the plain call");
    }

    /**
     * The feed-forward slot: a block whose ffn is the same MLP (linear, gelu, linear) as a sequential module, given the
     * same numbers under the ffn's names, computes exactly what the built-in block computes, and describes that ffn.
     */
    @Test
    void anFfnModuleTakesTheFeedForwardBranch() {
        TransformerBlock builtIn = new TransformerBlock(4, 2, 6, 0.0, true);
        TransformerBlock slotted = TransformerBlock.withFeedForward(4, 2, 0.0, true, new GeluMlp(4, 6));
        Params p = randomParams(engine, builtIn, 3);
        Params renamed = p.mapNamed((name, t) -> t);
        java.util.Map<String, Tensor> moved = new java.util.LinkedHashMap<>();
        for (String name : p.names()) {
            moved.put(name.replace("fc1.", "ffn.up.").replace("fc2.", "ffn.down."), renamed.get(name));
        }
        Params q = Params.of(moved);
        assertEquals(slotted.parameters().stream().map(ParamSpec::name).toList(), q.names(), "parameter names under ffn.");
        Tensor x = random(engine, 4, 2, 3, 4);
        assertArrayEquals(builtIn.apply(p, x).toDoubles(), slotted.apply(q, x).toDoubles(), 0.0);
        ModuleOutput out = slotted.forward(q, x, ModuleCall.train(Params.empty(), RandomStream.of(2)));
        assertArrayEquals(builtIn.apply(p, x).toDoubles(), out.output().toDoubles(), 0.0);
        List<String> layers = slotted.structure().layers().stream().map(LayerInfo::name).toList();
        assertTrue(layers.containsAll(List.of("ffn.up", "ffn.act", "ffn.down", "residual2")), layers.toString());
        assertThrows(IllegalArgumentException.class, () -> new TransformerBlock(4, 2, 6, 0.0, true, Linear.of(4, 4)));
    }

    /** A feed-forward module written outside the block: up, gelu, down. */
    private record GeluMlp(int d, int hidden) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            List<ParamSpec> out = new java.util.ArrayList<>();
            Linear.of(d, hidden).parameters().forEach(s -> out.add(s.prefixed("up")));
            Linear.of(hidden, d).parameters().forEach(s -> out.add(s.prefixed("down")));
            return out;
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return Linear.of(hidden, d).apply(params.scoped("down"), Linear.of(d, hidden).apply(params.scoped("up"), x).gelu());
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup wide = Linear.of(d, hidden).describe(b, StructureBuilder.join(prefix, "up"), input);
            b.layer(StructureBuilder.join(prefix, "act"), "activation", wide, wide, java.util.Map.of(), java.util.Map.of("activation", "gelu"));
            return Linear.of(hidden, d).describe(b, StructureBuilder.join(prefix, "down"), wide);
        }
    }

    /** Training applies dropout from the call's stream: reproducible from the seed, different across seeds. */
    @Test
    void trainingCallsThreadTheRandomStreamToDropout() {
        Params p = randomParams(engine, BLOCK, 3);
        Tensor x = random(engine, 4, 2, 3, 4);
        Tensor plain = BLOCK.apply(p, x);
        ModuleOutput a = BLOCK.forward(p, x, ModuleCall.train(Params.empty(), RandomStream.of(5)));
        ModuleOutput b = BLOCK.forward(p, x, ModuleCall.train(Params.empty(), RandomStream.of(5)));
        ModuleOutput c = BLOCK.forward(p, x, ModuleCall.train(Params.empty(), RandomStream.of(6)));
        assertArrayEquals(a.output().toDoubles(), b.output().toDoubles(), 0.0, "same stream, same masks");
        assertTrue(LayerChecks.maxDifference(a.output(), c.output()) > 1e-6, "another stream, other masks");
        assertTrue(LayerChecks.maxDifference(a.output(), plain) > 1e-6, "training drops entries");
        assertTrue(a.state().isEmpty() && a.losses().isEmpty());
        TransformerBlock noDropout = new TransformerBlock(4, 2, 6, 0.0, true);
        assertArrayEquals(noDropout.apply(p, x).toDoubles(),
                noDropout.forward(p, x, ModuleCall.train(Params.empty(), RandomStream.of(5))).output().toDoubles(), 0.0);
        assertThrows(IllegalStateException.class, () -> BLOCK.forward(p, x, new ModuleCall(Mode.TRAIN, null, Params.empty())));
    }

    @Test
    void parametersAreNamedByTheirSublayer() {
        assertEquals(List.of("ln1.weight", "ln1.bias", "attn.q.weight", "attn.q.bias", "attn.k.weight", "attn.k.bias", "attn.v.weight",
                "attn.v.bias", "attn.out.weight", "attn.out.bias", "ln2.weight", "ln2.bias", "fc1.weight", "fc1.bias", "fc2.weight",
                "fc2.bias"), BLOCK.parameters().stream().map(ParamSpec::name).toList());
        assertEquals(Shape.of(4, 6), BLOCK.parameters().get(12).shape());
        // 2 * (4 + 4) layer norms + 4 * (16 + 4) attention + (24 + 6) + (24 + 4) feed-forward
        assertEquals(16 + 80 + 30 + 28, BLOCK.parameterCount());
    }

    /** Both residual adds land in the block's input group: one tied stream through the block. */
    @Test
    void describesOneTiedResidualStream() {
        ModuleStructure s = Sequential.of(Linear.of(3, 4), BLOCK, Linear.of(4, 2)).structure();
        List<String> names = s.layers().stream().map(LayerInfo::name).toList();
        assertEquals(List.of("0", "1.ln1", "1.attn.q", "1.attn.k", "1.attn.v", "1.attn", "1.attn.out", "1.drop1", "1.residual1",
                "1.ln2", "1.fc1", "1.fc1.act", "1.fc2", "1.drop2", "1.residual2", "2"), names);
        for (LayerInfo layer : s.layers()) {
            if (layer.kind().equals("residual") || layer.kind().equals("layernorm")) {
                assertEquals("0.out", layer.output(), layer.name() + " writes the stream");
            }
        }
        assertEquals("0.out", s.layers().get(15).input(), "the layer after the block reads the stream");
        assertEquals("gelu", s.layers().get(11).attribute("activation"));
        assertEquals(2, s.group("1.attn.qk").blocks());
        assertEquals(6, s.group("1.fc1.out").size());
    }

    @Test
    void invalidSizesAreErrors() {
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class, () -> new TransformerBlock(64, 6, 128, 0, false));
        assertTrue(heads.getMessage().contains("heads = 6 does not divide d = 64"), heads.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TransformerBlock(4, 2, 8, 1.0, false));
        assertThrows(IllegalArgumentException.class, () -> new TransformerBlock(4, 2, 0, 0.1, false));
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> BLOCK.apply(randomParams(engine, BLOCK, 1), random(engine, 1, 3, 4)));
        assertTrue(shape.getMessage().contains("[3, 4]"), shape.getMessage());
    }
}
