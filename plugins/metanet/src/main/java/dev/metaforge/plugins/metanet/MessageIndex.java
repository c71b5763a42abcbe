package dev.metaforge.plugins.metanet;

import dev.metaforge.api.graph.EdgeKind;
import dev.metaforge.api.graph.EdgeSet;
import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.NodeRole;
import dev.metaforge.api.graph.NodeSet;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.Arrays;

/**
 * What message passing needs from a {@link GraphLayout}, computed once on the host: edge endpoints,
 * in/out degrees and padded neighbour tables (for max aggregation), and the constant node and edge
 * descriptors. Every descriptor is a function of the node's set (role, depth, permutability) and,
 * for nodes that never move (inputs, outputs), of their position — never of a hidden neuron's index,
 * which is what keeps the metanetwork invariant.
 *
 * <p>Why padded tables for the maximum: {@code Tensor.segmentMax}'s composed kernel builds an
 * {@code [N, E]} membership mask, too large for a million-edge graph; a table of each node's edges
 * padded to the largest degree is {@code N * maxDegree}, about E for layered networks.
 */
final class MessageIndex {
    /** Descriptor columns: role one-hot (3), permutable, depth / max depth, 4 sin/cos pairs of the position of fixed nodes. */
    static final int NODE_DESCRIPTORS = 3 + 1 + 1 + 8;
    /** Edge descriptor columns: kind one-hot (weight, identity). */
    static final int EDGE_DESCRIPTORS = 2;

    final int nodes;
    final int edges;
    final long[] source;
    final long[] target;
    final double[] inDegree;
    final double[] outDegree;
    final int maxIn;
    final int maxOut;
    final long[] inTable;
    final long[] outTable;
    final double[] nodeDescriptors;
    final double[] edgeDescriptors;
    /** PNA's delta: the mean of log(degree + 1) over nodes, per direction. */
    final double deltaIn;
    final double deltaOut;

    MessageIndex(GraphLayout layout) {
        nodes = layout.nodeCount();
        edges = layout.edgeCount();
        int[] src = layout.edgeSources();
        int[] dst = layout.edgeTargets();
        source = new long[edges];
        target = new long[edges];
        inDegree = new double[nodes];
        outDegree = new double[nodes];
        for (int e = 0; e < edges; e++) {
            source[e] = src[e];
            target[e] = dst[e];
            inDegree[dst[e]]++;
            outDegree[src[e]]++;
        }
        maxIn = (int) Math.max(1, Arrays.stream(inDegree).max().orElse(1));
        maxOut = (int) Math.max(1, Arrays.stream(outDegree).max().orElse(1));
        inTable = table(dst, maxIn);
        outTable = table(src, maxOut);
        deltaIn = meanLog(inDegree);
        deltaOut = meanLog(outDegree);

        nodeDescriptors = new double[nodes * NODE_DESCRIPTORS];
        int maxDepth = 1;
        for (NodeSet s : layout.nodeSets()) {
            maxDepth = Math.max(maxDepth, s.depth());
        }
        for (NodeSet s : layout.nodeSets()) {
            for (int j = 0; j < s.size(); j++) {
                int at = (s.firstNode() + j) * NODE_DESCRIPTORS;
                nodeDescriptors[at + s.role().ordinal()] = 1;
                nodeDescriptors[at + 3] = s.permutable() ? 1 : 0;
                nodeDescriptors[at + 4] = s.depth() / (double) maxDepth;
                if (!s.permutable()) {
                    for (int k = 0; k < 4; k++) {
                        double w = Math.PI / Math.pow(4, k);
                        nodeDescriptors[at + 5 + 2 * k] = Math.sin(w * j);
                        nodeDescriptors[at + 6 + 2 * k] = Math.cos(w * j);
                    }
                }
            }
        }
        if (NodeRole.values().length != 3) {
            throw new IllegalStateException("node roles changed; update the descriptors");
        }
        edgeDescriptors = new double[edges * EDGE_DESCRIPTORS];
        int[] setOf = layout.edgeSetOfEdges();
        for (int e = 0; e < edges; e++) {
            EdgeSet s = layout.edgeSets().get(setOf[e]);
            edgeDescriptors[e * EDGE_DESCRIPTORS + (s.kind() == EdgeKind.WEIGHT ? 0 : 1)] = 1;
        }
    }

    Tensor source(Engine engine) {
        return engine.indices(source, edges);
    }

    Tensor target(Engine engine) {
        return engine.indices(target, edges);
    }

    Tensor inTable(Engine engine) {
        return engine.indices(inTable, inTable.length);
    }

    Tensor outTable(Engine engine) {
        return engine.indices(outTable, outTable.length);
    }

    /** [N, 1, 1] in {@code dtype}. */
    static Tensor column(Engine engine, double[] values, DType dtype) {
        return engine.tensor(values, Shape.of(values.length, 1, 1), dtype);
    }

    private static double meanLog(double[] degree) {
        double s = 0;
        for (double d : degree) {
            s += Math.log(d + 1);
        }
        return Math.max(1e-6, s / degree.length);
    }

    /** Row n lists the edges whose {@code end} is n, padded with the sentinel {@code edges}. */
    private long[] table(int[] end, int width) {
        long[] out = new long[nodes * width];
        Arrays.fill(out, edges);
        int[] fill = new int[nodes];
        for (int e = 0; e < end.length; e++) {
            int n = end[e];
            out[n * width + fill[n]++] = e;
        }
        return out;
    }
}
