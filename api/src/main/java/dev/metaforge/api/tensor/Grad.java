package dev.metaforge.api.tensor;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode gradients of a tensor with respect to tracked tensors.
 *
 * <pre>{@code
 * Params g = Grad.of(loss).wrt(params);                 // first order
 * Params g2 = Grad.of(loss).withGraph().wrt(params);    // differentiable: take Grad of it again
 * // Hessian-vector product: the gradient of <grad f, v>
 * Tensor hv = Grad.of(Grad.of(f).withGraph().wrt(x).mul(v).sum()).wrt(x);
 * }</pre>
 *
 * Without {@link #withGraph()} the backward pass records nothing and the gradients are plain
 * constants; with it, every VJP is recorded so the gradients are differentiable (MAML).
 * As in JAX, a tensor the output does not depend on gets a zero gradient (also when the output
 * is a constant, e.g. the gradient of a linear function differentiated again).
 */
public final class Grad {
    private final Tensor output;
    private final Tensor seed;
    private final boolean createGraph;

    private Grad(Tensor output, Tensor seed, boolean createGraph) {
        this.output = output;
        this.seed = seed;
        this.createGraph = createGraph;
    }

    /** Gradients of a scalar (one-element) {@code output}. */
    public static Grad of(Tensor output) {
        requireNonNull(output, "output is null");
        return new Grad(output, null, false);
    }

    /** The backward pass is recorded, so the gradients can be differentiated again. */
    public Grad withGraph() {
        return new Grad(output, seed, true);
    }

    /** Vector-Jacobian product: the cotangent {@code seed} (same shape as the output) instead of 1. */
    public Grad seed(Tensor cotangent) {
        requireNonNull(cotangent, "cotangent is null");
        if (!cotangent.shape().equals(output.shape())) {
            throw new IllegalArgumentException("seed shape " + cotangent.shape() + " differs from output shape " + output.shape());
        }
        return new Grad(output, cotangent, createGraph);
    }

    /** The gradient with respect to one tensor (zeros when it does not influence the output). */
    public Tensor wrt(Tensor x) {
        return wrt(List.of(x)).get(0);
    }

    /** Gradients with respect to every tensor of {@code params}, under the same names. */
    public Params wrt(Params params) {
        requireNonNull(params, "params is null");
        List<String> names = new ArrayList<>(params.names());
        List<Tensor> xs = new ArrayList<>(names.size());
        for (String n : names) {
            xs.add(params.get(n));
        }
        List<Tensor> gs = wrt(xs);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            out.put(names.get(i), gs.get(i));
        }
        return Params.of(out);
    }

    /** Gradients with respect to each of {@code xs}, in order. */
    public List<Tensor> wrt(List<Tensor> xs) {
        requireNonNull(xs, "xs is null");
        if (seed == null && output.size() != 1) {
            throw new IllegalArgumentException("Grad.of needs a one-element output, got shape " + output.shape()
                    + "; reduce it (e.g. .sum()) or pass a cotangent with seed(...)");
        }
        ThreadContext ctx = ThreadContext.get();
        if (output.node == null && !ctx.recording()) {
            // Inside NoGrad nothing was recorded: zeros here would silently hide the mistake.
            throw new IllegalStateException("Grad.of(...).wrt(...) inside a NoGrad block: the output " + output
                    + " was not recorded; wrap the computation in EnableGrad.enter()");
        }
        IdentityHashMap<Node, Boolean> targets = new IdentityHashMap<>();
        for (Tensor x : xs) {
            if (x.node == null) {
                throw new IllegalArgumentException("cannot differentiate with respect to an untracked tensor " + x
                        + "; call requiresGrad() on it before computing the output");
            }
            targets.put(x.node, Boolean.TRUE);
        }
        IdentityHashMap<Node, Boolean> needed = new IdentityHashMap<>();
        List<Node> order = topologicalOrder(targets, needed);
        if (!createGraph) {
            ctx.noRecordDepth++;
        }
        try {
            IdentityHashMap<Node, Tensor> cotangents = new IdentityHashMap<>();
            // Cotangents of slices, kept apart until their input is reached: the parts of a split are then
            // joined by one concat instead of each being zero-padded to full size and added (SliceGradients).
            SliceGradients slices = new SliceGradients();
            if (output.node != null && !seedThroughReduction(targets, needed, cotangents)) {
                Tensor start = seed != null ? seed : output.engine.full(output.shape(), 1.0, output.dtype());
                cotangents.put(output.node, start);
            }
            for (Node n : order) {
                Tensor g = slices.collect(n, cotangents);
                if (g == null || n.isLeaf()) {
                    continue;
                }
                if (!targets.containsKey(n)) {
                    cotangents.remove(n);
                }
                if (n.op == Op.SLICE) {
                    Tensor in = n.inputs[0];
                    if (in.node != null && needed.containsKey(in.node)) {
                        slices.add(in, n.attrs(), g);
                    }
                    continue;
                }
                Tensor[] inGrads = n.vjp(g);
                for (int i = 0; i < n.inputs.length; i++) {
                    Tensor in = n.inputs[i];
                    if (in.node == null || inGrads[i] == null || !needed.containsKey(in.node)) {
                        continue;
                    }
                    Tensor prev = cotangents.get(in.node);
                    cotangents.put(in.node, prev == null ? inGrads[i] : prev.add(inGrads[i]));
                }
            }
            List<Tensor> result = new ArrayList<>(xs.size());
            for (Tensor x : xs) {
                Tensor g = slices.collect(x.node, cotangents);
                result.add(g != null ? g : x.engine.zeros(x.shape(), x.dtype()));
            }
            return result;
        } finally {
            if (!createGraph) {
                ctx.noRecordDepth--;
            }
        }
    }

    /**
     * The usual loss ends in a sum or mean to one element; its cotangent from the unit seed is a constant,
     * 1 or 1/count, in every entry of the reduced tensor. That is filled in one call, where the rules would
     * fill the seed, divide it, reshape and broadcast it (constants either way, so nothing is recorded).
     * Only for the implicit seed and an output that is not itself a target; false when not applied.
     */
    private boolean seedThroughReduction(IdentityHashMap<Node, Boolean> targets, IdentityHashMap<Node, Boolean> needed,
            IdentityHashMap<Node, Tensor> cotangents) {
        Node n = output.node;
        if (seed != null || targets.containsKey(n) || (n.op != Op.SUM && n.op != Op.MEAN)) {
            return false;
        }
        Tensor in = n.inputs[0];
        if (in.node == null || !needed.containsKey(in.node) || !in.dtype().isFloating()) {
            return false;
        }
        double value = 1.0;
        if (n.op == Op.MEAN) {
            Op.ReduceAttrs r = n.attrs();
            long count = 1;
            for (int a : r.axes()) {
                count *= in.shape().dim(a);
            }
            // as the rule's division rounds it: 1 / count in the tensor's precision
            value = in.dtype() == dev.metaforge.spi.DType.FLOAT32 ? (double) (1.0f / (float) count) : 1.0 / count;
        }
        cotangents.put(in.node, in.engine.full(in.shape(), value, in.dtype()));
        return true;
    }

    /**
     * Nodes between the output and the targets, output first (reverse topological order); fills
     * {@code needed} with the nodes through which some target influences the output.
     */
    private List<Node> topologicalOrder(IdentityHashMap<Node, Boolean> targets, IdentityHashMap<Node, Boolean> needed) {
        List<Node> postOrder = new ArrayList<>();
        if (output.node == null) {
            return postOrder;
        }
        // Iterative DFS: post-order gives inputs before users; a node is needed if a target is below it.
        IdentityHashMap<Node, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        ArrayDeque<Integer> next = new ArrayDeque<>();
        stack.push(output.node);
        next.push(0);
        visited.put(output.node, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Node n = stack.peek();
            int i = next.pop();
            if (i < n.inputs.length) {
                next.push(i + 1);
                Node child = n.inputs[i].node;
                if (child != null && !visited.containsKey(child)) {
                    visited.put(child, Boolean.TRUE);
                    stack.push(child);
                    next.push(0);
                }
            } else {
                stack.pop();
                boolean isNeeded = targets.containsKey(n);
                for (Tensor in : n.inputs) {
                    if (in.node != null && needed.containsKey(in.node)) {
                        isNeeded = true;
                        break;
                    }
                }
                if (isNeeded) {
                    needed.put(n, Boolean.TRUE);
                    postOrder.add(n);
                }
            }
        }
        List<Node> reversed = new ArrayList<>(postOrder.size());
        for (int i = postOrder.size() - 1; i >= 0; i--) {
            reversed.add(postOrder.get(i));
        }
        return reversed;
    }
}
