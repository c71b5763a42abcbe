package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A graph hypernetwork: {@link GraphEncoder} over a module's {@link ComputationGraph}, then the
 * LoGAH {@link LowRankDecoder} for every layer's "weight" (rank ≥ 2). Other parameters (biases,
 * norm scales) are not predicted: they take their declared initialisation from {@code rng}
 * (simplified against GHN-2, which also predicts them).
 *
 * <p>Predicted weights of "linear" and "conv2d" layers are divided by √fan-in (a linear weight
 * [in, out] has fan-in {@code in}, a convolution [out, in, k, k] has {@code in·k²}), in the spirit of
 * GHN-2's parameter normalisation: the decoder then emits unit-scale values for every width, and a
 * layer's pre-activations keep their scale whatever the width of the layer before.
 */
public final class GraphHyperNetwork {
    private final GraphEncoder encoder;
    private final LowRankDecoder decoder;

    public GraphHyperNetwork(GraphEncoder encoder, LowRankDecoder decoder) {
        this.encoder = encoder;
        this.decoder = decoder;
    }

    /**
     * The decoder size that serves every layer of {@code modules}: the largest first axis and the
     * largest product of the other axes over their predicted weights (kernel side 1: a convolution's
     * in·k² counts as its input width).
     */
    public static DecoderSize sizeFor(List<? extends Module> modules, int embed, int hidden) {
        int rows = 1;
        int cols = 1;
        for (Module m : modules) {
            java.util.Set<String> weights = new java.util.HashSet<>();
            for (LayerInfo layer : m.structure().layers()) {
                if (layer.param("weight") != null) {
                    weights.add(layer.param("weight"));
                }
            }
            for (ParamSpec spec : m.parameters()) {
                int[] dims = spec.shape().dims();
                if (weights.contains(spec.name()) && dims.length >= 2) {
                    rows = Math.max(rows, dims[0]);
                    cols = Math.max(cols, Math.toIntExact(spec.shape().size() / dims[0]));
                }
            }
        }
        return new DecoderSize(embed, hidden, rows, cols, 1);
    }

    /** The graph network. */
    public GraphEncoder encoder() {
        return encoder;
    }

    /** The LoGAH decoder. */
    public LowRankDecoder decoder() {
        return decoder;
    }

    /** Encoder parameters, then the decoder's under "dec.". */
    public Params init(Engine engine, RandomStream rng) {
        return encoder.init(engine, rng).merge(decoder.mlp().init(engine, rng).prefixed("dec"));
    }

    /** Parameters for {@code module}: predicted weights, declared initialisation for the rest. */
    public Params predict(Engine engine, Params params, Module module, RandomStream rng) {
        ComputationGraph graph = ComputationGraph.of(module);
        List<Tensor> h = encoder.encode(engine, params, graph);
        Map<String, Integer> nodeOfWeight = new HashMap<>();
        List<LayerInfo> layers = module.structure().layers();
        for (int i = 0; i < layers.size(); i++) {
            String w = layers.get(i).param("weight");
            if (w != null) {
                nodeOfWeight.put(w, i + 1); // node 0 is the input
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : module.parameters()) {
            int[] dims = spec.shape().dims();
            Integer node = nodeOfWeight.get(spec.name());
            if (node != null && dims.length >= 2) {
                int cols = 1;
                for (int i = 1; i < dims.length; i++) {
                    cols *= dims[i];
                }
                Tensor w = decoder.decode(params.scoped("dec"), h.get(node), dims[0], cols);
                String kind = graph.nodes().get(node).kind();
                int fanIn = kind.equals("linear") ? dims[0] : kind.equals("conv2d") ? cols : 1;
                out.put(spec.name(), (fanIn > 1 ? w.mul(1.0 / Math.sqrt(fanIn)) : w).reshape(dims));
            } else {
                out.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
            }
        }
        return Params.of(out);
    }
}
