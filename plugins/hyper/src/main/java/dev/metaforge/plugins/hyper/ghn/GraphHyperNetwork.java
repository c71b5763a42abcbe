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
 */
public final class GraphHyperNetwork {
    private final GraphEncoder encoder;
    private final LowRankDecoder decoder;

    public GraphHyperNetwork(GraphEncoder encoder, LowRankDecoder decoder) {
        this.encoder = encoder;
        this.decoder = decoder;
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
                out.put(spec.name(), decoder.decode(params.scoped("dec"), h.get(node), dims[0], cols).reshape(dims));
            } else {
                out.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
            }
        }
        return Params.of(out);
    }
}
