package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleStructure;
import dev.metaforge.api.nn.ParamSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The computation graph a graph hypernetwork (GHN-2/3) reads: one node per layer of a module's
 * {@link ModuleStructure} in execution order, plus an input node, and data-flow edges between them.
 * Built from the structure alone (layer kinds as words, neuron groups), never from module classes.
 *
 * <p>Edges: a layer reads the group it names as input, so its predecessor is the last layer that
 * wrote that group. A layer that writes a group some earlier layer already wrote, other than its own
 * input (the {@code residual} layer writes the block's input group back), merges two streams: the
 * layer that wrote that group before the merged branch began (the branch: layers under the merge
 * layer's path) feeds it as well. That second edge is the residual skip.
 *
 * @param nodes nodes in execution order; node 0 is the module input
 * @param edges data-flow edges (from, to) with from &lt; to
 */
public record ComputationGraph(List<Node> nodes, List<Edge> edges) {
    /**
     * Type words with their own type embedding; any other kind shares {@link #OTHER}. An activation
     * layer's type is its function ("relu", "tanh", ...) when listed, as GHN-2 gives each operation
     * its own node type: a graph hypernetwork must tell a ReLU network from a tanh one.
     */
    public static final List<String> KINDS = List.of("input", "linear", "conv2d", "batchnorm", "layernorm",
            "activation", "pool", "flatten", "dropout", "residual",
            "identity", "relu", "tanh", "sigmoid", "leaky_relu", "softplus", "sin");
    /** Type index of a kind not in {@link #KINDS}. */
    public static final int OTHER = KINDS.size();

    public ComputationGraph {
        nodes = List.copyOf(nodes);
        edges = List.copyOf(edges);
    }

    /**
     * One node.
     *
     * @param layer  the layer's path ("" for the input node)
     * @param kind   the layer's kind word
     * @param type   index into {@link #KINDS}, or {@link #OTHER}
     * @param params role to parameter shape (dims), for the layers that have parameters
     */
    public record Node(String layer, String kind, int type, Map<String, int[]> params) {
        public Node {
            params = Map.copyOf(params);
        }
    }

    /** A data-flow edge between node indices. */
    public record Edge(int from, int to) {
    }

    /** The graph of {@code module}, with parameter shapes from its declared parameters. */
    public static ComputationGraph of(Module module) {
        Map<String, int[]> shapes = new HashMap<>();
        for (ParamSpec p : module.parameters()) {
            shapes.put(p.name(), p.shape().dims());
        }
        ModuleStructure s = module.structure();
        List<Node> nodes = new ArrayList<>();
        Set<Edge> edges = new LinkedHashSet<>();
        nodes.add(new Node("", "input", 0, Map.of()));
        Map<String, Integer> lastWriter = new HashMap<>();
        lastWriter.put(s.input(), 0);
        for (LayerInfo layer : s.layers()) {
            int id = nodes.size();
            Map<String, int[]> params = new HashMap<>();
            layer.params().forEach((role, name) -> {
                int[] dims = shapes.get(name);
                if (dims != null) {
                    params.put(role, dims);
                }
            });
            int type = KINDS.indexOf(typeWord(layer));
            nodes.add(new Node(layer.name(), layer.kind(), type < 0 ? OTHER : type, params));
            Integer from = lastWriter.get(layer.input());
            if (from != null) {
                edges.add(new Edge(from, id));
            }
            // A re-written group that is not this layer's own input: a merge (residual add).
            Integer skip = layer.output().equals(layer.input()) ? null : streamBefore(s.layers(), id - 1, layer, s.input());
            if (skip != null) {
                edges.add(new Edge(skip, id));
            }
            lastWriter.put(layer.output(), id);
        }
        return new ComputationGraph(nodes, new ArrayList<>(edges));
    }

    /**
     * The node that wrote {@code merge}'s output group just before the branch merged by it began:
     * the branch is the run of layers whose paths lie under the merge layer's path (a top-level merge
     * takes everything before it). In-place layers of the branch (a BatchNorm on the stream) write
     * the same group, so the last writer overall would wrongly be inside the branch.
     */
    private static Integer streamBefore(List<LayerInfo> layers, int mergeIndex, LayerInfo merge, String input) {
        String prefix = merge.name().isEmpty() ? "" : merge.name() + ".";
        int branchStart = mergeIndex;
        for (int i = 0; i < mergeIndex; i++) {
            if (layers.get(i).name().startsWith(prefix)) {
                branchStart = i;
                break;
            }
        }
        Integer writer = merge.output().equals(input) ? 0 : null;
        for (int i = 0; i < branchStart; i++) {
            if (layers.get(i).output().equals(merge.output())) {
                writer = i + 1;
            }
        }
        return writer;
    }

    /** The layer's activation function for an activation layer whose function has its own type, else its kind. */
    private static String typeWord(LayerInfo layer) {
        String function = layer.attribute("activation");
        return function != null && layer.kind().equals("activation") && KINDS.contains(function) ? function : layer.kind();
    }

    /** Indices of the nodes feeding {@code node}. */
    public List<Integer> predecessors(int node) {
        List<Integer> out = new ArrayList<>();
        for (Edge e : edges) {
            if (e.to() == node) {
                out.add(e.from());
            }
        }
        return out;
    }
}
