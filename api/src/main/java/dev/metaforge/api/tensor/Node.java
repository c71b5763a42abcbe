package dev.metaforge.api.tensor;

/**
 * One recorded operation of the autodiff graph: the primitive ({@link Op}), its inputs, its static
 * attributes (axes, scalars, options) and its output. The VJP rule is looked up in {@link Op}'s
 * table, not stored per node. A leaf (a tensor asked to require gradients) has no op.
 * The graph is held only by the tensors that refer to it, so it is collected with them.
 */
final class Node {
    static final Tensor[] NO_INPUTS = new Tensor[0];

    final Op op;
    final Tensor[] inputs;
    final Object attrs;
    /** The tensor this node produced; set right after creation (rules such as exp's read it). */
    Tensor output;

    Node(Op op, Tensor[] inputs, Object attrs) {
        this.op = op;
        this.inputs = inputs;
        this.attrs = attrs;
    }

    static Node leaf() {
        return new Node(null, NO_INPUTS, null);
    }

    boolean isLeaf() {
        return op == null;
    }

    /** The cotangents of the inputs given the output's cotangent {@code g} (null where none is needed). */
    Tensor[] vjp(Tensor g) {
        return op.vjp(this, g);
    }

    Tensor in(int i) {
        return inputs[i];
    }

    @SuppressWarnings("unchecked")
    <T> T attrs() {
        return (T) attrs;
    }
}
