package dev.metaforge.api.tensor;

import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * The cotangents of slices of one tensor during a backward pass, held until that tensor is reached and then
 * assembled at once. Slices along one axis that do not overlap (the parts of a split, e.g. a hypernetwork's
 * flat output cut into a target's parameters) become one concat of the parts with zeros in the gaps; the
 * slice rule alone would zero-pad each part to full size and add the padded copies, k full-size zero fills,
 * concats and adds for k parts. Any other set of slices falls back to exactly that. Values are the same:
 * every entry is one part's cotangent or zero (the padded sum adds zeros to it). The concat is recorded
 * like any op, so a recorded backward pass stays differentiable.
 */
final class SliceGradients {
    private record Piece(int[] begin, int[] end, Tensor g) { }

    private final IdentityHashMap<Node, List<Piece>> pending = new IdentityHashMap<>();
    private final IdentityHashMap<Node, Tensor> inputs = new IdentityHashMap<>();

    /** Holds {@code g}, the cotangent of {@code input}'s slice {@code s}. */
    void add(Tensor input, Op.SliceAttrs s, Tensor g) {
        pending.computeIfAbsent(input.node, k -> new ArrayList<>(2)).add(new Piece(s.begin(), s.end(), g));
        inputs.put(input.node, input);
    }

    /**
     * The full cotangent of {@code n}: its accumulated one in {@code cotangents} plus its slices' cotangents
     * assembled; stored back in {@code cotangents}. Null when it has neither.
     */
    Tensor collect(Node n, IdentityHashMap<Node, Tensor> cotangents) {
        if (n == null) {
            return null;
        }
        Tensor dense = cotangents.get(n);
        List<Piece> pieces = pending.remove(n);
        if (pieces == null) {
            return dense;
        }
        Tensor joined = assemble(inputs.remove(n).shape(), pieces);
        Tensor g = dense == null ? joined : dense.add(joined);
        cotangents.put(n, g);
        return g;
    }

    private static Tensor assemble(Shape full, List<Piece> pieces) {
        int axis = commonAxis(full, pieces);
        if (axis >= 0) {
            List<Piece> sorted = new ArrayList<>(pieces);
            sorted.sort((x, y) -> Integer.compare(x.begin()[axis], y.begin()[axis]));
            boolean disjoint = true;
            for (int i = 1; i < sorted.size() && disjoint; i++) {
                disjoint = sorted.get(i).begin()[axis] >= sorted.get(i - 1).end()[axis];
            }
            if (disjoint) {
                return join(full, axis, sorted);
            }
        }
        Tensor sum = null;
        for (Piece p : pieces) {
            Tensor padded = Op.padBack(p.g(), full, p.begin(), p.end());
            sum = sum == null ? padded : sum.add(padded);
        }
        return sum;
    }

    /** The one axis on which every piece may be partial (full on all others), or -1. */
    private static int commonAxis(Shape full, List<Piece> pieces) {
        int axis = -1;
        for (Piece p : pieces) {
            for (int a = 0; a < full.rank(); a++) {
                if (p.begin()[a] != 0 || p.end()[a] != full.dim(a)) {
                    if (axis >= 0 && axis != a) {
                        return -1;
                    }
                    axis = a;
                }
            }
        }
        return full.rank() == 0 ? -1 : Math.max(axis, 0);
    }

    /** Disjoint pieces sorted along {@code axis}, with zeros for the gaps: one concat. */
    private static Tensor join(Shape full, int axis, List<Piece> sorted) {
        Tensor first = sorted.get(0).g();
        List<Tensor> parts = new ArrayList<>(2 * sorted.size() + 1);
        int at = 0;
        for (Piece p : sorted) {
            int from = p.begin()[axis];
            if (from > at) {
                parts.add(first.engine.zeros(full.with(axis, from - at), first.dtype()));
            }
            if (p.end()[axis] > from) {
                parts.add(p.g());
            }
            at = Math.max(at, p.end()[axis]);
        }
        if (at < full.dim(axis)) {
            parts.add(first.engine.zeros(full.with(axis, full.dim(axis) - at), first.dtype()));
        }
        if (parts.isEmpty()) {
            return first.engine.zeros(full, first.dtype());
        }
        return parts.size() == 1 ? parts.get(0) : Tensor.concat(parts, axis);
    }
}
