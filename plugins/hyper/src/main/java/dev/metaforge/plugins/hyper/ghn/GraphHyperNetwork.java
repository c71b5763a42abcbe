package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Linear;
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
 * LoGAH {@link LowRankDecoder} for every layer's "weight" (rank 2 for linear layers, rank 4 for
 * convolutions) and a linear bias head for every layer's "bias" (as GHN-2 predicts biases too).
 * Other parameters (norm scales and shifts) are not predicted: they take their declared
 * initialisation from {@code rng}.
 *
 * <p>Predicted weights and biases of "linear" and "conv2d" layers are divided by √fan-in (a linear
 * weight [in, out] has fan-in {@code in}, a convolution [out, in, k, k] has {@code in·k²}), in the
 * spirit of GHN-2's parameter normalisation: the decoder then emits unit-scale values for every
 * width, and a layer's pre-activations keep their scale whatever the width of the layer before.
 */
public final class GraphHyperNetwork {
    private final GraphEncoder encoder;
    private final LowRankDecoder decoder;
    private final int maxBias;

    /** {@code maxBias}: the longest bias the bias head serves. */
    public GraphHyperNetwork(GraphEncoder encoder, LowRankDecoder decoder, int maxBias) {
        if (maxBias < 1) {
            throw new IllegalArgumentException("maxBias must be >= 1, got " + maxBias);
        }
        this.encoder = encoder;
        this.decoder = decoder;
        this.maxBias = maxBias;
    }

    /**
     * What the decoders must serve for every layer of {@code modules}: the largest first and second
     * weight axes, the largest (odd, square) kernel, and the longest bias.
     *
     * @param size decoder size
     * @param maxBias longest predicted bias
     */
    public record Sizes(DecoderSize size, int maxBias) {
    }

    /** The sizes that serve every layer of {@code modules}; refuses non-square or even kernels. */
    public static Sizes sizeFor(List<? extends Module> modules, int embed, int hidden) {
        int rows = 1;
        int cols = 1;
        int kernel = 1;
        int bias = 1;
        for (Module m : modules) {
            java.util.Set<String> weights = new java.util.HashSet<>();
            java.util.Set<String> biases = new java.util.HashSet<>();
            for (LayerInfo layer : m.structure().layers()) {
                if (layer.param("weight") != null) {
                    weights.add(layer.param("weight"));
                }
                if (layer.param("bias") != null) {
                    biases.add(layer.param("bias"));
                }
            }
            for (ParamSpec spec : m.parameters()) {
                int[] dims = spec.shape().dims();
                if (weights.contains(spec.name()) && dims.length >= 2) {
                    rows = Math.max(rows, dims[0]);
                    cols = Math.max(cols, dims[1]);
                    kernel = Math.max(kernel, kernelOf(spec.name(), dims));
                } else if (biases.contains(spec.name()) && dims.length == 1) {
                    bias = Math.max(bias, dims[0]);
                }
            }
        }
        return new Sizes(new DecoderSize(embed, hidden, rows, cols, kernel), bias);
    }

    /** 1 for a matrix, k for a square odd kernel [out, in, k, k]; anything else is refused. */
    private static int kernelOf(String name, int[] dims) {
        if (dims.length == 2) {
            return 1;
        }
        if (dims.length == 4 && dims[2] == dims[3] && dims[2] % 2 == 1) {
            return dims[2];
        }
        throw new IllegalArgumentException("the graph hypernetwork predicts matrices and square odd kernels [out, in, k, k];"
                + " parameter '" + name + "' has shape " + java.util.Arrays.toString(dims));
    }

    /** The graph network. */
    public GraphEncoder encoder() {
        return encoder;
    }

    /** The LoGAH decoder. */
    public LowRankDecoder decoder() {
        return decoder;
    }

    /** Trainable parameters: encoder, decoder ("dec."), bias head ("bias.weight" [embed, maxBias]). */
    public long parameterCount() {
        long n = (long) encoder.embed() * maxBias;
        for (ParamSpec p : encoder.parameters()) {
            n += p.shape().size();
        }
        for (ParamSpec p : decoder.parameters()) {
            n += p.shape().size();
        }
        return n;
    }

    /** Encoder parameters, then the decoder's under "dec.", then the bias head's under "bias.". */
    public Params init(Engine engine, RandomStream rng) {
        Params head = Linear.of(encoder.embed(), maxBias).init(engine, rng);
        return encoder.init(engine, rng).merge(decoder.mlp().init(engine, rng).prefixed("dec"))
                .merge(Params.of(Map.of("weight", head.get("weight"))).prefixed("bias"));
    }

    /** Parameters for {@code module}: predicted weights and biases, declared initialisation for the rest. */
    public Params predict(Engine engine, Params params, Module module, RandomStream rng) {
        ComputationGraph graph = ComputationGraph.of(module);
        List<Tensor> h = encoder.encode(engine, params, graph);
        Map<String, Integer> nodeOfWeight = new HashMap<>();
        Map<String, Integer> nodeOfBias = new HashMap<>();
        Map<Integer, Integer> fanInOfNode = new HashMap<>();
        List<LayerInfo> layers = module.structure().layers();
        for (int i = 0; i < layers.size(); i++) {
            String w = layers.get(i).param("weight");
            if (w != null) {
                nodeOfWeight.put(w, i + 1); // node 0 is the input
            }
            String b = layers.get(i).param("bias");
            if (b != null) {
                nodeOfBias.put(b, i + 1);
            }
        }
        for (int node = 1; node < graph.nodes().size(); node++) {
            int[] w = graph.nodes().get(node).params().get("weight");
            String kind = graph.nodes().get(node).kind();
            if (w != null && (kind.equals("linear") || kind.equals("conv2d"))) {
                // A linear weight is [in, out]; a convolution [out, in, k, k].
                fanInOfNode.put(node, kind.equals("linear") ? w[0] : w[1] * w[2] * w[3]);
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : module.parameters()) {
            int[] dims = spec.shape().dims();
            Integer node = nodeOfWeight.get(spec.name());
            Integer biasNode = nodeOfBias.get(spec.name());
            if (node != null && dims.length >= 2) {
                Tensor w = decoder.decode(params.scoped("dec"), h.get(node), dims[0], dims[1], kernelOf(spec.name(), dims));
                out.put(spec.name(), scaled(w, fanInOfNode.get(node)).reshape(dims)); // a 1x1 kernel comes back as a matrix
            } else if (biasNode != null && dims.length == 1 && dims[0] <= maxBias) {
                Tensor b = h.get(biasNode).matmul(params.get("bias.weight").slice(1, 0, dims[0])).reshape(dims[0]);
                out.put(spec.name(), scaled(b, fanInOfNode.get(biasNode)));
            } else {
                out.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
            }
        }
        return Params.of(out);
    }

    private static Tensor scaled(Tensor t, Integer fanIn) {
        return fanIn != null && fanIn > 1 ? t.mul(1.0 / Math.sqrt(fanIn)) : t;
    }
}
