package dev.metaforge.spi;

import java.util.ArrayList;
import java.util.List;

/**
 * The compositions behind {@link Kernels}' newer default methods: each written with the original
 * primitives only, so a backend built against an older SPI gets them for free. Every intermediate
 * is closed here; the result belongs to the caller.
 */
final class KernelCompositions {
    private KernelCompositions() {
    }

    static NativeArray arange(Kernels k, int n, DType dtype) {
        KernelChecks.nonNegative("arange", "n", n);
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = i;
        }
        return k.fromDoubles(values, Shape.of(n), dtype);
    }

    /**
     * A Hillis-Steele scan: log2(n) rounds of {@code x += x shifted by 2^r along the axis}. Only adds,
     * slices and concatenations, so INT64 stays exact, infinities and NaN propagate as in a running
     * sum (a product with a triangular matrix of ones would turn {@code inf * 0} into NaN), and the
     * float rounding error grows with log2(n) rather than n.
     */
    static NativeArray cumsum(Kernels k, NativeArray x, int axis) {
        Shape shape = x.shape();
        int a = KernelChecks.axis("cumsum", shape, axis);
        int n = shape.dim(a);
        NativeArray sum = k.cast(x, x.dtype());
        try {
            for (int shift = 1; shift < n; shift *= 2) {
                try (NativeArray head = sliceAxis(k, sum, a, 0, n - shift);
                     NativeArray zeros = k.zeros(shape.with(a, shift), x.dtype());
                     NativeArray shifted = k.concat(List.of(zeros, head), a);
                     NativeArray previous = sum) {
                    sum = null;
                    sum = k.binary(BinaryOp.ADD, previous, shifted);
                }
            }
            return sum;
        } catch (RuntimeException | Error e) {
            if (sum != null) {
                sum.close();
            }
            throw e;
        }
    }

    static NativeArray argmax(Kernels k, NativeArray x, int axis, boolean keepDims) {
        Shape shape = x.shape();
        int a = KernelChecks.axis("argmax", shape, axis);
        if (shape.dim(a) == 0) {
            throw new IllegalArgumentException("argmax: axis " + axis + " of shape " + shape + " is empty");
        }
        try (TopK top = k.topK(x, 1, a)) {
            return keepDims ? k.cast(top.indices(), DType.INT64) : k.reshape(top.indices(), shape.without(a));
        }
    }

    /**
     * Descending: topK over the whole axis (ties to the lower index, NaN first). Ascending: the
     * reverse of a descending order whose ties go to the <em>higher</em> index, i.e. topK of the
     * reversed array with its indices mapped back and reversed again; NaN then comes last, as in
     * PyTorch and NumPy (negating the values instead would put NaN first).
     */
    static NativeArray argsort(Kernels k, NativeArray x, int axis, boolean descending) {
        Shape shape = x.shape();
        int a = KernelChecks.axis("argsort", shape, axis);
        int n = shape.dim(a);
        if (descending) {
            try (TopK top = k.topK(x, n, a)) {
                return k.cast(top.indices(), DType.INT64);
            }
        }
        try (NativeArray reversed = reverse(k, x, a);
             TopK top = k.topK(reversed, n, a);
             NativeArray negated = k.unary(UnaryOp.NEG, top.indices());
             NativeArray original = k.binaryScalar(BinaryOp.ADD, negated, n - 1)) {
            return reverse(k, original, a);
        }
    }

    static NativeArray sort(Kernels k, NativeArray x, int axis, boolean descending) {
        Shape shape = x.shape();
        int a = KernelChecks.axis("sort", shape, axis);
        int n = shape.dim(a);
        if (descending) {
            try (TopK top = k.topK(x, n, a)) {
                return k.cast(top.values(), x.dtype());
            }
        }
        try (NativeArray reversed = reverse(k, x, a); TopK top = k.topK(reversed, n, a)) {
            return reverse(k, top.values(), a);
        }
    }

    /** {@code x} with the order along {@code axis} reversed. */
    private static NativeArray reverse(Kernels k, NativeArray x, int axis) {
        int n = x.shape().dim(axis);
        try (NativeArray backwards = k.fromLongs(reversed(n), Shape.of(n))) {
            return k.gather(x, backwards, axis);
        }
    }

    static NativeArray segmentSum(Kernels k, NativeArray data, NativeArray segmentIds, int numSegments) {
        KernelChecks.segments("segmentSum", data.shape(), segmentIds, numSegments);
        try (NativeArray target = k.zeros(data.shape().with(0, numSegments), data.dtype())) {
            return k.scatterAdd(target, segmentIds, data, 0);
        }
    }

    /**
     * One-hot membership [S, N] masks the data: non-members become the lowest value (-inf, or the
     * data's minimum for INT64) before a MAX over N; empty segments give 0. The ids are range-checked
     * by a gather (a row with a bad id would otherwise silently join no segment).
     */
    static NativeArray segmentMax(Kernels k, NativeArray data, NativeArray segmentIds, int numSegments) {
        Shape shape = KernelChecks.segments("segmentMax", data.shape(), segmentIds, numSegments);
        int n = shape.dim(0);
        DType dtype = data.dtype();
        try (NativeArray segments = arange(k, numSegments, DType.INT64)) {
            k.gather(segments, segmentIds, 0).close(); // the range check only
        }
        if (n == 0 || shape.size() == 0) {
            return k.zeros(shape.with(0, numSegments), dtype);
        }
        int[] memberDims = new int[shape.rank() + 1];
        memberDims[0] = numSegments;
        memberDims[1] = n;
        for (int i = 2; i < memberDims.length; i++) {
            memberDims[i] = 1;
        }
        int[] dataDims = new int[shape.rank() + 1];
        dataDims[0] = 1;
        System.arraycopy(shape.dims(), 0, dataDims, 1, shape.rank());
        try (NativeArray ids = k.cast(segmentIds, dtype);
             NativeArray idsRow = k.reshape(ids, Shape.of(1, n));
             NativeArray segs = arange(k, numSegments, dtype);
             NativeArray segsCol = k.reshape(segs, Shape.of(numSegments, 1));
             NativeArray member = k.binary(BinaryOp.EQ, idsRow, segsCol);
             NativeArray memberB = k.reshape(member, Shape.of(memberDims));
             NativeArray dataB = k.reshape(data, Shape.of(dataDims));
             NativeArray lowest = dtype.isFloating() ? k.full(Shape.scalar(), Double.NEGATIVE_INFINITY, dtype)
                     : k.reduce(ReduceOp.MIN, data, new int[0], false);
             NativeArray masked = k.where(memberB, dataB, lowest);
             NativeArray max = k.reduce(ReduceOp.MAX, masked, new int[] {1}, false);
             NativeArray counts = k.reduce(ReduceOp.SUM, memberB, new int[] {1}, false);
             NativeArray zero = k.zeros(Shape.scalar(), dtype)) {
            return k.where(counts, max, zero);
        }
    }

    // ---- convolution ---------------------------------------------------------------------

    static NativeArray conv2d(Kernels k, NativeArray input, NativeArray weight, Conv2dOptions o) {
        o.outputShape(input.shape(), weight.shape());
        if (o.groups() > 1) {
            return perGroup(k, input, weight, o, 1, 0, 1, (x, w, single) -> conv2d(k, x, w, single));
        }
        if (o.dilation()[0] == 1 && o.dilation()[1] == 1) {
            return k.conv2d(input, weight, o.stride(), o.padding());
        }
        try (NativeArray dilated = insertZeros(k, weight, o.dilation())) {
            return k.conv2d(input, dilated, o.stride(), o.padding());
        }
    }

    /**
     * The input's cotangent: the gradient dilated by the stride, padded so every input position
     * sees the taps that touched it, and correlated with the spatially flipped kernel (O and C swapped).
     */
    static NativeArray conv2dBackwardInput(Kernels k, NativeArray gradOutput, NativeArray weight, Shape inputShape,
                                           Conv2dOptions o) {
        KernelChecks.conv2dGradient("conv2dBackwardInput", inputShape, weight.shape(), gradOutput.shape(), o);
        if (o.groups() > 1) {
            Conv2dOptions single = new Conv2dOptions(o.stride(), o.padding(), o.dilation(), 1);
            int cg = inputShape.dim(1) / o.groups();
            Shape groupInput = inputShape.with(1, cg);
            return perGroup(k, gradOutput, weight, o, 1, 0, 1,
                    (g, w, ignored) -> conv2dBackwardInput(k, g, w, groupInput, single));
        }
        int[] s = o.stride();
        int[] p = o.padding();
        int[] d = o.dilation();
        Shape ws = weight.shape();
        List<NativeArray> temps = new ArrayList<>();
        try {
            NativeArray g = s[0] == 1 && s[1] == 1 ? gradOutput : keep(temps, insertZeros(k, gradOutput, s));
            for (int i = 0; i < 2; i++) {
                int kernel = ws.dim(2 + i);
                int before = (kernel - 1) * d[i] - p[i];
                int after = inputShape.dim(2 + i) + p[i] - g.shape().dim(2 + i);
                NativeArray next = padOrCrop(k, g, 2 + i, before, after);
                if (next != g) {
                    g = keep(temps, next);
                }
            }
            NativeArray flipped = keep(temps, flipSpatial(k, weight));
            NativeArray swapped = keep(temps, k.transpose(flipped, new int[] {1, 0, 2, 3}));
            Conv2dOptions unit = new Conv2dOptions(new int[] {1, 1}, new int[] {0, 0}, d, 1);
            return k.conv2d(g, swapped, unit);
        } finally {
            temps.forEach(NativeArray::close);
        }
    }

    /**
     * The weight's cotangent: a correlation of the (channel-major) input with the (channel-major)
     * gradient, where the forward stride becomes the dilation and the dilation the stride.
     */
    static NativeArray conv2dBackwardWeight(Kernels k, NativeArray input, NativeArray gradOutput, Shape weightShape,
                                            Conv2dOptions o) {
        KernelChecks.conv2dGradient("conv2dBackwardWeight", input.shape(), weightShape, gradOutput.shape(), o);
        if (o.groups() > 1) {
            Conv2dOptions single = new Conv2dOptions(o.stride(), o.padding(), o.dilation(), 1);
            Shape groupWeight = weightShape.with(0, weightShape.dim(0) / o.groups());
            return perGroup(k, input, gradOutput, o, 1, 1, 0,
                    (x, g, ignored) -> conv2dBackwardWeight(k, x, g, groupWeight, single));
        }
        Conv2dOptions swapped = new Conv2dOptions(o.dilation(), o.padding(), o.stride(), 1);
        try (NativeArray xT = k.transpose(input, new int[] {1, 0, 2, 3});
             NativeArray gT = k.transpose(gradOutput, new int[] {1, 0, 2, 3});
             NativeArray full = k.conv2d(xT, gT, swapped);
             NativeArray cropped = k.slice(full, new int[] {0, 0, 0, 0},
                     new int[] {full.shape().dim(0), full.shape().dim(1), weightShape.dim(2), weightShape.dim(3)})) {
            return k.transpose(cropped, new int[] {1, 0, 2, 3});
        }
    }

    @FunctionalInterface
    private interface GroupOp {
        NativeArray apply(NativeArray a, NativeArray b, Conv2dOptions single);
    }

    /** Splits {@code a} on {@code axisA} and {@code b} on {@code axisB} into groups, applies op, joins on {@code joinAxis}. */
    private static NativeArray perGroup(Kernels k, NativeArray a, NativeArray b, Conv2dOptions o, int axisA, int axisB,
                                        int joinAxis, GroupOp op) {
        int groups = o.groups();
        Conv2dOptions single = new Conv2dOptions(o.stride(), o.padding(), o.dilation(), 1);
        List<NativeArray> parts = new ArrayList<>(groups);
        try {
            int sizeA = a.shape().dim(axisA) / groups;
            int sizeB = b.shape().dim(axisB) / groups;
            for (int gi = 0; gi < groups; gi++) {
                try (NativeArray pa = sliceAxis(k, a, axisA, gi * sizeA, (gi + 1) * sizeA);
                     NativeArray pb = sliceAxis(k, b, axisB, gi * sizeB, (gi + 1) * sizeB)) {
                    parts.add(op.apply(pa, pb, single));
                }
            }
            return k.concat(parts, joinAxis);
        } finally {
            parts.forEach(NativeArray::close);
        }
    }

    private static NativeArray sliceAxis(Kernels k, NativeArray x, int axis, int from, int to) {
        int[] begin = new int[x.shape().rank()];
        int[] end = x.shape().dims();
        begin[axis] = from;
        end[axis] = to;
        return k.slice(x, begin, end);
    }

    /** [A, B, H, W] to [A, B, (H-1)f0+1, (W-1)f1+1] with f-1 zeros between neighbours. */
    static NativeArray insertZeros(Kernels k, NativeArray x, int[] factor) {
        Shape s = x.shape();
        int a = s.dim(0);
        int b = s.dim(1);
        int h = s.dim(2);
        int w = s.dim(3);
        if (h == 0 || w == 0) {
            return k.cast(x, x.dtype());
        }
        try (NativeArray six = k.reshape(x, Shape.of(a, b, h, 1, w, 1));
             NativeArray rows = appendZeros(k, six, 3, factor[0] - 1);
             NativeArray cols = appendZeros(k, rows, 5, factor[1] - 1);
             NativeArray flat = k.reshape(cols, Shape.of(a, b, h * factor[0], w * factor[1]))) {
            return k.slice(flat, new int[] {0, 0, 0, 0}, new int[] {a, b, (h - 1) * factor[0] + 1, (w - 1) * factor[1] + 1});
        }
    }

    private static NativeArray appendZeros(Kernels k, NativeArray x, int axis, int count) {
        if (count == 0) {
            return k.cast(x, x.dtype());
        }
        try (NativeArray zeros = k.zeros(x.shape().with(axis, count), x.dtype())) {
            return k.concat(List.of(x, zeros), axis);
        }
    }

    /** Zeros added (positive) or entries removed (negative) before and after on {@code axis}; may return {@code x} itself. */
    private static NativeArray padOrCrop(Kernels k, NativeArray x, int axis, int before, int after) {
        if (before == 0 && after == 0) {
            return x;
        }
        List<NativeArray> temps = new ArrayList<>();
        try {
            NativeArray cur = x;
            int from = Math.max(0, -before);
            int to = cur.shape().dim(axis) - Math.max(0, -after);
            if (from > 0 || to < cur.shape().dim(axis)) {
                cur = keep(temps, sliceAxis(k, cur, axis, from, Math.max(from, to)));
            }
            if (before > 0 || after > 0) {
                List<NativeArray> parts = new ArrayList<>(3);
                if (before > 0) {
                    parts.add(keep(temps, k.zeros(cur.shape().with(axis, before), cur.dtype())));
                }
                parts.add(cur);
                if (after > 0) {
                    parts.add(keep(temps, k.zeros(cur.shape().with(axis, after), cur.dtype())));
                }
                return k.concat(parts, axis);
            }
            temps.remove(cur);
            return cur;
        } finally {
            temps.forEach(NativeArray::close);
        }
    }

    private static NativeArray flipSpatial(Kernels k, NativeArray w) {
        Shape s = w.shape();
        try (NativeArray rows = k.fromLongs(reversed(s.dim(2)), Shape.of(s.dim(2)));
             NativeArray cols = k.fromLongs(reversed(s.dim(3)), Shape.of(s.dim(3)));
             NativeArray flippedRows = k.gather(w, rows, 2)) {
            return k.gather(flippedRows, cols, 3);
        }
    }

    private static long[] reversed(int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = n - 1 - i;
        }
        return out;
    }

    private static NativeArray keep(List<NativeArray> temps, NativeArray a) {
        temps.add(a);
        return a;
    }
}
