package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import dev.metaforge.api.random.RandomStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;

/**
 * The graph network of a graph hypernetwork: node embeddings from a learned type table plus a
 * projection of shape features, then {@code rounds} of message passing, each a forward sweep in
 * execution order (a node takes the sum of its predecessors' states) and a backward sweep (the sum
 * of its successors'), as GHN-2 does.
 *
 * <p>Simplified against GHN-2: the update is a residual {@code h += tanh(m·W)} per direction instead
 * of a GRU cell over an MLP message, and there is no virtual-edge (shortest-path) term.
 * Shape features are computed in Java from the graph (log of the weight's first axis, log of the
 * product of the rest, kernel side), so
 * nothing is read back from the backend.
 */
public final class GraphEncoder {
    static final int FEATURES = 3;
    private final int embed;
    private final int rounds;

    public GraphEncoder(int embed, int rounds) {
        if (embed < 1 || rounds < 0) {
            throw new IllegalArgumentException("embed must be >= 1 and rounds >= 0, got " + embed + ", " + rounds);
        }
        this.embed = embed;
        this.rounds = rounds;
    }

    /** Node-embedding width. */
    public int embed() {
        return embed;
    }

    /** Type table, shape projection, forward and backward message weights. */
    public List<ParamSpec> parameters() {
        Initializer init = Initializer.normal(1.0 / Math.sqrt(embed));
        int types = ComputationGraph.KINDS.size() + 1;
        return List.of(
                new ParamSpec("type", Shape.of(types, embed), ParamKind.WEIGHT, types, embed, init),
                new ParamSpec("shape", Shape.of(FEATURES, embed), ParamKind.WEIGHT, FEATURES, embed, init),
                new ParamSpec("fwd", Shape.of(embed, embed), ParamKind.WEIGHT, embed, embed, init),
                new ParamSpec("bwd", Shape.of(embed, embed), ParamKind.WEIGHT, embed, embed, init));
    }

    /** Fresh parameters drawn from {@code rng}. */
    public Params init(Engine engine, RandomStream rng) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : parameters()) {
            out.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
        }
        return Params.of(out);
    }

    /** One embedding [1, embed] per node of {@code graph}. */
    public List<Tensor> encode(Engine engine, Params params, ComputationGraph graph) {
        int n = graph.nodes().size();
        List<Tensor> h = new ArrayList<>();
        for (ComputationGraph.Node node : graph.nodes()) {
            Tensor type = params.get("type").slice(0, node.type(), node.type() + 1);
            h.add(type.add(engine.tensor(features(node), 1, FEATURES).matmul(params.get("shape"))));
        }
        List<List<Integer>> succ = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            succ.add(new ArrayList<>());
        }
        for (ComputationGraph.Edge e : graph.edges()) {
            succ.get(e.from()).add(e.to());
        }
        for (int round = 0; round < rounds; round++) {
            for (int v = 0; v < n; v++) {
                Tensor m = sum(h, graph.predecessors(v));
                if (m != null) {
                    h.set(v, h.get(v).add(m.matmul(params.get("fwd")).tanh()));
                }
            }
            for (int v = n - 1; v >= 0; v--) {
                Tensor m = sum(h, succ.get(v));
                if (m != null) {
                    h.set(v, h.get(v).add(m.matmul(params.get("bwd")).tanh()));
                }
            }
        }
        return h;
    }

    private static Tensor sum(List<Tensor> h, List<Integer> from) {
        Tensor m = null;
        for (int u : from) {
            m = m == null ? h.get(u) : m.add(h.get(u));
        }
        return m;
    }

    /** log(1 + first axis), log(1 + product of the rest), kernel side of the node's weight; zeros without one. */
    static double[] features(ComputationGraph.Node node) {
        int[] w = node.params().get("weight");
        if (w == null) {
            return new double[FEATURES];
        }
        long fanIn = 1;
        for (int i = 1; i < w.length; i++) {
            fanIn *= w[i];
        }
        return new double[] {Math.log1p(w[0]), Math.log1p(fanIn), w.length == 4 ? w[3] : 1};
    }
}
