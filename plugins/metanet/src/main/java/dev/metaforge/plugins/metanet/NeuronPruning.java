package dev.metaforge.plugins.metanet;

import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.NodeSet;
import dev.metaforge.api.graph.ParamGraph;
import dev.metaforge.api.graph.TieClass;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Structured (neuron / channel) pruning over the parameter graph, for any module that describes its
 * structure: a hidden neuron's magnitude is the L2 norm of everything attached to it — its node
 * features and the features of every edge into or out of it, over every node set of its tie class
 * (so a residual stream's channel is one unit). Pruning zeroes all of that, so the neuron's output is
 * constant zero before the next layer's bias and it can be removed.
 */
final class NeuronPruning {
    private final GraphLayout layout;
    private final long[] source;
    private final long[] target;
    /** Hidden units: per permutable tie class, the nodes of neuron j in every node set of the class. */
    private final List<int[][]> units;
    private final double[] hiddenMask;

    NeuronPruning(GraphLayout layout) {
        this.layout = layout;
        int[] src = layout.edgeSources();
        int[] dst = layout.edgeTargets();
        source = new long[src.length];
        target = new long[dst.length];
        for (int e = 0; e < src.length; e++) {
            source[e] = src[e];
            target[e] = dst[e];
        }
        Map<String, List<NodeSet>> byClass = new LinkedHashMap<>();
        for (NodeSet s : layout.nodeSets()) {
            if (s.permutable()) {
                byClass.computeIfAbsent(s.tieClass(), k -> new ArrayList<>()).add(s);
            }
        }
        units = new ArrayList<>();
        hiddenMask = new double[layout.nodeCount()];
        for (Map.Entry<String, List<NodeSet>> e : byClass.entrySet()) {
            TieClass c = layout.symmetry().classes().stream().filter(t -> t.id().equals(e.getKey())).findFirst().orElseThrow();
            int[][] nodes = new int[c.size()][e.getValue().size()];
            for (int k = 0; k < e.getValue().size(); k++) {
                NodeSet s = e.getValue().get(k);
                for (int j = 0; j < s.size(); j++) {
                    nodes[j][k] = s.firstNode() + j;
                    hiddenMask[s.firstNode() + j] = 1;
                }
            }
            units.add(nodes);
        }
    }

    /** Number of prunable units (hidden neurons or channels, counting a tie class's neuron once). */
    int unitCount() {
        return units.stream().mapToInt(u -> u.length).sum();
    }

    /** Squared attachment per node [N, B]: node features squared plus incident edge features squared. */
    Tensor nodeEnergy(ParamGraph g) {
        int n = layout.nodeCount();
        Engine engine = g.nodes().engine();
        Tensor edgeSq = g.edges().square().sum(-1, false).transpose(1, 0);               // [E, B]
        Tensor in = edgeSq.segmentSum(engine.indices(target, target.length), n);
        Tensor out = edgeSq.segmentSum(engine.indices(source, source.length), n);
        return in.add(out).add(g.nodes().square().sum(-1, false).transpose(1, 0));     // [N, B]
    }

    /**
     * Group lasso over hidden nodes, differentiable: the mean over networks of the sum over hidden
     * nodes of {@code sqrt(energy + eps)}, divided by the number of hidden nodes.
     */
    Tensor groupLasso(ParamGraph g) {
        Engine engine = g.nodes().engine();
        Tensor mask = engine.tensor(hiddenMask, Shape.of(hiddenMask.length, 1), g.nodes().dtype());
        double count = Math.max(1, Arrays.stream(hiddenMask).sum());
        return nodeEnergy(g).add(1e-8).sqrt().mul(mask).sum().div(count * g.batchSize());
    }

    /**
     * Node keep-masks [B, N] (1 keep, 0 prune): in each permutable tie class, the {@code ratio}
     * fraction of units with the smallest norm is pruned, per network.
     */
    double[] masks(ParamGraph g, double ratio) {
        int n = layout.nodeCount();
        int b = g.batchSize();
        double[] energy = nodeEnergy(g).toDoubles();   // [N, B]
        double[] keep = new double[b * n];
        Arrays.fill(keep, 1);
        for (int[][] unit : units) {
            int prune = (int) Math.floor(ratio * unit.length);
            for (int net = 0; net < b; net++) {
                double[] score = new double[unit.length];
                Integer[] order = new Integer[unit.length];
                for (int j = 0; j < unit.length; j++) {
                    for (int node : unit[j]) {
                        score[j] += energy[node * b + net];
                    }
                    order[j] = j;
                }
                Arrays.sort(order, (x, y) -> Double.compare(score[x], score[y]));
                for (int k = 0; k < prune; k++) {
                    for (int node : unit[order[k]]) {
                        keep[net * n + node] = 0;
                    }
                }
            }
        }
        return keep;
    }

    /** The graph with pruned nodes' features and every edge touching them set to 0. */
    ParamGraph apply(ParamGraph g, double[] keep) {
        Engine engine = g.nodes().engine();
        DType dtype = g.nodes().dtype();
        int b = g.batchSize();
        int n = layout.nodeCount();
        Tensor nodeKeep = engine.tensor(keep, Shape.of(b, n), dtype);
        Tensor edgeKeep = nodeKeep.gather(engine.indices(source, source.length), 1).mul(nodeKeep.gather(engine.indices(target, target.length), 1));
        return g.withFeatures(g.nodes().mul(nodeKeep.expandDims(-1)), g.edges().mul(edgeKeep.expandDims(-1)));
    }
}
