package dev.metaforge.spi;

import java.util.Arrays;

/**
 * Argument checks shared by every backend, so each rule is written once and every backend reports
 * the same message (the TCK's KERNEL-ERROR rules compare error types, not texts). Each method
 * throws {@link IllegalArgumentException} (or {@link IndexOutOfBoundsException} for indices) whose
 * message starts with the op's name and names the shapes involved.
 *
 * <pre>{@code
 * int a = KernelChecks.axis("softmax", x.shape(), axis);
 * KernelChecks.sameDType("matmul", a.dtype(), b.dtype());
 * }</pre>
 */
public final class KernelChecks {
    private KernelChecks() {
    }

    /** {@code axis} normalised to [0, rank); a negative axis counts from the end. */
    public static int axis(String op, Shape shape, int axis) {
        int rank = shape.rank();
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for shape " + shape
                    + " (rank " + rank + ")");
        }
        return a;
    }

    /** Each of {@code axes} normalised, sorted, and checked for repeats. */
    public static int[] axes(String op, Shape shape, int[] axes) {
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            out[i] = axis(op, shape, axes[i]);
        }
        Arrays.sort(out);
        for (int i = 1; i < out.length; i++) {
            if (out[i] == out[i - 1]) {
                throw new IllegalArgumentException(op + ": axis " + out[i] + " is listed twice in " + Arrays.toString(axes)
                        + " for shape " + shape);
            }
        }
        return out;
    }

    public static void nonNegative(String op, String what, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(op + ": " + what + " must be >= 0, got " + value);
        }
    }

    public static void sameDType(String op, DType a, DType b) {
        if (a != b) {
            throw new IllegalArgumentException(op + ": operands have different dtypes " + a + " and " + b
                    + "; cast one of them first");
        }
    }

    /** As {@link #sameDType(String, DType, DType)}, naming the two operands ("x is FLOAT32 and w is FLOAT64"). */
    public static void sameDType(String op, String aName, DType a, String bName, DType b) {
        if (a != b) {
            throw new IllegalArgumentException(op + ": mixed dtypes, " + aName + " is " + a + " and " + bName + " is " + b
                    + "; cast one of them first");
        }
    }

    public static void floating(String op, DType dtype) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException(op + ": " + dtype + " is not supported, it needs a floating dtype"
                    + " (FLOAT32 or FLOAT64); cast first");
        }
    }

    public static void integer(String op, String what, DType dtype) {
        if (dtype != DType.INT64) {
            throw new IllegalArgumentException(op + ": " + what + " must be INT64, got " + dtype);
        }
    }

    /** {@code 0 <= begin[i] <= end[i] <= dim(i)} on every axis. */
    public static void sliceBounds(String op, Shape shape, int[] begin, int[] end) {
        if (begin.length != shape.rank() || end.length != shape.rank()) {
            throw new IllegalArgumentException(op + ": begin " + Arrays.toString(begin) + " and end " + Arrays.toString(end)
                    + " need one entry per axis of shape " + shape);
        }
        for (int i = 0; i < begin.length; i++) {
            if (begin[i] < 0 || begin[i] > end[i] || end[i] > shape.dim(i)) {
                throw new IllegalArgumentException(op + ": [" + begin[i] + ", " + end[i] + ") on axis " + i + " of shape "
                        + shape + " does not satisfy 0 <= begin <= end <= dim (dim " + shape.dim(i) + ")");
            }
        }
    }

    /** An index into an axis of {@code size} entries. */
    public static void index(String op, long index, int size, Shape shape, int axis) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException(op + ": index " + index + " is out of range [0, " + size + ") on axis "
                    + axis + " of shape " + shape);
        }
    }

    /**
     * Every one of {@code indices} (e.g. a gather's, read back to the host) lies in {@code [0, size)};
     * the message names the first bad index and its position.
     */
    public static void indices(String op, long[] indices, int size, Shape shape, int axis) {
        for (int j = 0; j < indices.length; j++) {
            long index = indices[j];
            if (index < 0 || index >= size) {
                throw new IndexOutOfBoundsException(op + ": index " + index + " at position " + j + " is out of range [0, "
                        + size + ") on axis " + axis + " of shape " + shape);
            }
        }
    }

    /** The permutation that swaps the last two of {@code rank} axes; rank < 2 is an error naming {@code op}. */
    public static int[] swapLastTwo(int rank, String op) {
        if (rank < 2) {
            throw new IllegalArgumentException(op + " needs rank >= 2 to transpose its last two axes, got rank " + rank);
        }
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) {
            perm[i] = i;
        }
        perm[rank - 2] = rank - 1;
        perm[rank - 1] = rank - 2;
        return perm;
    }

    /** {@code permutation} is a permutation of {@code 0..rank-1}. */
    public static int[] permutation(String op, Shape shape, int[] permutation) {
        if (permutation.length != shape.rank()) {
            throw new IllegalArgumentException(op + ": permutation " + Arrays.toString(permutation) + " needs "
                    + shape.rank() + " axes for shape " + shape);
        }
        int[] out = new int[permutation.length];
        boolean[] seen = new boolean[permutation.length];
        for (int i = 0; i < permutation.length; i++) {
            int a = axis(op, shape, permutation[i]);
            if (seen[a]) {
                throw new IllegalArgumentException(op + ": permutation " + Arrays.toString(permutation) + " repeats axis " + a);
            }
            seen[a] = true;
            out[i] = a;
        }
        return out;
    }

    /**
     * Segment reductions: {@code data} [N, ...] and INT64 {@code segmentIds} [N] with ids in
     * {@code [0, numSegments)} (ids are checked by the kernels that read them). Returns the data shape.
     */
    public static Shape segments(String op, Shape data, NativeArray segmentIds, int numSegments) {
        nonNegative(op, "numSegments", numSegments);
        integer(op, "segment ids", segmentIds.dtype());
        if (data.rank() < 1 || segmentIds.shape().rank() != 1 || segmentIds.shape().dim(0) != data.dim(0)) {
            throw new IllegalArgumentException(op + ": needs data [N, ...] and segment ids [N], got data " + data
                    + " and ids " + segmentIds.shape());
        }
        return data;
    }

    /**
     * The backward kernels of conv2d: {@code gradOutput} must have the shape conv2d of {@code input}
     * and {@code weight} with {@code options} gives (which {@link Conv2dOptions#outputShape} checks
     * first). Returns that shape.
     */
    public static Shape conv2dGradient(String op, Shape input, Shape weight, Shape gradOutput, Conv2dOptions options) {
        Shape expected = options.outputShape(input, weight);
        if (!expected.equals(gradOutput)) {
            throw new IllegalArgumentException(op + ": the output gradient has shape " + gradOutput + " but conv2d of input "
                    + input + " and weight " + weight + " with " + options + " gives " + expected);
        }
        return expected;
    }

    /**
     * Checks the arguments of a foreach optimizer update: parallel lists of one length, no null
     * entry, and per entry arrays of one shape and one floating dtype. A backend that updates
     * donated buffers in place calls this before overwriting anything.
     */
    public static void foreachUpdate(String op, java.util.List<NativeArray> params, java.util.List<NativeArray> grads,
                                     java.util.List<NativeArray> m, java.util.List<NativeArray> v) {
        if (params == null || grads == null || m == null || v == null) {
            throw new IllegalArgumentException(op + ": params, grads, m and v must not be null");
        }
        int n = params.size();
        if (grads.size() != n || m.size() != n || v.size() != n) {
            throw new IllegalArgumentException(op + ": params, grads, m and v need one entry per parameter, got "
                    + n + ", " + grads.size() + ", " + m.size() + " and " + v.size() + " entries");
        }
        for (int i = 0; i < n; i++) {
            NativeArray p = params.get(i);
            NativeArray[] others = {grads.get(i), m.get(i), v.get(i)};
            if (p == null || others[0] == null || others[1] == null || others[2] == null) {
                throw new IllegalArgumentException(op + ": entry " + i + " has a null array");
            }
            floating(op, p.dtype());
            for (NativeArray o : others) {
                sameDType(op, p.dtype(), o.dtype());
                if (!o.shape().equals(p.shape())) {
                    throw new IllegalArgumentException(op + ": entry " + i + ": param, grad, m and v must have one shape, got "
                            + p.shape() + ", " + others[0].shape() + ", " + others[1].shape() + ", " + others[2].shape());
                }
            }
        }
    }

    /**
     * Checks the lists of {@link Kernels#sgdUpdateForeach} before anything is overwritten: one
     * param, grad and (with momentum) buffer per entry, none null, one floating dtype and shape per entry.
     */
    public static void sgdForeachUpdate(String op, java.util.List<NativeArray> params, java.util.List<NativeArray> grads,
                                        java.util.List<NativeArray> buffers, SgdStep h) {
        if (params == null || grads == null || buffers == null || h == null) {
            throw new IllegalArgumentException(op + ": params, grads, buffers and the step must not be null");
        }
        int n = params.size();
        int wantBuffers = h.momentum() != 0 ? n : 0;
        if (grads.size() != n || buffers.size() != wantBuffers) {
            throw new IllegalArgumentException(op + ": need one grad per parameter and " + (wantBuffers == 0
                    ? "no momentum buffers (momentum 0)" : "one momentum buffer per parameter") + ", got " + n + " params, "
                    + grads.size() + " grads and " + buffers.size() + " buffers");
        }
        for (int i = 0; i < n; i++) {
            NativeArray p = params.get(i);
            java.util.List<NativeArray> others = wantBuffers == 0 ? java.util.Arrays.asList(grads.get(i))
                    : java.util.Arrays.asList(grads.get(i), buffers.get(i));
            if (p == null || others.contains(null)) {
                throw new IllegalArgumentException(op + ": entry " + i + " has a null array");
            }
            floating(op, p.dtype());
            for (NativeArray o : others) {
                sameDType(op, p.dtype(), o.dtype());
                if (!o.shape().equals(p.shape())) {
                    throw new IllegalArgumentException(op + ": entry " + i + ": param, grad and buffer must have one shape, got "
                            + p.shape() + " and " + o.shape());
                }
            }
        }
    }

    /** Fails unless {@code a} and {@code b} have one shape and one floating dtype. */
    public static void sameShapeAndDType(String op, NativeArray a, NativeArray b) {
        if (a == null || b == null) {
            throw new IllegalArgumentException(op + ": an argument is null");
        }
        floating(op, a.dtype());
        sameDType(op, a.dtype(), b.dtype());
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": the arguments must have one shape, got " + a.shape() + " and " + b.shape());
        }
    }

    /**
     * The axes of {@code full} along which an operand of shape {@code part} was broadcast to it
     * (trailing-aligned, NumPy rules): the leading axes beyond {@code part}'s rank and the axes
     * where {@code part} has size 1 and {@code full} does not. Fails when {@code part} does not broadcast to {@code full}.
     */
    public static int[] broadcastAxes(String op, Shape full, Shape part) {
        if (full == null || part == null) {
            throw new IllegalArgumentException(op + ": a shape is null");
        }
        int extra = full.rank() - part.rank();
        if (extra < 0) {
            throw new IllegalArgumentException(op + ": " + part + " has more axes than " + full);
        }
        int[] axes = new int[full.rank()];
        int n = 0;
        for (int i = 0; i < full.rank(); i++) {
            if (i < extra) {
                axes[n++] = i;
                continue;
            }
            int p = part.dim(i - extra);
            if (p == 1 && full.dim(i) != 1) {
                axes[n++] = i;
            } else if (p != full.dim(i)) {
                throw new IllegalArgumentException(op + ": " + part + " does not broadcast to " + full);
            }
        }
        return java.util.Arrays.copyOf(axes, n);
    }
}
