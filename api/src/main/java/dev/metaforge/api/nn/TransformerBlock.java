package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pre-LN transformer block (GPT-2 style) on [N, T, d]:
 * <pre>
 *   x = x + dropout(attn(ln1(x)))
 *   x = x + dropout(fc2(gelu(fc1(ln2(x)))))
 * </pre>
 * composed from {@link LayerNorm}, {@link MultiHeadAttention}, {@link Linear} and {@link Dropout};
 * GELU is the tanh approximation ({@link Tensor#gelu()}). Parameters live under {@code ln1.},
 * {@code attn.}, {@code ln2.}, {@code fc1.} ([d, hidden]) and {@code fc2.} ([hidden, d]).
 * {@link #forward} threads the call's mode, random stream and every child's state and auxiliary
 * values through a {@link ModuleOutput.Collector}; {@link #apply} runs without dropout.
 *
 * <p>The feed-forward slot: given an {@code ffn} module (any module mapping [.., d] to [.., d], e.g. a
 * mixture of experts), the second branch is {@code x + dropout(ffn(ln2(x)))} instead, with the ffn's
 * parameters under {@code ffn.}; its state (an aux-free router's bias) and auxiliary losses (balance,
 * z-loss) are threaded like every child's, under {@code ffn.}.
 *
 * <p>Weight batch: parameters [B, ...]; an input [N, T, d] is shared by the B networks (it is
 * broadcast to [B, N, T, d] once, as the residual stream is per network from the first addition on)
 * and an input [B, N, T, d] gives each its own. A batch of one takes the unbatched path and equals
 * it exactly.
 *
 * @param d       model width
 * @param heads   attention heads, dividing d
 * @param hidden  width of the feed-forward layer (4 d in GPT-2); 0 when {@code ffn} is given
 * @param dropout dropout probability on both residual branches, in [0, 1)
 * @param causal  whether attention is causal
 * @param ffn     the feed-forward module replacing fc1/gelu/fc2, or null for the GPT-2 MLP
 */
public record TransformerBlock(int d, int heads, int hidden, double dropout, boolean causal, Module ffn) implements Module {
    /** The GPT-2 block, with its fc1/gelu/fc2 feed-forward layer. */
    public TransformerBlock(int d, int heads, int hidden, double dropout, boolean causal) {
        this(d, heads, hidden, dropout, causal, null);
    }

    /** A block whose feed-forward branch is {@code ffn} (mapping [.., d] to [.., d]). */
    public static TransformerBlock withFeedForward(int d, int heads, double dropout, boolean causal, Module ffn) {
        return new TransformerBlock(d, heads, 0, dropout, causal, java.util.Objects.requireNonNull(ffn, "ffn is null"));
    }

    public TransformerBlock {
        if (ffn != null && hidden != 0) {
            throw new IllegalArgumentException("TransformerBlock with an ffn module has no hidden width of its own; got hidden=" + hidden);
        }
        if (d <= 0 || heads <= 0 || ffn == null && hidden <= 0) {
            throw new IllegalArgumentException("TransformerBlock needs positive sizes, got d=" + d + " heads=" + heads + " hidden="
                    + hidden);
        }
        if (d % heads != 0) {
            throw new IllegalArgumentException("TransformerBlock: heads = " + heads + " does not divide d = " + d);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("TransformerBlock needs dropout in [0, 1), got " + dropout);
        }
    }

    public LayerNorm ln1() {
        return LayerNorm.of(d);
    }

    public MultiHeadAttention attention() {
        return new MultiHeadAttention(d, heads, causal, true);
    }

    public LayerNorm ln2() {
        return LayerNorm.of(d);
    }

    public Linear fc1() {
        return Linear.of(d, hidden);
    }

    public Linear fc2() {
        return Linear.of(hidden, d);
    }

    private Dropout residualDropout() {
        return new Dropout(dropout);
    }

    /** The children with parameters, in order, with their names. */
    private Map<String, Module> children() {
        Map<String, Module> children = new LinkedHashMap<>();
        children.put("ln1", ln1());
        children.put("attn", attention());
        children.put("ln2", ln2());
        if (ffn != null) {
            children.put("ffn", ffn);
        } else {
            children.put("fc1", fc1());
            children.put("fc2", fc2());
        }
        return children;
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        children().forEach((name, child) -> child.parameters().forEach(s -> out.add(s.prefixed(name))));
        return out;
    }

    @Override
    public List<StateSpec> stateSpecs() {
        List<StateSpec> out = new ArrayList<>();
        if (ffn != null) {
            ffn.stateSpecs().forEach(s -> out.add(s.prefixed("ffn")));
        }
        return out;
    }

    @Override
    public String kind() {
        return "transformer-block";
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup stream = b.resolve(input, d);
        NeuronGroup normed = ln1().describe(b, StructureBuilder.join(prefix, "ln1"), stream);
        NeuronGroup attended = attention().describe(b, StructureBuilder.join(prefix, "attn"), normed);
        attended = residualDropout().describe(b, StructureBuilder.join(prefix, "drop1"), attended);
        b.layer(StructureBuilder.join(prefix, "residual1"), "residual", attended, stream, Map.of(), Map.of());
        normed = ln2().describe(b, StructureBuilder.join(prefix, "ln2"), stream);
        if (ffn != null) {
            NeuronGroup fed = ffn.describe(b, StructureBuilder.join(prefix, "ffn"), normed);
            fed = residualDropout().describe(b, StructureBuilder.join(prefix, "drop2"), fed);
            b.layer(StructureBuilder.join(prefix, "residual2"), "residual", fed, stream, Map.of(), Map.of());
            return stream;
        }
        NeuronGroup wide = fc1().describe(b, StructureBuilder.join(prefix, "fc1"), normed);
        b.layer(StructureBuilder.join(prefix, "fc1.act"), "activation", wide, wide, Map.of(), Map.of("activation", "gelu"));
        NeuronGroup back = fc2().describe(b, StructureBuilder.join(prefix, "fc2"), wide);
        back = residualDropout().describe(b, StructureBuilder.join(prefix, "drop2"), back);
        b.layer(StructureBuilder.join(prefix, "residual2"), "residual", back, stream, Map.of(), Map.of());
        return stream;
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        return forward(params, input, null).output();
    }

    @Override
    public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        int batch = weightBatch(params);
        boolean shared = input.rank() == 3;
        if (input.dim(-1) != d || !shared && (batch == 0 || input.rank() != 4 || input.dim(0) != batch)) {
            throw new IllegalArgumentException(this + ": input shape " + input.shape() + " must be [N, T, " + d + "]"
                    + (batch > 0 ? " (shared) or [" + batch + ", N, T, " + d + "]" : ""));
        }
        if (batch == 1) {
            // Same code as the unbatched call, so B = 1 agrees bit for bit.
            ModuleOutput out = run(WeightBatches.squeezeLeading(params), shared ? input : input.squeeze(0), call);
            return new ModuleOutput(out.output().expandDims(0), out.state(), out.losses(), out.metrics());
        }
        Tensor x = batch > 1 && shared ? input.expandDims(0).broadcastTo(WeightBatches.prepend(batch, input.shape())) : input;
        return run(params, x, call);
    }

    /**
     * The block on a stream whose form matches the parameters; {@code call} null is the plain call
     * (every child's {@code apply}, so no dropout and no state).
     */
    private ModuleOutput run(Params params, Tensor x, ModuleCall call) {
        ModuleOutput.Collector collector = new ModuleOutput.Collector();
        Tensor h = child(collector, "ln1", ln1(), params, x, call);
        h = child(collector, "attn", attention(), params, h, call);
        h = child(collector, "drop1", residualDropout(), params, h, call);
        Tensor stream = x.add(h);
        h = child(collector, "ln2", ln2(), params, stream, call);
        if (ffn != null) {
            h = child(collector, "ffn", ffn, params, h, call);
        } else {
            h = child(collector, "fc1", fc1(), params, h, call).gelu();
            h = child(collector, "fc2", fc2(), params, h, call);
        }
        h = child(collector, "drop2", residualDropout(), params, h, call);
        return collector.finish(stream.add(h));
    }

    private static Tensor child(ModuleOutput.Collector collector, String name, Module module, Params params, Tensor x, ModuleCall call) {
        Params own = module.parameters().isEmpty() ? Params.empty() : params.scoped(name);
        if (call == null) {
            return module.apply(own, x);
        }
        return collector.add(name, module.forward(own, x, call.child(name)));
    }

    @Override
    public String toString() {
        return "TransformerBlock(d " + d + ", heads " + heads + (ffn == null ? ", hidden " + hidden : ", ffn " + ffn.kind())
                + ", dropout " + dropout + (causal ? ", causal" : "") + ")";
    }
}
