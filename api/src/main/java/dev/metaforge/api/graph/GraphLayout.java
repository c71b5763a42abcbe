package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shape of a module's parameter graph, built once per module from its
 * {@link Module#structure() structure} and its parameters' {@link Axis axes} (never its class), and
 * the lossless maps between {@code Params} and {@link ParamGraph} features.
 *
 * <h2>The graph</h2>
 * <ul>
 *   <li><b>Nodes</b> are neurons or channels. The module's input group is the first node set; each
 *       layer with a weight creates a new {@link NodeSet} for the group it writes (so the versions of a
 *       residual stream are distinct node sets).</li>
 *   <li><b>Edges</b>: a parameter with one {@code IN} (or {@code INDEX}) axis, one {@code OUT} axis and
 *       any number of {@code KERNEL} axes is a dense set of edges from the input neurons to the output
 *       neurons; the edge's feature vector holds its kernel taps (a conv kernel's kh*kw values, 1 value
 *       for a dense weight). An input group derived from a channel group (a flattened feature map:
 *       neuron {@code c * repeat + r} belongs to channel {@code c}) connects from the channel nodes, and
 *       the {@code repeat} weights of a channel go into the edge's features ({@code r * taps + tap}).
 *       An {@code INDEX} axis (an embedding's vocabulary) gets its own fixed input nodes.</li>
 *   <li><b>Node features</b>: a parameter with only an {@code OUT} axis (a bias, a normalisation's
 *       scale or shift) is one feature column of the nodes of its layer's output group, named by its
 *       role ("bias", "scale", ...); a parameter with only an {@code IN} axis is a feature of the input
 *       nodes. When the column is already taken on those nodes (a normalisation's "bias" after a
 *       conv's "bias"), a new version of the group is created, joined by {@link EdgeKind#IDENTITY}
 *       edges.</li>
 *   <li><b>Residual connections</b>: a layer with no parameter connecting input to output neurons
 *       acts neuron by neuron (see {@link NeuronSymmetry}); when it writes a group that already has
 *       nodes (a residual block returning its input group), identity edges join the group's previous
 *       nodes to the nodes it reads, which become the group's nodes.</li>
 *   <li><b>Globals</b>: any other parameter (axes {@code OTHER}, a scalar, or one no layer names) is
 *       kept whole in a per-network global vector, so nothing is lost.</li>
 * </ul>
 *
 * <p>The maps are gathers on the backend with index arrays computed here once: {@code Params -> graph}
 * and back are exact copies (bit-identical round trip), work on a weight batch (B networks give
 * {@code [B, nodes, features]} and {@code [B, edges, features]}), and are differentiable (the
 * gather's adjoint is a scatter-add).
 *
 * <pre>{@code
 * GraphLayout layout = GraphLayout.of(cnn);
 * ParamGraph g = layout.toGraph(params);            // [B, N, Fn], [B, E, Fe]
 * Params back = layout.toParams(g);                 // equal to params, bit for bit
 * }</pre>
 */
public final class GraphLayout {
    private final StructureIndex index;
    private final NeuronSymmetry symmetry;
    private final List<NodeSet> nodeSets;
    private final List<EdgeSet> edgeSets;
    private final List<String> nodeFeatureNames;
    private final List<String> globalParams;
    private final int nodeCount;
    private final int edgeCount;
    private final int edgeWidth;
    private final int globalWidth;
    private final long paramCount;
    private final long[] offsets;
    private final int[] edgeSource;
    private final int[] edgeTarget;
    private final int[] edgeSetOf;
    private final int[] nodeSetOf;
    private final long[] nodeGather;
    private final long[] edgeGather;
    private final long[] globalGather;
    private final long[] inverse;

    private GraphLayout(Builder b) {
        this.index = b.index;
        this.symmetry = b.symmetry;
        this.nodeSets = List.copyOf(b.nodeSets);
        this.edgeSets = List.copyOf(b.edgeSets);
        this.nodeFeatureNames = List.copyOf(b.columns);
        this.globalParams = List.copyOf(b.globals);
        this.nodeCount = b.nodeCount;
        this.edgeCount = b.edgeCount;
        this.edgeWidth = b.edgeWidth;
        this.globalWidth = b.globalWidth;
        this.paramCount = b.paramCount;
        this.offsets = b.offsets;
        this.edgeSource = b.edgeSource;
        this.edgeTarget = b.edgeTarget;
        this.edgeSetOf = b.edgeSetOf;
        this.nodeSetOf = b.nodeSetOf;
        this.nodeGather = b.nodeGather;
        this.edgeGather = b.edgeGather;
        this.globalGather = b.globalGather;
        this.inverse = b.inverse;
    }

    /** The layout of {@code module}'s parameter graph. */
    public static GraphLayout of(Module module) {
        StructureIndex index = new StructureIndex(module);
        return new Builder(index, NeuronSymmetry.of(index)).build();
    }

    // ---- the graph's shape -------------------------------------------------------------------

    public int nodeCount() {
        return nodeCount;
    }

    public int edgeCount() {
        return edgeCount;
    }

    /** Node feature columns, named by parameter role ("bias", "scale", ...); at least one ("bias"). */
    public List<String> nodeFeatureNames() {
        return nodeFeatureNames;
    }

    public int nodeFeatureWidth() {
        return nodeFeatureNames.size();
    }

    /** Features per edge: the largest {@link EdgeSet#featureLength()}. */
    public int edgeFeatureWidth() {
        return edgeWidth;
    }

    /** Length of the per-network global vector (parameters that are neither node nor edge features); 0 when none. */
    public int globalWidth() {
        return globalWidth;
    }

    /** The parameters kept in the global vector, in order. */
    public List<String> globalParams() {
        return globalParams;
    }

    public List<NodeSet> nodeSets() {
        return nodeSets;
    }

    public List<EdgeSet> edgeSets() {
        return edgeSets;
    }

    /** Source node of each edge (a copy). */
    public int[] edgeSources() {
        return edgeSource.clone();
    }

    /** Target node of each edge (a copy). */
    public int[] edgeTargets() {
        return edgeTarget.clone();
    }

    /** The edge set of each edge (a copy). */
    public int[] edgeSetOfEdges() {
        return edgeSetOf.clone();
    }

    /** The node set of each node (a copy). */
    public int[] nodeSetOfNodes() {
        return nodeSetOf.clone();
    }

    /** The parameters' symmetry, whose tie classes the node sets refer to. */
    public NeuronSymmetry symmetry() {
        return symmetry;
    }

    /** The module's parameters, in order. */
    public List<ParamSpec> parameters() {
        return index.specs;
    }

    /** Number of scalars of one network. */
    public long parameterCount() {
        return paramCount;
    }

    // ---- Params <-> graph --------------------------------------------------------------------

    /**
     * The graph of {@code params} (one network, or a weight batch of B with a leading axis). Node
     * features {@code [B, N, Fn]}, edge features {@code [B, E, Fe]} (B = 1 for one network).
     * Differentiable with respect to {@code params}.
     */
    public ParamGraph toGraph(Params params) {
        return toGraph(params, null);
    }

    /**
     * {@link #toGraph(Params)} with index arrays already on the backend ({@link #indices}), which
     * saves uploading them on every call (for a million-parameter network they are most of the cost).
     */
    public ParamGraph toGraph(Params params, Indices indices) {
        requireNonNull(params, "params is null");
        int batch = weightBatch(params);
        int b = Math.max(batch, 1);
        Tensor first = params.get(index.specs.get(0).name());
        Engine engine = first.engine();
        DType dtype = first.dtype();
        List<Tensor> parts = new ArrayList<>(index.specs.size() + 1);
        for (ParamSpec spec : index.specs) {
            Tensor t = params.get(spec.name());
            if (t.dtype() != dtype) {
                throw new IllegalArgumentException("parameter '" + spec.name() + "' is " + t.dtype() + " but '"
                        + index.specs.get(0).name() + "' is " + dtype + "; the graph needs one dtype");
            }
            parts.add(t.reshape(b, Math.toIntExact(spec.shape().size())));
        }
        double[] constants = new double[2 * b];
        for (int i = 0; i < b; i++) {
            constants[2 * i + 1] = 1.0;
        }
        parts.add(engine.tensor(constants, Shape.of(b, 2), dtype));
        Tensor flat = Tensor.concat(parts, 1);
        Indices idx = indices != null ? indices.check(this, engine) : null;
        Tensor nodes = flat.gather(idx != null ? idx.nodes : engine.indices(nodeGather, nodeGather.length), 1)
                .reshape(b, nodeCount, nodeFeatureWidth());
        Tensor edges = flat.gather(idx != null ? idx.edges : engine.indices(edgeGather, edgeGather.length), 1)
                .reshape(b, edgeCount, edgeWidth);
        Tensor globals = globalWidth == 0 ? null
                : flat.gather(idx != null ? idx.globals : engine.indices(globalGather, globalGather.length), 1);
        return new ParamGraph(this, nodes, edges, globals, batch > 0);
    }

    /** The parameters a graph of this layout holds: exactly the ones it was built from. */
    public Params toParams(ParamGraph graph) {
        requireNonNull(graph, "graph is null");
        if (graph.layout() != this) {
            throw new IllegalArgumentException("the graph belongs to another layout");
        }
        return toParams(graph.nodes(), graph.edges(), graph.globals(), graph.batched());
    }

    /**
     * Parameters from node features {@code [B, N, Fn]}, edge features {@code [B, E, Fe]} and globals
     * {@code [B, G]} (null when {@link #globalWidth()} is 0): each parameter entry is read from its
     * slot; features on slots no parameter owns (padding, identity edges) are ignored.
     *
     * @param batched false to return one network's shapes (B must then be 1)
     */
    public Params toParams(Tensor nodes, Tensor edges, Tensor globals, boolean batched) {
        return toParams(nodes, edges, globals, batched, null);
    }

    /** {@link #toParams(Tensor, Tensor, Tensor, boolean)} with index arrays already on the backend. */
    public Params toParams(Tensor nodes, Tensor edges, Tensor globals, boolean batched, Indices indices) {
        requireNonNull(nodes, "nodes is null");
        requireNonNull(edges, "edges is null");
        int b = nodes.dim(0);
        checkShape("node features", nodes, Shape.of(b, nodeCount, nodeFeatureWidth()));
        checkShape("edge features", edges, Shape.of(b, edgeCount, edgeWidth));
        List<Tensor> parts = new ArrayList<>(3);
        parts.add(nodes.reshape(b, nodeCount * nodeFeatureWidth()));
        parts.add(edges.reshape(b, edgeCount * edgeWidth));
        if (globalWidth > 0) {
            requireNonNull(globals, "globals is null but the layout keeps " + globalParams + " in the global vector");
            checkShape("globals", globals, Shape.of(b, globalWidth));
            parts.add(globals);
        }
        if (!batched && b != 1) {
            throw new IllegalArgumentException("unbatched parameters need features of one network, got B = " + b);
        }
        Engine engine = nodes.engine();
        Indices idx = indices != null ? indices.check(this, engine) : null;
        Tensor all = Tensor.concat(parts, 1).gather(idx != null ? idx.inverse : engine.indices(inverse, inverse.length), 1);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int p = 0; p < index.specs.size(); p++) {
            ParamSpec spec = index.specs.get(p);
            int size = Math.toIntExact(spec.shape().size());
            Tensor part = index.specs.size() == 1 ? all : all.slice(1, (int) offsets[p], (int) offsets[p] + size);
            out.put(spec.name(), part.reshape(batched ? prepend(b, spec.shape()) : spec.shape()));
        }
        return Params.of(out);
    }

    /**
     * This layout's index arrays uploaded to {@code engine} once, outside any scope, for repeated
     * {@link #toGraph(Params, Indices)} and {@link #toParams(Tensor, Tensor, Tensor, boolean, Indices)}
     * calls; the caller closes it.
     */
    public Indices indices(Engine engine) {
        requireNonNull(engine, "engine is null");
        return new Indices(this, engine);
    }

    /** Index arrays of one layout on one engine (see {@link GraphLayout#indices}). Close it when done. */
    public static final class Indices implements AutoCloseable {
        private final GraphLayout layout;
        private final Engine engine;
        private final Tensor nodes;
        private final Tensor edges;
        private final Tensor globals;
        private final Tensor inverse;

        private Indices(GraphLayout layout, Engine engine) {
            this.layout = layout;
            this.engine = engine;
            try (dev.metaforge.api.tensor.Scope s = dev.metaforge.api.tensor.Scope.open()) {
                this.nodes = s.escape(engine.indices(layout.nodeGather, layout.nodeGather.length));
                this.edges = s.escape(engine.indices(layout.edgeGather, layout.edgeGather.length));
                this.globals = layout.globalWidth == 0 ? null : s.escape(engine.indices(layout.globalGather, layout.globalGather.length));
                this.inverse = s.escape(engine.indices(layout.inverse, layout.inverse.length));
            }
        }

        Indices check(GraphLayout expected, Engine on) {
            if (expected != layout) {
                throw new IllegalArgumentException("these indices belong to another layout");
            }
            if (on.backend() != engine.backend()) {
                throw new IllegalArgumentException("these indices live on backend " + engine.backend() + ", not " + on.backend());
            }
            return this;
        }

        @Override
        public void close() {
            nodes.close();
            edges.close();
            if (globals != null) {
                globals.close();
            }
            inverse.close();
        }
    }

    // ---- symmetry on the graph ---------------------------------------------------------------

    /**
     * The node relabelling of a neuron permutation: node {@code n} of the permuted network's graph is
     * node {@code order[n]} of the original's.
     */
    public int[] nodeOrder(NeuronPermutation p) {
        requireNonNull(p, "p is null");
        int[] out = new int[nodeCount];
        for (NodeSet s : nodeSets) {
            int[] o = s.tieClass() == null ? null : symmetry.order(s.group(), p);
            for (int j = 0; j < s.size(); j++) {
                out[s.firstNode() + j] = s.firstNode() + (o == null ? j : o[j]);
            }
        }
        return out;
    }

    /**
     * The edge relabelling of a neuron permutation: edge {@code e} of the permuted network's graph
     * is edge {@code order[e]} of the original's. With {@link #nodeOrder} it makes the graph of the
     * permuted parameters equal to the relabelled graph of the original ones.
     */
    public int[] edgeOrder(NeuronPermutation p) {
        requireNonNull(p, "p is null");
        int[] nodes = nodeOrder(p);
        int[] out = new int[edgeCount];
        for (EdgeSet s : edgeSets) {
            NodeSet from = nodeSets.get(s.from());
            NodeSet to = nodeSets.get(s.to());
            for (int e = 0; e < s.count(); e++) {
                if (s.kind() == EdgeKind.IDENTITY) {
                    out[s.firstEdge() + e] = s.firstEdge() + nodes[to.firstNode() + e] - to.firstNode();
                } else {
                    int i = e / to.size();
                    int o = e % to.size();
                    int oldI = nodes[from.firstNode() + i] - from.firstNode();
                    int oldO = nodes[to.firstNode() + o] - to.firstNode();
                    out[s.firstEdge() + e] = s.firstEdge() + oldI * to.size() + oldO;
                }
            }
        }
        return out;
    }

    int weightBatch(Params params) {
        int batch = -1;
        for (ParamSpec spec : index.specs) {
            Tensor t = params.get(spec.name());
            int b;
            if (t.shape().equals(spec.shape())) {
                b = 0;
            } else if (t.rank() == spec.shape().rank() + 1 && t.shape().without(0).equals(spec.shape())) {
                b = t.dim(0);
            } else {
                throw new IllegalArgumentException("parameter '" + spec.name() + "' has shape " + t.shape()
                        + " but the module declares " + spec.shape() + " (or [B, ...] for a weight batch)");
            }
            if (batch >= 0 && b != batch) {
                throw new IllegalArgumentException("parameter '" + spec.name() + "' has weight batch " + b + " but others have " + batch);
            }
            batch = b;
        }
        return Math.max(batch, 0);
    }

    @Override
    public String toString() {
        return "GraphLayout{nodes=" + nodeCount + ", edges=" + edgeCount + ", nodeFeatures=" + nodeFeatureNames + ", edgeFeatures="
                + edgeWidth + ", globals=" + globalWidth + ", nodeSets=" + nodeSets.size() + ", edgeSets=" + edgeSets.size() + "}";
    }

    private static void checkShape(String what, Tensor t, Shape expected) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(what + " have shape " + t.shape() + " but this layout needs " + expected);
        }
    }

    private static Shape prepend(int b, Shape s) {
        int[] d = new int[s.rank() + 1];
        d[0] = b;
        System.arraycopy(s.dims(), 0, d, 1, s.rank());
        return Shape.of(d);
    }

    // ---- construction ------------------------------------------------------------------------

    /** Where one parameter's entries go. */
    private sealed interface Placement permits NodePlacement, EdgePlacement, GlobalPlacement {
        int param();
    }

    private record NodePlacement(int param, int nodeSet, int column) implements Placement {
    }

    private record EdgePlacement(int param, int edgeSet, int inAxis, int outAxis, int[] kernelAxes, int repeat) implements Placement {
    }

    private record GlobalPlacement(int param, int offset) implements Placement {
    }

    /** A node set and how many neurons of the group read from it stand for one of its nodes. */
    private record Source(int set, int repeat) {
    }

    private static final class Builder {
        final StructureIndex index;
        final NeuronSymmetry symmetry;
        final List<NodeSet> nodeSets = new ArrayList<>();
        final List<EdgeSet> edgeSets = new ArrayList<>();
        final List<String> columns = new ArrayList<>();
        final List<String> globals = new ArrayList<>();
        final List<Placement> placements = new ArrayList<>();
        final Map<String, Integer> current = new LinkedHashMap<>();
        final Set<Long> taken = new HashSet<>();
        final Set<String> placed = new HashSet<>();
        int nodeCount;
        int edgeCount;
        int edgeWidth = 1;
        int globalWidth;
        long paramCount;
        long[] offsets;
        int[] edgeSource;
        int[] edgeTarget;
        int[] edgeSetOf;
        int[] nodeSetOf;
        long[] nodeGather;
        long[] edgeGather;
        long[] globalGather;
        long[] inverse;

        Builder(StructureIndex index, NeuronSymmetry symmetry) {
            this.index = index;
            this.symmetry = symmetry;
        }

        GraphLayout build() {
            if (index.specs.isEmpty()) {
                throw new IllegalArgumentException("a module without parameters has no parameter graph");
            }
            offsets = new long[index.specs.size()];
            for (int p = 0; p < offsets.length; p++) {
                offsets[p] = paramCount;
                paramCount += index.specs.get(p).shape().size();
            }
            if (paramCount > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException("parameter graphs are limited to " + Integer.MAX_VALUE / 2 + " scalars, got " + paramCount);
            }
            columns.add("bias");
            String inputGroup = index.structure.input();
            NeuronGroup in = index.group(inputGroup);
            if (!in.isKnown()) {
                throw new IllegalArgumentException("the size of the module's input group '" + inputGroup + "' is unknown");
            }
            current.put(inputGroup, newSet(inputGroup, in.size(), 0, NodeRole.INPUT, ""));
            for (LayerInfo layer : index.structure.layers()) {
                walk(layer);
            }
            for (ParamSpec spec : index.specs) {
                if (!placed.contains(spec.name())) {
                    toGlobals(spec.name());
                }
            }
            int out = resolve(index.structure.output(), "the module's output").set;
            NodeSet o = nodeSets.get(out);
            if (o.role() != NodeRole.INPUT) {
                nodeSets.set(out, new NodeSet(o.index(), o.group(), o.tieClass(), o.size(), o.firstNode(), o.depth(), NodeRole.OUTPUT,
                        o.permutable(), o.layer()));
            }
            fillIndices();
            return new GraphLayout(this);
        }

        private void walk(LayerInfo layer) {
            List<Map.Entry<String, String>> params = index.paramsOf(layer);
            if (params.isEmpty()) {
                walkParameterFree(layer);
                return;
            }
            List<Map.Entry<String, String>> edgeParams = new ArrayList<>();
            List<Map.Entry<String, String>> outParams = new ArrayList<>();
            List<Map.Entry<String, String>> inParams = new ArrayList<>();
            for (Map.Entry<String, String> e : params) {
                if (!placed.add(e.getValue())) {
                    continue; // shared with an earlier layer: stored once
                }
                List<Axis> axes = index.specByName.get(e.getValue()).axes();
                long ins = axes.stream().filter(a -> a == Axis.IN || a == Axis.INDEX).count();
                long outs = axes.stream().filter(a -> a == Axis.OUT).count();
                long kernels = axes.stream().filter(a -> a == Axis.KERNEL).count();
                if (ins == 1 && outs == 1 && ins + outs + kernels == axes.size()) {
                    edgeParams.add(e);
                } else if (axes.size() == 1 && outs == 1) {
                    outParams.add(e);
                } else if (axes.size() == 1 && axes.get(0) == Axis.IN) {
                    inParams.add(e);
                } else {
                    toGlobals(e.getValue());
                }
            }
            if (!edgeParams.isEmpty()) {
                NeuronGroup outGroup = index.group(layer.output());
                if (outGroup.derivedFrom() != null) {
                    throw new IllegalArgumentException("layer '" + layer.name() + "' (" + layer.kind() + ") writes the derived group '"
                            + outGroup.id() + "'; the parameter graph supports derived (flattened) groups only as inputs");
                }
                List<Source> sources = new ArrayList<>();
                for (Map.Entry<String, String> e : edgeParams) {
                    ParamSpec spec = index.specByName.get(e.getValue());
                    int inAxis = spec.axisOf(Axis.IN) >= 0 ? spec.axisOf(Axis.IN) : spec.axisOf(Axis.INDEX);
                    if (spec.axes().get(inAxis) == Axis.INDEX) {
                        int vocab = spec.shape().dim(inAxis);
                        sources.add(new Source(newSet(layer.name() + "#index", vocab, 0, NodeRole.INPUT, layer.name()), 1));
                    } else {
                        Source s = resolve(layer.input(), "layer '" + layer.name() + "'");
                        checkDim(spec, inAxis, nodeSets.get(s.set).size() * s.repeat, layer.input());
                        sources.add(s);
                    }
                }
                int depth = 0;
                for (Source s : sources) {
                    depth = Math.max(depth, nodeSets.get(s.set).depth() + 1);
                }
                int target = newSet(layer.output(), outGroup.size(), depth, NodeRole.HIDDEN, layer.name());
                for (int k = 0; k < edgeParams.size(); k++) {
                    addWeightEdges(layer, edgeParams.get(k).getValue(), sources.get(k), target);
                }
                current.put(layer.output(), target);
            }
            for (Map.Entry<String, String> e : outParams) {
                attachOut(layer, e.getKey(), e.getValue());
            }
            for (Map.Entry<String, String> e : inParams) {
                Source s = resolve(layer.input(), "layer '" + layer.name() + "'");
                int column = column(e.getKey());
                if (s.repeat != 1 || taken.contains(key(s.set, column))) {
                    toGlobals(e.getValue());
                } else {
                    attach(e.getValue(), s.set, column, layer.input());
                }
            }
        }

        private void walkParameterFree(LayerInfo layer) {
            String in = layer.input();
            String out = layer.output();
            if (in.equals(out) || index.derivedFrom(out, in) || index.derivedFrom(in, out)) {
                return;
            }
            Source s = resolve(in, "layer '" + layer.name() + "'");
            Integer existing = current.get(out);
            if (existing != null && existing != s.set) {
                // A neuron-by-neuron merge into a group that already has nodes: a residual addition.
                addIdentityEdges(layer, existing, s.set);
            }
            current.put(out, s.set);
        }

        private void attachOut(LayerInfo layer, String role, String param) {
            String group = layer.output();
            Integer set = current.get(group);
            if (set == null) {
                NeuronGroup g = index.group(group);
                if (g.derivedFrom() != null) {
                    toGlobals(param);
                    return;
                }
                if (!layer.input().equals(group) && symmetry.classOf(layer.input()).id().equals(symmetry.classOf(group).id())) {
                    Source s = resolve(layer.input(), "layer '" + layer.name() + "'");
                    if (s.repeat == 1) {
                        set = s.set;
                    }
                }
                if (set == null) {
                    set = newSet(group, g.size(), 0, NodeRole.HIDDEN, layer.name());
                }
                current.put(group, set);
            }
            int column = column(role);
            if (taken.contains(key(set, column))) {
                NodeSet prev = nodeSets.get(set);
                int next = newSet(group, prev.size(), prev.depth() + 1, NodeRole.HIDDEN, layer.name());
                addIdentityEdges(layer, set, next);
                current.put(group, next);
                set = next;
            }
            attach(param, set, column, group);
        }

        private void attach(String param, int set, int column, String group) {
            ParamSpec spec = index.specByName.get(param);
            checkDim(spec, 0, nodeSets.get(set).size(), group);
            taken.add(key(set, column));
            placements.add(new NodePlacement(index.order.get(param), set, column));
        }

        private void addWeightEdges(LayerInfo layer, String param, Source source, int target) {
            ParamSpec spec = index.specByName.get(param);
            int inAxis = spec.axisOf(Axis.IN) >= 0 ? spec.axisOf(Axis.IN) : spec.axisOf(Axis.INDEX);
            int outAxis = spec.axisOf(Axis.OUT);
            checkDim(spec, outAxis, nodeSets.get(target).size(), layer.output());
            List<Integer> kernelAxes = new ArrayList<>();
            int taps = 1;
            for (int a = 0; a < spec.axes().size(); a++) {
                if (spec.axes().get(a) == Axis.KERNEL) {
                    kernelAxes.add(a);
                    taps *= spec.shape().dim(a);
                }
            }
            int length = taps * source.repeat;
            NodeSet from = nodeSets.get(source.set);
            NodeSet to = nodeSets.get(target);
            int count = Math.multiplyExact(from.size(), to.size());
            EdgeSet set = new EdgeSet(edgeSets.size(), layer.name(), layer.kind(), param, EdgeKind.WEIGHT, source.set, target, edgeCount,
                    count, length);
            edgeSets.add(set);
            edgeCount = Math.addExact(edgeCount, count);
            edgeWidth = Math.max(edgeWidth, length);
            placements.add(new EdgePlacement(index.order.get(param), set.index(), inAxis, outAxis,
                    kernelAxes.stream().mapToInt(Integer::intValue).toArray(), source.repeat));
        }

        private void addIdentityEdges(LayerInfo layer, int from, int to) {
            int size = nodeSets.get(from).size();
            if (nodeSets.get(to).size() != size) {
                throw new IllegalArgumentException("layer '" + layer.name() + "' (" + layer.kind() + ") joins node sets of "
                        + size + " and " + nodeSets.get(to).size() + " neurons neuron by neuron");
            }
            edgeSets.add(new EdgeSet(edgeSets.size(), layer.name(), layer.kind(), null, EdgeKind.IDENTITY, from, to, edgeCount, size, 1));
            edgeCount = Math.addExact(edgeCount, size);
        }

        private Source resolve(String group, String who) {
            String id = group;
            int repeat = 1;
            while (true) {
                Integer set = current.get(id);
                if (set != null) {
                    return new Source(set, repeat);
                }
                NeuronGroup g = index.group(id);
                if (g.derivedFrom() == null) {
                    throw new IllegalArgumentException(who + " reads neuron group '" + group + "', which no earlier layer writes");
                }
                repeat *= g.repeat();
                id = g.derivedFrom();
            }
        }

        private int newSet(String group, int size, int depth, NodeRole role, String layer) {
            if (size <= 0) {
                throw new IllegalArgumentException("neuron group '" + group + "' has unknown size " + size);
            }
            String tie = group.endsWith("#index") && !index.structure.groups().containsKey(group) ? null : symmetry.classOf(group).id();
            boolean permutable = tie != null && symmetry.classOf(group).permutable();
            NodeSet s = new NodeSet(nodeSets.size(), group, tie, size, nodeCount, depth, role, permutable, layer);
            nodeSets.add(s);
            nodeCount = Math.addExact(nodeCount, size);
            return s.index();
        }

        private int column(String role) {
            int c = columns.indexOf(role);
            if (c < 0) {
                columns.add(role);
                c = columns.size() - 1;
            }
            return c;
        }

        private void toGlobals(String param) {
            placed.add(param);
            int p = index.order.get(param);
            placements.add(new GlobalPlacement(p, globalWidth));
            globals.add(param);
            globalWidth = Math.addExact(globalWidth, Math.toIntExact(index.specs.get(p).shape().size()));
        }

        private static long key(int set, int column) {
            return ((long) set << 32) | column;
        }

        private static void checkDim(ParamSpec spec, int axis, int expected, String group) {
            if (spec.shape().dim(axis) != expected) {
                throw new IllegalArgumentException("axis " + axis + " (" + spec.axes().get(axis) + ") of parameter '" + spec.name() + "' "
                        + spec.shape() + " has " + spec.shape().dim(axis) + " entries but indexes group '" + group + "' of " + expected);
            }
        }

        private void fillIndices() {
            int fn = columns.size();
            long zero = paramCount;
            long one = paramCount + 1;
            nodeGather = new long[Math.multiplyExact(nodeCount, fn)];
            edgeGather = new long[Math.multiplyExact(edgeCount, edgeWidth)];
            globalGather = new long[globalWidth];
            inverse = new long[(int) paramCount];
            Arrays.fill(nodeGather, zero);
            Arrays.fill(edgeGather, zero);
            Arrays.fill(inverse, -1);
            long edgeBase = (long) nodeCount * fn;
            long globalBase = edgeBase + (long) edgeCount * edgeWidth;
            edgeSource = new int[edgeCount];
            edgeTarget = new int[edgeCount];
            edgeSetOf = new int[edgeCount];
            nodeSetOf = new int[nodeCount];
            for (NodeSet s : nodeSets) {
                Arrays.fill(nodeSetOf, s.firstNode(), s.firstNode() + s.size(), s.index());
            }
            for (EdgeSet s : edgeSets) {
                NodeSet from = nodeSets.get(s.from());
                NodeSet to = nodeSets.get(s.to());
                for (int e = 0; e < s.count(); e++) {
                    int edge = s.firstEdge() + e;
                    edgeSetOf[edge] = s.index();
                    if (s.kind() == EdgeKind.IDENTITY) {
                        edgeSource[edge] = from.firstNode() + e;
                        edgeTarget[edge] = to.firstNode() + e;
                        edgeGather[edge * edgeWidth] = one;
                    } else {
                        edgeSource[edge] = from.firstNode() + e / to.size();
                        edgeTarget[edge] = to.firstNode() + e % to.size();
                    }
                }
            }
            for (Placement pl : placements) {
                ParamSpec spec = index.specs.get(pl.param());
                long base = offsets[pl.param()];
                int size = Math.toIntExact(spec.shape().size());
                if (pl instanceof NodePlacement n) {
                    int first = nodeSets.get(n.nodeSet()).firstNode();
                    for (int e = 0; e < size; e++) {
                        long slot = (long) (first + e) * fn + n.column();
                        nodeGather[(int) slot] = base + e;
                        setInverse(base + e, slot, spec);
                    }
                } else if (pl instanceof EdgePlacement ep) {
                    fillEdges(ep, spec, base, edgeBase);
                } else if (pl instanceof GlobalPlacement g) {
                    for (int e = 0; e < size; e++) {
                        globalGather[g.offset() + e] = base + e;
                        setInverse(base + e, globalBase + g.offset() + e, spec);
                    }
                }
            }
            for (int i = 0; i < inverse.length; i++) {
                if (inverse[i] < 0) {
                    throw new IllegalStateException("entry " + i + " of the flat parameters has no place in the graph");
                }
            }
        }

        private void fillEdges(EdgePlacement ep, ParamSpec spec, long base, long edgeBase) {
            EdgeSet set = edgeSets.get(ep.edgeSet());
            int toSize = nodeSets.get(set.to()).size();
            int[] dims = spec.shape().dims();
            int taps = 1;
            int[] kernelStride = new int[ep.kernelAxes().length];
            for (int k = ep.kernelAxes().length - 1; k >= 0; k--) {
                kernelStride[k] = taps;
                taps *= dims[ep.kernelAxes()[k]];
            }
            int size = Math.toIntExact(spec.shape().size());
            int[] pos = new int[dims.length];
            for (int e = 0; e < size; e++) {
                int i = pos[ep.inAxis()];
                int o = pos[ep.outAxis()];
                int tap = 0;
                for (int k = 0; k < kernelStride.length; k++) {
                    tap += pos[ep.kernelAxes()[k]] * kernelStride[k];
                }
                int channel = i / ep.repeat();
                int r = i % ep.repeat();
                long edge = set.firstEdge() + (long) channel * toSize + o;
                long slot = edge * edgeWidth + (long) r * taps + tap;
                if (edgeGather[(int) slot] != paramCount) {
                    throw new IllegalStateException("two entries of parameter '" + spec.name() + "' map to one edge feature");
                }
                edgeGather[(int) slot] = base + e;
                setInverse(base + e, edgeBase + slot, spec);
                for (int d = dims.length - 1; d >= 0; d--) {
                    if (++pos[d] < dims[d]) {
                        break;
                    }
                    pos[d] = 0;
                }
            }
        }

        private void setInverse(long flat, long slot, ParamSpec spec) {
            if (inverse[(int) flat] >= 0) {
                throw new IllegalStateException("an entry of parameter '" + spec.name() + "' is placed twice");
            }
            inverse[(int) flat] = slot;
        }
    }
}
