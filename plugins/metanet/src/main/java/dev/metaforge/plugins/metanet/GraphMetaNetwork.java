package dev.metaforge.plugins.metanet;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.graph.EdgeKind;
import dev.metaforge.api.graph.EdgeSet;
import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.NodeSet;
import dev.metaforge.api.graph.ParamGraph;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * A message-passing graph metanetwork over the parameter graph (Lim et al. 2023, "Graph
 * Metanetworks for Processing Diverse Neural Architectures"), with edge updates and PNA aggregation
 * (Corso et al. 2020: mean, max and standard deviation of the messages, each scaled by the identity,
 * an amplification {@code log(d+1)/delta} and an attenuation {@code delta/log(d+1)} of the node's
 * degree d).
 *
 * <p>Defining property (Lim et al.): the metanetwork is equivariant to the parameter graph's
 * automorphisms, which include every neuron permutation of the network it reads, so its invariant
 * head ({@link #predict}) gives the same numbers for permuted networks and its equivariant head
 * ({@link #edit}) permutes with them. Proved by {@code GraphMetaNetworkTest} and the TCK's
 * {@code METANET-INVARIANT-1} / {@code METANET-EQUIVARIANT-1} with
 * {@link dev.metaforge.api.graph.PermutationHarness}.
 *
 * <p>One layer, with node states h [N, B, d] and edge states e [E, B, d] (node-major so gathers and
 * segment sums work on axis 0):
 * <pre>
 *   e   <- e + W2 relu(Ws h[src] + Wd h[dst] + We e)                 edge update
 *   m_f  = relu(Af h[src] + Bf e),   m_b = relu(Ab h[dst] + Bb e)    forward and backward messages
 *   a_f  = PNA(m_f grouped by dst),  a_b = PNA(m_b grouped by src)   [N, B, 9d] each
 *   h   <- h + U2 relu(U1 [h, a_f, a_b])                              node update
 * </pre>
 * Messages flow both ways (towards the outputs and back to the inputs), as GMN's bidirectional
 * layers do. Inputs: node features (biases, normalisation parameters) with constant descriptors
 * (role, depth, and the position of input and output neurons only); edge features (weights, kernels)
 * with the edge kind. Invariant head: mean and max over nodes and mean over edges, then an MLP.
 * Equivariant head: {@code theta' = theta + editScale * dec(h, e)}, a linear decoder per node and
 * per edge.
 */
final class GraphMetaNetwork implements MetaNetwork {
    private static final double NEGATIVE = -1e30;

    private final GraphLayout layout;
    private final MessageIndex index;
    private final int hidden;
    private final int layers;
    private final int outputs;
    private final double editScale;
    private final boolean blocks;
    private final List<ParamSpec> specs;

    GraphMetaNetwork(GraphLayout layout, int hidden, int layers, int outputs, double editScale, boolean blocks) {
        this.layout = requireNonNull(layout, "layout is null");
        this.index = new MessageIndex(layout);
        this.hidden = hidden;
        this.layers = layers;
        this.outputs = outputs;
        this.editScale = editScale;
        this.blocks = blocks;
        int d = hidden;
        List<ParamSpec> s = new ArrayList<>();
        Dense.declare(s, "encoder.node", layout.nodeFeatureWidth() + MessageIndex.NODE_DESCRIPTORS, d, true);
        Dense.declare(s, "encoder.edge", layout.edgeFeatureWidth() + MessageIndex.EDGE_DESCRIPTORS, d, true);
        for (int l = 0; l < layers; l++) {
            String p = "layer" + l;
            Dense.declare(s, p + ".edge.source", d, d, false);
            Dense.declare(s, p + ".edge.target", d, d, false);
            Dense.declare(s, p + ".edge.self", d, d, true);
            Dense.declare(s, p + ".edge.out", d, d, true);
            Dense.declare(s, p + ".forward.node", d, d, false);
            Dense.declare(s, p + ".forward.edge", d, d, true);
            Dense.declare(s, p + ".backward.node", d, d, false);
            Dense.declare(s, p + ".backward.edge", d, d, true);
            Dense.declare(s, p + ".node.hidden", d + 2 * 9 * d, d, true);
            Dense.declare(s, p + ".node.out", d, d, true);
        }
        Dense.declare(s, "head.hidden", 3 * d, d, true);
        Dense.declare(s, "head.out", d, outputs, true);
        Dense.declare(s, "decoder.node", d, layout.nodeFeatureWidth(), true);
        Dense.declare(s, "decoder.edge", d, layout.edgeFeatureWidth(), true);
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
        return "gnn";
    }

    @Override
    public Tensor predict(Params params, ParamGraph graph) {
        States s = propagate(params, graph);
        Tensor pooled = Tensor.concat(List.of(s.nodes.mean(0, false), s.nodes.max(0, false), s.edges.mean(0, false)), -1);
        return Dense.apply(params, "head.out", Dense.apply(params, "head.hidden", pooled).relu());
    }

    @Override
    public ParamGraph edit(Params params, ParamGraph graph) {
        States s = propagate(params, graph);
        Tensor dn = Dense.apply(params, "decoder.node", s.nodes).transpose(1, 0, 2);
        Tensor de = Dense.apply(params, "decoder.edge", s.edges).transpose(1, 0, 2);
        return graph.withFeatures(graph.nodes().add(dn.mul(editScale)), graph.edges().add(de.mul(editScale)));
    }

    /** Node states [N, B, d] and edge states [E, B, d] after the message-passing layers. */
    private record States(Tensor nodes, Tensor edges) {
    }

    private States propagate(Params p, ParamGraph graph) {
        return blocks ? propagateBlocks(p, graph) : propagateSegments(p, graph);
    }

    /**
     * Message passing that uses the graph's block structure: every edge set is a complete bipartite
     * block (a weight) or a diagonal (identity edges), so a block's messages are a
     * {@code [from, to, B, d]} tensor built by broadcasting the two node sets' states, and its
     * aggregations are reductions over one axis — no gathers, scatters or padded tables. The same
     * equations as {@link #propagateSegments}; {@code MetaNetworkTest} checks both against a loop
     * implementation.
     */
    private States propagateBlocks(Params p, ParamGraph graph) {
        check(graph);
        Engine engine = graph.nodes().engine();
        DType dtype = graph.nodes().dtype();
        int b = graph.batchSize();
        int d = hidden;
        Tensor nodeDesc = engine.tensor(index.nodeDescriptors, Shape.of(index.nodes, 1, MessageIndex.NODE_DESCRIPTORS), dtype)
                .broadcastTo(Shape.of(index.nodes, b, MessageIndex.NODE_DESCRIPTORS));
        Tensor edgeDesc = engine.tensor(index.edgeDescriptors, Shape.of(index.edges, 1, MessageIndex.EDGE_DESCRIPTORS), dtype)
                .broadcastTo(Shape.of(index.edges, b, MessageIndex.EDGE_DESCRIPTORS));
        Tensor h = Dense.apply(p, "encoder.node", Tensor.concat(List.of(graph.nodes().transpose(1, 0, 2), nodeDesc), -1)).relu();
        Tensor encoded = Dense.apply(p, "encoder.edge", Tensor.concat(List.of(graph.edges().transpose(1, 0, 2), edgeDesc), -1)).relu();
        List<EdgeSet> sets = layout.edgeSets();
        List<NodeSet> nodeSets = layout.nodeSets();
        Tensor[] e = new Tensor[sets.size()];
        for (int k = 0; k < e.length; k++) {
            EdgeSet s = sets.get(k);
            e[k] = block(encoded.slice(0, s.firstEdge(), s.firstEdge() + s.count()), s, b, d);
        }
        Aggregation forward = new Aggregation(engine, dtype, null, null, 0, index.inDegree, index.deltaIn);
        Aggregation backward = new Aggregation(engine, dtype, null, null, 0, index.outDegree, index.deltaOut);
        for (int l = 0; l < layers; l++) {
            String n = "layer" + l;
            Tensor hs = Dense.apply(p, n + ".edge.source", h);
            Tensor hd = Dense.apply(p, n + ".edge.target", h);
            Tensor fn = Dense.apply(p, n + ".forward.node", h);
            Tensor bn = Dense.apply(p, n + ".backward.node", h);
            Reduced[] in = new Reduced[nodeSets.size()];
            Reduced[] out = new Reduced[nodeSets.size()];
            for (int k = 0; k < e.length; k++) {
                EdgeSet s = sets.get(k);
                boolean dense = s.kind() == EdgeKind.WEIGHT;
                Tensor src = sourceSide(nodes(hs, nodeSets.get(s.from())), dense);
                Tensor dst = targetSide(nodes(hd, nodeSets.get(s.to())), dense);
                e[k] = e[k].add(Dense.apply(p, n + ".edge.out", src.add(dst).add(Dense.apply(p, n + ".edge.self", e[k])).relu()));
                Tensor mf = sourceSide(nodes(fn, nodeSets.get(s.from())), dense).add(Dense.apply(p, n + ".forward.edge", e[k])).relu();
                Tensor mb = targetSide(nodes(bn, nodeSets.get(s.to())), dense).add(Dense.apply(p, n + ".backward.edge", e[k])).relu();
                in[s.to()] = Reduced.of(mf, dense ? 0 : -1).merge(in[s.to()]);
                out[s.from()] = Reduced.of(mb, dense ? 1 : -1).merge(out[s.from()]);
            }
            Tensor update = Tensor.concat(List.of(h, forward.apply(assemble(in, nodeSets, engine, dtype, b, d)),
                    backward.apply(assemble(out, nodeSets, engine, dtype, b, d))), -1);
            h = h.add(Dense.apply(p, n + ".node.out", Dense.apply(p, n + ".node.hidden", update).relu()));
        }
        List<Tensor> flat = new ArrayList<>(e.length);
        for (int k = 0; k < e.length; k++) {
            flat.add(e[k].reshape(sets.get(k).count(), b, d));
        }
        return new States(h, flat.size() == 1 ? flat.get(0) : Tensor.concat(flat, 0));
    }

    /** The edge states of one set as a block: [from, to, B, d] for weights, [size, B, d] for identity edges. */
    private Tensor block(Tensor rows, EdgeSet s, int b, int d) {
        if (s.kind() == EdgeKind.IDENTITY) {
            return rows;
        }
        return rows.reshape(layout.nodeSets().get(s.from()).size(), layout.nodeSets().get(s.to()).size(), b, d);
    }

    private static Tensor nodes(Tensor all, NodeSet s) {
        return all.slice(0, s.firstNode(), s.firstNode() + s.size());
    }

    private static Tensor sourceSide(Tensor setStates, boolean dense) {
        return dense ? setStates.expandDims(1) : setStates;
    }

    private static Tensor targetSide(Tensor setStates, boolean dense) {
        return dense ? setStates.expandDims(0) : setStates;
    }

    /** Sum, sum of squares and maximum of one node set's messages. */
    private record Reduced(Tensor sum, Tensor squares, Tensor max) {
        /** Reduces a block's messages over {@code axis} (-1: a diagonal block, nothing to reduce). */
        static Reduced of(Tensor m, int axis) {
            if (axis < 0) {
                return new Reduced(m, m.square(), m);
            }
            return new Reduced(m.sum(axis, false), m.square().sum(axis, false), m.max(axis, false));
        }

        Reduced merge(Reduced other) {
            return other == null ? this : new Reduced(sum.add(other.sum), squares.add(other.squares), max.maximum(other.max));
        }
    }

    /** Per-node sums, squares and maxima [N, B, d] each, zeros for nodes without messages. */
    private static Reduced assemble(Reduced[] perSet, List<NodeSet> nodeSets, Engine engine, DType dtype, int b, int d) {
        List<Tensor> sum = new ArrayList<>();
        List<Tensor> sq = new ArrayList<>();
        List<Tensor> max = new ArrayList<>();
        for (int k = 0; k < perSet.length; k++) {
            Reduced r = perSet[k];
            if (r == null) {
                Tensor z = engine.zeros(Shape.of(nodeSets.get(k).size(), b, d), dtype);
                r = new Reduced(z, z, z);
            }
            sum.add(r.sum);
            sq.add(r.squares);
            max.add(r.max);
        }
        return new Reduced(Tensor.concat(sum, 0), Tensor.concat(sq, 0), Tensor.concat(max, 0));
    }

    /** Message passing with gathers by edge endpoint, segment sums and a padded maximum (any edge list). */
    private States propagateSegments(Params p, ParamGraph graph) {
        check(graph);
        Engine engine = graph.nodes().engine();
        DType dtype = graph.nodes().dtype();
        int b = graph.batchSize();
        Tensor nodeDesc = engine.tensor(index.nodeDescriptors, Shape.of(index.nodes, 1, MessageIndex.NODE_DESCRIPTORS), dtype)
                .broadcastTo(Shape.of(index.nodes, b, MessageIndex.NODE_DESCRIPTORS));
        Tensor edgeDesc = engine.tensor(index.edgeDescriptors, Shape.of(index.edges, 1, MessageIndex.EDGE_DESCRIPTORS), dtype)
                .broadcastTo(Shape.of(index.edges, b, MessageIndex.EDGE_DESCRIPTORS));
        Tensor h = Dense.apply(p, "encoder.node", Tensor.concat(List.of(graph.nodes().transpose(1, 0, 2), nodeDesc), -1)).relu();
        Tensor e = Dense.apply(p, "encoder.edge", Tensor.concat(List.of(graph.edges().transpose(1, 0, 2), edgeDesc), -1)).relu();
        Tensor src = index.source(engine);
        Tensor dst = index.target(engine);
        Tensor inTable = index.inTable(engine);
        Tensor outTable = index.outTable(engine);
        Aggregation forward = new Aggregation(engine, dtype, dst, inTable, index.maxIn, index.inDegree, index.deltaIn);
        Aggregation backward = new Aggregation(engine, dtype, src, outTable, index.maxOut, index.outDegree, index.deltaOut);
        for (int l = 0; l < layers; l++) {
            String n = "layer" + l;
            Tensor hs = Dense.apply(p, n + ".edge.source", h).gather(src, 0);
            Tensor hd = Dense.apply(p, n + ".edge.target", h).gather(dst, 0);
            e = e.add(Dense.apply(p, n + ".edge.out", hs.add(hd).add(Dense.apply(p, n + ".edge.self", e)).relu()));
            Tensor mf = Dense.apply(p, n + ".forward.node", h).gather(src, 0).add(Dense.apply(p, n + ".forward.edge", e)).relu();
            Tensor mb = Dense.apply(p, n + ".backward.node", h).gather(dst, 0).add(Dense.apply(p, n + ".backward.edge", e)).relu();
            Tensor update = Tensor.concat(List.of(h, forward.apply(mf), backward.apply(mb)), -1);
            h = h.add(Dense.apply(p, n + ".node.out", Dense.apply(p, n + ".node.hidden", update).relu()));
        }
        return new States(h, e);
    }

    private void check(ParamGraph graph) {
        requireNonNull(graph, "graph is null");
        if (graph.layout() != layout && (graph.layout().nodeCount() != layout.nodeCount() || graph.layout().edgeCount() != layout.edgeCount()
                || graph.layout().nodeFeatureWidth() != layout.nodeFeatureWidth()
                || graph.layout().edgeFeatureWidth() != layout.edgeFeatureWidth())) {
            throw new IllegalArgumentException("gnn metanetwork built for " + layout + " got a graph of " + graph.layout());
        }
    }

    /**
     * PNA aggregation of messages [E, B, d] onto the nodes: mean, max and standard deviation, each
     * with the identity, amplification and attenuation degree scalers: [N, B, 9d].
     */
    private static final class Aggregation {
        private final Tensor segments;
        private final Tensor table;
        private final int width;
        private final int nodes;
        private final Tensor inverseCount;
        private final Tensor hasEdges;
        private final Tensor amplification;
        private final Tensor attenuation;

        Aggregation(Engine engine, DType dtype, Tensor segments, Tensor table, int width, double[] degree, double delta) {
            this.segments = segments;
            this.table = table;
            this.width = width;
            this.nodes = degree.length;
            double[] inv = new double[nodes];
            double[] has = new double[nodes];
            double[] amp = new double[nodes];
            double[] att = new double[nodes];
            for (int i = 0; i < nodes; i++) {
                double d = degree[i];
                inv[i] = d > 0 ? 1 / d : 0;
                has[i] = d > 0 ? 1 : 0;
                double log = Math.log(d + 1);
                amp[i] = log / delta;
                att[i] = d > 0 ? delta / log : 0;
            }
            this.inverseCount = MessageIndex.column(engine, inv, dtype);
            this.hasEdges = MessageIndex.column(engine, has, dtype);
            this.amplification = MessageIndex.column(engine, amp, dtype);
            this.attenuation = MessageIndex.column(engine, att, dtype);
        }

        /** PNA from per-node sums, sums of squares and maxima (the block path). */
        Tensor apply(Reduced r) {
            Tensor mean = r.sum().mul(inverseCount);
            Tensor std = r.squares().mul(inverseCount).sub(mean.square()).relu().add(1e-5).sqrt().mul(hasEdges);
            Tensor agg = Tensor.concat(List.of(mean, r.max().mul(hasEdges), std), -1);
            return Tensor.concat(List.of(agg, agg.mul(amplification), agg.mul(attenuation)), -1);
        }

        Tensor apply(Tensor m) {
            int b = m.dim(1);
            int d = m.dim(2);
            Tensor mean = m.segmentSum(segments, nodes).mul(inverseCount);
            Tensor meanSquare = m.square().segmentSum(segments, nodes).mul(inverseCount);
            Tensor std = meanSquare.sub(mean.square()).relu().add(1e-5).sqrt().mul(hasEdges);
            Tensor padded = Tensor.concat(List.of(m, m.engine().full(Shape.of(1, b, d), NEGATIVE, m.dtype())), 0);
            Tensor max = padded.gather(table, 0).reshape(nodes, width, b, d).max(1, false).mul(hasEdges);
            Tensor agg = Tensor.concat(List.of(mean, max, std), -1);
            return Tensor.concat(List.of(agg, agg.mul(amplification), agg.mul(attenuation)), -1);
        }
    }
}
