package dev.metaforge.plugins.metanet;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.graph.EdgeKind;
import dev.metaforge.api.graph.EdgeSet;
import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.NodeSet;
import dev.metaforge.api.graph.ParamGraph;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A permutation-equivariant weight-space network for MLPs in the style of NFN (Zhou et al. 2023,
 * "Permutation Equivariant Neural Functionals", the NP layer) and DWSNets (Navon et al. 2023): it
 * works on the weight matrices and bias vectors directly, not on a graph, with C channels per entry.
 *
 * <p>Defining property: each layer is a linear map of the weight space that commutes with every
 * permutation of hidden neurons, {@code L(P theta) = P L(theta)} (the input and output neurons are not
 * permuted). Built from the terms such a map may contain: for weight {@code W_l[i, o]} (in, out) and
 * bias {@code b_l[o]}, the entry itself; its means over {@code i}, over {@code o} and over both; the
 * bias of its output neuron; the incoming weights' mean and the bias of its input neuron (layer l-1);
 * the outgoing weights' mean of its output neuron (layer l+1); and per-layer means of every layer
 * (invariant). Each term has its own C x C' matrix per layer: a subset of the NP basis (no terms that
 * use the fixed input/output positions). Proved by {@code NeuralFunctionalNetworkTest} and the TCK's
 * {@code METANET-INVARIANT-1} / {@code METANET-EQUIVARIANT-1} with the permutation harness.
 *
 * <p>It reads the {@link ParamGraph} of a chain of dense layers (each with an optional bias); any other
 * layout (kernels, residual edges, normalisation parameters, globals) is rejected at build time — use
 * {@code "gnn"} for those.
 */
final class NeuralFunctionalNetwork implements MetaNetwork {
    private final GraphLayout layout;
    private final int channels;
    private final int layers;
    private final int outputs;
    private final double editScale;
    private final List<EdgeSet> weights;
    private final List<NodeSet> biasSets;
    private final int biasColumn;
    private final List<ParamSpec> specs;

    NeuralFunctionalNetwork(GraphLayout layout, int channels, int layers, int outputs, double editScale) {
        this.layout = requireNonNull(layout, "layout is null");
        this.channels = channels;
        this.layers = layers;
        this.outputs = outputs;
        this.editScale = editScale;
        this.weights = List.copyOf(layout.edgeSets());
        this.biasSets = new ArrayList<>();
        this.biasColumn = layout.nodeFeatureNames().indexOf("bias");
        if (layout.globalWidth() > 0 || layout.nodeFeatureWidth() != 1 || layout.edgeFeatureWidth() != 1) {
            throw new IllegalArgumentException("the nfn metanetwork reads chains of dense layers with biases; this network's graph has "
                    + layout + ". Use the gnn metanetwork for convolutions, normalisation, residual connections or free-form parameters");
        }
        int expectedFrom = 0;
        int edges = 0;
        for (EdgeSet s : weights) {
            if (s.kind() != EdgeKind.WEIGHT || s.from() != expectedFrom || s.firstEdge() != edges) {
                throw new IllegalArgumentException("the nfn metanetwork reads a chain of dense layers, but edge set " + s
                        + " does not continue the chain; use the gnn metanetwork for this architecture");
            }
            expectedFrom = s.to();
            edges += s.count();
            biasSets.add(layout.nodeSets().get(s.to()));
        }
        if (layout.nodeSets().size() != weights.size() + 1) {
            throw new IllegalArgumentException("the nfn metanetwork needs one node set per layer output; got " + layout.nodeSets());
        }
        int n = weights.size();
        List<ParamSpec> s = new ArrayList<>();
        int in = 1;
        for (int k = 0; k < layers; k++) {
            int c = channels;
            for (int l = 0; l < n; l++) {
                String p = "layer" + k + ".w" + l;
                Dense.declare(s, p + ".self", in, c, true);
                Dense.declare(s, p + ".rowMean", in, c, false);
                Dense.declare(s, p + ".columnMean", in, c, false);
                Dense.declare(s, p + ".mean", in, c, false);
                Dense.declare(s, p + ".bias", in, c, false);
                if (l > 0) {
                    Dense.declare(s, p + ".incoming", in, c, false);
                    Dense.declare(s, p + ".inputBias", in, c, false);
                }
                if (l + 1 < n) {
                    Dense.declare(s, p + ".outgoing", in, c, false);
                }
                Dense.declare(s, p + ".global", 2 * n * in, c, false);
                String q = "layer" + k + ".b" + l;
                Dense.declare(s, q + ".self", in, c, true);
                Dense.declare(s, q + ".mean", in, c, false);
                Dense.declare(s, q + ".incoming", in, c, false);
                if (l + 1 < n) {
                    Dense.declare(s, q + ".outgoing", in, c, false);
                }
                Dense.declare(s, q + ".global", 2 * n * in, c, false);
            }
            in = c;
        }
        Dense.declare(s, "head.hidden", 2 * n * in, channels, true);
        Dense.declare(s, "head.out", channels, outputs, true);
        for (int l = 0; l < n; l++) {
            Dense.declare(s, "decoder.w" + l, in, 1, true);
            Dense.declare(s, "decoder.b" + l, in, 1, true);
        }
        this.specs = List.copyOf(s);
    }

    @Override
    public GraphLayout layout() {
        return layout;
    }

    @Override
    public List<ParamSpec> parameters() {
        return specs;
    }

    @Override
    public int outputs() {
        return outputs;
    }

    @Override
    public String kind() {
        return "nfn";
    }

    @Override
    public Tensor predict(Params params, ParamGraph graph) {
        Space s = run(params, graph);
        return Dense.apply(params, "head.out", Dense.apply(params, "head.hidden", global(s)).relu());
    }

    @Override
    public ParamGraph edit(Params params, ParamGraph graph) {
        Space s = run(params, graph);
        int b = graph.batchSize();
        List<Tensor> edgeParts = new ArrayList<>();
        List<Tensor> nodeParts = new ArrayList<>();
        NodeSet input = layout.nodeSets().get(0);
        nodeParts.add(graph.nodes().engine().zeros(dev.metaforge.spi.Shape.of(b, input.size(), 1), graph.nodes().dtype()));
        for (int l = 0; l < weights.size(); l++) {
            EdgeSet e = weights.get(l);
            edgeParts.add(Dense.apply(params, "decoder.w" + l, s.w.get(l)).reshape(b, e.count(), 1));
            nodeParts.add(Dense.apply(params, "decoder.b" + l, s.b.get(l)));
        }
        Tensor dn = Tensor.concat(nodeParts, 1);
        Tensor de = Tensor.concat(edgeParts, 1);
        return graph.withFeatures(graph.nodes().add(dn.mul(editScale)), graph.edges().add(de.mul(editScale)));
    }

    /** Weights [B, I, O, C] and biases [B, O, C] per layer. */
    private record Space(List<Tensor> w, List<Tensor> b) {
    }

    private Space run(Params p, ParamGraph graph) {
        requireNonNull(graph, "graph is null");
        if (graph.layout().edgeCount() != layout.edgeCount() || graph.layout().nodeCount() != layout.nodeCount()) {
            throw new IllegalArgumentException("nfn metanetwork built for " + layout + " got a graph of " + graph.layout());
        }
        int b = graph.batchSize();
        List<Tensor> w = new ArrayList<>();
        List<Tensor> bias = new ArrayList<>();
        for (int l = 0; l < weights.size(); l++) {
            EdgeSet e = weights.get(l);
            NodeSet from = layout.nodeSets().get(e.from());
            NodeSet to = biasSets.get(l);
            w.add(graph.edges().slice(1, e.firstEdge(), e.firstEdge() + e.count()).reshape(b, from.size(), to.size(), 1));
            bias.add(graph.nodes().slice(1, to.firstNode(), to.firstNode() + to.size()).slice(2, biasColumn, biasColumn + 1));
        }
        Space s = new Space(w, bias);
        for (int k = 0; k < layers; k++) {
            s = layer(p, "layer" + k, s);
            if (k + 1 < layers) {
                s = new Space(s.w.stream().map(Tensor::relu).toList(), s.b.stream().map(Tensor::relu).toList());
            }
        }
        return s;
    }

    private Space layer(Params p, String name, Space in) {
        int n = in.w.size();
        int b = in.w.get(0).dim(0);
        List<Tensor> rowMean = new ArrayList<>();
        List<Tensor> columnMean = new ArrayList<>();
        for (Tensor w : in.w) {
            rowMean.add(w.mean(2, true));       // [B, I, 1, C]: a neuron's outgoing weights in this layer
            columnMean.add(w.mean(1, true));    // [B, 1, O, C]: a neuron's incoming weights
        }
        Tensor global = global(in);             // [B, 2nC]
        List<Tensor> w2 = new ArrayList<>();
        List<Tensor> b2 = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            String p1 = name + ".w" + l;
            Tensor w = in.w.get(l);
            Tensor bias = in.b.get(l);                      // [B, O, C]
            int c = w.dim(3);
            Tensor out = Dense.apply(p, p1 + ".self", w)
                    .add(Dense.apply(p, p1 + ".rowMean", rowMean.get(l)))
                    .add(Dense.apply(p, p1 + ".columnMean", columnMean.get(l)))
                    .add(Dense.apply(p, p1 + ".mean", w.mean(new int[] {1, 2}, true)))
                    .add(Dense.apply(p, p1 + ".bias", bias.expandDims(1)));
            if (l > 0) {
                // Neuron i of this layer's input is neuron i of the previous layer's output.
                out = out.add(Dense.apply(p, p1 + ".incoming", columnMean.get(l - 1).transpose(0, 2, 1, 3)))
                        .add(Dense.apply(p, p1 + ".inputBias", in.b.get(l - 1).expandDims(2)));
            }
            if (l + 1 < n) {
                out = out.add(Dense.apply(p, p1 + ".outgoing", rowMean.get(l + 1).transpose(0, 2, 1, 3)));
            }
            out = out.add(Dense.apply(p, p1 + ".global", global).reshape(b, 1, 1, -1));
            w2.add(out);
            String q = name + ".b" + l;
            Tensor ob = Dense.apply(p, q + ".self", bias)
                    .add(Dense.apply(p, q + ".mean", bias.mean(1, true)))
                    .add(Dense.apply(p, q + ".incoming", columnMean.get(l).reshape(b, -1, c)));
            if (l + 1 < n) {
                ob = ob.add(Dense.apply(p, q + ".outgoing", rowMean.get(l + 1).reshape(b, -1, c)));
            }
            ob = ob.add(Dense.apply(p, q + ".global", global).reshape(b, 1, -1));
            b2.add(ob);
        }
        return new Space(w2, b2);
    }

    /** Per layer: the mean of its weights and of its biases, per channel: [B, 2nC], invariant. */
    private static Tensor global(Space s) {
        int b = s.w.get(0).dim(0);
        List<Tensor> parts = new ArrayList<>();
        for (int l = 0; l < s.w.size(); l++) {
            parts.add(s.w.get(l).mean(new int[] {1, 2}, false));
            parts.add(s.b.get(l).mean(1, false));
        }
        Tensor g = Tensor.concat(parts, -1);
        return g.reshape(b, -1);
    }
}
