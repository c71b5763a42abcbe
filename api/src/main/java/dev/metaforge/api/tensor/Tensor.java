package dev.metaforge.api.tensor;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable n-dimensional array on a backend, with reverse-mode autodiff.
 *
 * <p>Ops are fluent and broadcast NumPy-style: {@code x.matmul(w).add(b).relu()}. Every op on a
 * tensor that {@link #isTracked() is tracked} records how to differentiate it; the rules are
 * themselves tensor ops, so {@link Grad} can differentiate a gradient again.
 *
 * <p>A new tensor belongs to the innermost open {@link Scope} of its thread, which frees its
 * native memory; a tensor created outside any scope is freed by {@link #close()}.
 *
 * <pre>{@code
 * try (Scope s = Scope.open()) {
 *     Tensor w = engine.normal(Shape.of(3, 2), 0, 1, 42).requiresGrad();
 *     Tensor loss = x.matmul(w).square().mean();
 *     Tensor dw = Grad.of(loss).wrt(w);
 * }
 * }</pre>
 */
public final class Tensor implements AutoCloseable {
    final Engine engine;
    final NativeArray array;
    final Node node;
    /** The scope that frees this tensor; null when unmanaged or a view. */
    Scope owner;
    private final boolean ownsArray;

    Tensor(Engine engine, NativeArray array, Node node, boolean ownsArray) {
        this.engine = engine;
        this.array = array;
        this.node = node;
        this.ownsArray = ownsArray;
    }

    // ---- identity --------------------------------------------------------------------------

    public Engine engine() {
        return engine;
    }

    public Shape shape() {
        return array.shape();
    }

    public DType dtype() {
        return array.dtype();
    }

    public int rank() {
        return array.shape().rank();
    }

    /** Dimension {@code axis} (negative counts from the end). */
    public int dim(int axis) {
        return array.shape().dim(axis);
    }

    public long size() {
        return array.shape().size();
    }

    /** The backend's array; valid while this tensor is alive. */
    public NativeArray nativeArray() {
        return array;
    }

    /**
     * Whether closing this tensor frees its array: false for a view of another tensor's array (a
     * tracked copy from {@link #requiresGrad}, for instance), whose memory belongs to that tensor.
     * {@link dev.metaforge.api.optim.Optimizer#stepInPlace} donates only such owners' memory.
     */
    public boolean ownsArray() {
        return ownsArray;
    }

    /**
     * The primitive that produced this tensor when it was recorded for autodiff ({@link Op#opName()},
     * e.g. "matmul"); null for leaves, constants and tensors computed while nothing was recorded.
     */
    public Op op() {
        return node == null ? null : node.op;
    }

    /** True when gradients flow through this tensor. */
    public boolean isTracked() {
        return node != null;
    }

    /** A view of the same data that is a leaf of the autodiff graph: gradients can be taken with respect to it. */
    public Tensor requiresGrad() {
        return view(Node.leaf());
    }

    /** A view of the same data through which no gradient flows (JAX's {@code stop_gradient}). */
    public Tensor stopGradient() {
        return node == null ? this : view(null);
    }

    private Tensor view(Node newNode) {
        Tensor t = new Tensor(engine, array, newNode, false);
        return t;
    }

    // ---- data out ---------------------------------------------------------------------------

    public double[] toDoubles() {
        return k().toDoubles(array);
    }

    public float[] toFloats() {
        return k().toFloats(array);
    }

    public long[] toLongs() {
        return k().toLongs(array);
    }

    /** The single value of a tensor with one element. */
    public double item() {
        if (size() != 1) {
            throw new IllegalStateException("item() needs a tensor of one element, got shape " + shape());
        }
        return toDoubles()[0];
    }

    // ---- elementwise unary ------------------------------------------------------------------
    // Each op runs the backend's kernel and records its primitive; the VJP rules are in Op.

    public Tensor neg() {
        return make(k().unary(UnaryOp.NEG, array), Op.NEG, null, this);
    }

    public Tensor abs() {
        return make(k().unary(UnaryOp.ABS, array), Op.ABS, null, this);
    }

    /** -1, 0 or 1; its gradient is zero. */
    public Tensor sign() {
        return constant(k().unary(UnaryOp.SIGN, array));
    }

    public Tensor exp() {
        return make(k().unary(UnaryOp.EXP, array), Op.EXP, null, this);
    }

    public Tensor log() {
        return make(k().unary(UnaryOp.LOG, array), Op.LOG, null, this);
    }

    public Tensor sqrt() {
        return make(k().unary(UnaryOp.SQRT, array), Op.SQRT, null, this);
    }

    public Tensor square() {
        return make(k().unary(UnaryOp.SQUARE, array), Op.SQUARE, null, this);
    }

    public Tensor reciprocal() {
        return make(k().unary(UnaryOp.RECIPROCAL, array), Op.RECIPROCAL, null, this);
    }

    public Tensor tanh() {
        return make(k().unary(UnaryOp.TANH, array), Op.TANH, null, this);
    }

    public Tensor sigmoid() {
        return make(k().unary(UnaryOp.SIGMOID, array), Op.SIGMOID, null, this);
    }

    public Tensor relu() {
        return make(k().unary(UnaryOp.RELU, array), Op.RELU, null, this);
    }

    /** ReLU's VJP {@code g ⊙ (x > 0)}, one kernel, differentiable in {@code g} (for higher-order gradients). */
    static Tensor reluBackward(Tensor g, Tensor x) {
        return g.make(g.k().reluBackward(g.array, x.array), Op.RELU_BACKWARD, null, g, x);
    }

    /** The logits' VJP of {@link #softmaxCrossEntropy} as one kernel; g is the loss's cotangent. */
    static Tensor softmaxCrossEntropyBackward(Tensor g, Tensor logits, Tensor target, int axis) {
        return g.make(g.k().softmaxCrossEntropyBackward(g.array, logits.array, target.array, axis), Op.SOFTMAX_CROSS_ENTROPY_BACKWARD,
                axis, g, logits, target);
    }

    /** This cotangent summed back to the broadcast operand shape {@code target}, one kernel, differentiable. */
    Tensor biasGradient(Shape target) {
        return make(k().biasGradient(array, target), Op.BIAS_GRADIENT, null, this);
    }

    /** max(x, alpha x) for 0 <= alpha <= 1. */
    public Tensor leakyRelu(double alpha) {
        return maximum(mul(alpha));
    }

    public Tensor sin() {
        return make(k().unary(UnaryOp.SIN, array), Op.SIN, null, this);
    }

    public Tensor cos() {
        return make(k().unary(UnaryOp.COS, array), Op.COS, null, this);
    }

    /** log(1 + exp(x)), computed stably as max(x, 0) + log(1 + exp(-|x|)). */
    public Tensor softplus() {
        return relu().add(abs().neg().exp().add(1.0).log());
    }

    /** Gaussian error linear unit, tanh approximation (as GPT-2 and PyTorch's {@code approximate='tanh'}). */
    public Tensor gelu() {
        Tensor inner = add(pow(3.0).mul(0.044715)).mul(Math.sqrt(2.0 / Math.PI));
        return mul(0.5).mul(inner.tanh().add(1.0));
    }

    // ---- elementwise binary -----------------------------------------------------------------

    public Tensor add(Tensor o) {
        return make(k().binary(BinaryOp.ADD, array, o.array), Op.ADD, null, this, o);
    }

    public Tensor sub(Tensor o) {
        return make(k().binary(BinaryOp.SUB, array, o.array), Op.SUB, null, this, o);
    }

    public Tensor mul(Tensor o) {
        return make(k().binary(BinaryOp.MUL, array, o.array), Op.MUL, null, this, o);
    }

    public Tensor div(Tensor o) {
        return make(k().binary(BinaryOp.DIV, array, o.array), Op.DIV, null, this, o);
    }

    /** this ^ o elementwise; the gradient with respect to o uses log(this), so this must be positive there. */
    public Tensor pow(Tensor o) {
        return make(k().binary(BinaryOp.POW, array, o.array), Op.POW, null, this, o);
    }

    public Tensor maximum(Tensor o) {
        return make(k().binary(BinaryOp.MAXIMUM, array, o.array), Op.MAXIMUM, null, this, o);
    }

    public Tensor minimum(Tensor o) {
        return make(k().binary(BinaryOp.MINIMUM, array, o.array), Op.MINIMUM, null, this, o);
    }

    public Tensor add(double c) {
        return make(k().binaryScalar(BinaryOp.ADD, array, c), Op.ADD_SCALAR, c, this);
    }

    public Tensor sub(double c) {
        return make(k().binaryScalar(BinaryOp.SUB, array, c), Op.SUB_SCALAR, c, this);
    }

    /** c - this. */
    public Tensor rsub(double c) {
        Tensor n = neg();
        return n.add(c);
    }

    public Tensor mul(double c) {
        return make(k().binaryScalar(BinaryOp.MUL, array, c), Op.MUL_SCALAR, c, this);
    }

    public Tensor div(double c) {
        return make(k().binaryScalar(BinaryOp.DIV, array, c), Op.DIV_SCALAR, c, this);
    }

    public Tensor pow(double c) {
        return make(k().binaryScalar(BinaryOp.POW, array, c), Op.POW_SCALAR, c, this);
    }

    public Tensor maximum(double c) {
        return make(k().binaryScalar(BinaryOp.MAXIMUM, array, c), Op.MAXIMUM_SCALAR, c, this);
    }

    public Tensor minimum(double c) {
        return make(k().binaryScalar(BinaryOp.MINIMUM, array, c), Op.MINIMUM_SCALAR, c, this);
    }

    // ---- comparisons (not differentiable; 1/0 in this dtype) --------------------------------

    public Tensor eq(Tensor o) {
        return constant(k().binary(BinaryOp.EQ, array, o.array));
    }

    public Tensor ne(Tensor o) {
        return constant(k().binary(BinaryOp.NE, array, o.array));
    }

    public Tensor lt(Tensor o) {
        return constant(k().binary(BinaryOp.LT, array, o.array));
    }

    public Tensor le(Tensor o) {
        return constant(k().binary(BinaryOp.LE, array, o.array));
    }

    public Tensor gt(Tensor o) {
        return constant(k().binary(BinaryOp.GT, array, o.array));
    }

    public Tensor ge(Tensor o) {
        return constant(k().binary(BinaryOp.GE, array, o.array));
    }

    public Tensor eq(double c) {
        return constant(k().binaryScalar(BinaryOp.EQ, array, c));
    }

    public Tensor lt(double c) {
        return constant(k().binaryScalar(BinaryOp.LT, array, c));
    }

    public Tensor le(double c) {
        return constant(k().binaryScalar(BinaryOp.LE, array, c));
    }

    public Tensor gt(double c) {
        return constant(k().binaryScalar(BinaryOp.GT, array, c));
    }

    public Tensor ge(double c) {
        return constant(k().binaryScalar(BinaryOp.GE, array, c));
    }

    /** {@code condition != 0 ? onTrue : onFalse}, broadcasting; no gradient flows to the condition. */
    public static Tensor where(Tensor condition, Tensor onTrue, Tensor onFalse) {
        return onTrue.make(onTrue.k().where(condition.array, onTrue.array, onFalse.array), Op.WHERE, null,
                condition.stopGradient(), onTrue, onFalse);
    }

    public Tensor cast(DType dtype) {
        return make(k().cast(array, dtype), Op.CAST, dtype(), this);
    }

    // ---- linear algebra ----------------------------------------------------------------------

    /** NumPy matmul for rank >= 2: the last two axes multiply, leading axes broadcast. */
    public Tensor matmul(Tensor o) {
        return make(k().matmul(array, o.array), Op.MATMUL, null, this, o);
    }

    /**
     * {@code op(this) @ op(o)} where {@code op} transposes the last two axes when its flag is set; the same as
     * {@code this.mT().matmul(o)} and so on, without materialising the transpose where the backend multiplies
     * with flags. Differentiable to any order.
     */
    public Tensor matmul(Tensor o, boolean transposeThis, boolean transposeOther) {
        if (!transposeThis && !transposeOther) {
            return matmul(o);
        }
        return make(k().matmul(array, o.array, transposeThis, transposeOther), Op.MATMUL_T,
                new Op.MatmulAttrs(transposeThis, transposeOther), this, o);
    }

    /** {@code this @ w + b} through the backend's fused kernel; {@code b} may be null. */
    public Tensor linear(Tensor w, Tensor b) {
        NativeArray out = k().linear(array, w.array, b == null ? null : b.array);
        // Cotangents only for tracked inputs: the data input of a first layer needs none.
        return b == null ? make(out, Op.LINEAR, null, this, w) : make(out, Op.LINEAR, null, this, w, b);
    }

    /**
     * 2-D convolution (cross-correlation) of this NCHW input with {@code weight} [O, C/groups, kH, kW].
     * Differentiable to any order: its VJPs are the two backward convolutions, whose own VJPs are
     * convolutions again.
     */
    public Tensor conv2d(Tensor weight, Conv2dOptions options) {
        requireNonNull(options, "options is null");
        options.outputShape(shape(), weight.shape());
        return make(k().conv2d(array, weight.array, options), Op.CONV2D, new Op.ConvAttrs(options), this, weight);
    }

    /**
     * The input cotangent of {@code x.conv2d(w, o)} for output cotangent {@code g}, for an input of
     * {@code inputShape} (a differentiable op: the VJP of conv2d, public so that gradient tables can
     * check it directly).
     */
    public static Tensor conv2dBackwardInput(Tensor g, Tensor w, Shape inputShape, Conv2dOptions o) {
        return g.make(g.k().conv2dBackwardInput(g.array, w.array, inputShape, o), Op.CONV2D_BACKWARD_INPUT,
                new Op.ConvAttrs(o), g, w);
    }

    /**
     * The weight cotangent of {@code x.conv2d(w, o)} for output cotangent {@code g}, for a weight of
     * {@code weightShape} (a differentiable op, public for the same reason).
     */
    public static Tensor conv2dBackwardWeight(Tensor x, Tensor g, Shape weightShape, Conv2dOptions o) {
        return x.make(x.k().conv2dBackwardWeight(x.array, g.array, weightShape, o), Op.CONV2D_BACKWARD_WEIGHT,
                new Op.ConvAttrs(o), x, g);
    }

    /** Swaps the last two axes. */
    public Tensor mT() {
        int r = rank();
        if (r < 2) {
            throw new IllegalArgumentException("mT() needs rank >= 2, got shape " + shape());
        }
        int[] perm = identity(r);
        perm[r - 1] = r - 2;
        perm[r - 2] = r - 1;
        return transpose(perm);
    }

    // ---- reductions -------------------------------------------------------------------------

    /** Sum of all elements, a scalar. */
    public Tensor sum() {
        return sum(new int[0], false);
    }

    public Tensor sum(int axis, boolean keepDims) {
        return sum(new int[] {axis}, keepDims);
    }

    /** Sum over {@code axes} (empty: all). */
    public Tensor sum(int[] axes, boolean keepDims) {
        return reduce(ReduceOp.SUM, Op.SUM, axes, keepDims);
    }

    public Tensor mean() {
        return mean(new int[0], false);
    }

    public Tensor mean(int axis, boolean keepDims) {
        return mean(new int[] {axis}, keepDims);
    }

    public Tensor mean(int[] axes, boolean keepDims) {
        return reduce(ReduceOp.MEAN, Op.MEAN, axes, keepDims);
    }

    public Tensor max(int axis, boolean keepDims) {
        return reduce(ReduceOp.MAX, Op.MAX, new int[] {axis}, keepDims);
    }

    public Tensor max(int[] axes, boolean keepDims) {
        return reduce(ReduceOp.MAX, Op.MAX, axes, keepDims);
    }

    public Tensor min(int axis, boolean keepDims) {
        return reduce(ReduceOp.MIN, Op.MIN, new int[] {axis}, keepDims);
    }

    public Tensor min(int[] axes, boolean keepDims) {
        return reduce(ReduceOp.MIN, Op.MIN, axes, keepDims);
    }

    private Tensor reduce(ReduceOp kernelOp, Op op, int[] axes, boolean keepDims) {
        int[] norm = normalizeAxes(axes);
        return make(k().reduce(kernelOp, array, norm, keepDims), op, new Op.ReduceAttrs(norm, keepDims), this);
    }

    /** Softmax along {@code axis}. */
    public Tensor softmax(int axis) {
        int a = shape().normalizeAxis(axis);
        return make(k().softmax(array, a), Op.SOFTMAX, a, this);
    }

    /** log(sum(exp(x))) along {@code axis}, stable for large inputs. */
    public Tensor logSumExp(int axis, boolean keepDims) {
        int a = shape().normalizeAxis(axis);
        return make(k().logSumExp(array, a, keepDims), Op.LOG_SUM_EXP, new Op.AxisAttrs(a, keepDims), this);
    }

    /** x - logSumExp(x) along {@code axis}. */
    public Tensor logSoftmax(int axis) {
        return sub(logSumExp(axis, true));
    }

    /**
     * Per-row softmax cross-entropy with probability targets (e.g. one-hot) along {@code axis},
     * which is removed; uses the backend's fused kernel.
     */
    public Tensor softmaxCrossEntropy(Tensor target, int axis) {
        int a = shape().normalizeAxis(axis);
        return make(k().softmaxCrossEntropy(array, target.array, a), Op.SOFTMAX_CROSS_ENTROPY, a, this, target);
    }

    /** Inclusive cumulative sum along {@code axis}. */
    public Tensor cumsum(int axis) {
        int a = shape().normalizeAxis(axis);
        return make(k().cumsum(array, a), Op.CUMSUM, a, this);
    }

    /** INT64 index of the largest entry along {@code axis} (ties: the lower index); not differentiable. */
    public Tensor argmax(int axis, boolean keepDims) {
        return constant(k().argmax(array, shape().normalizeAxis(axis), keepDims));
    }

    /** INT64 indices that sort this tensor along {@code axis}, stably; not differentiable. */
    public Tensor argsort(int axis, boolean descending) {
        return constant(k().argsort(array, shape().normalizeAxis(axis), descending));
    }

    /** This tensor sorted along {@code axis}; the values carry gradients (to the entries they came from). */
    public Tensor sort(int axis, boolean descending) {
        int a = shape().normalizeAxis(axis);
        return takeAlongAxisTrusted(argsort(a, descending), a);
    }

    /**
     * Row sums by segment: {@code out[s] = sum of this[i] where segmentIds[i] == s}, shape
     * {@code [numSegments, ...]} for this tensor's {@code [N, ...]}; empty segments are 0.
     */
    public Tensor segmentSum(Tensor segmentIds, int numSegments) {
        return make(k().segmentSum(array, segmentIds.array, numSegments), Op.SEGMENT_SUM, numSegments, this,
                segmentIds.stopGradient());
    }

    /** Row maxima by segment, as {@link #segmentSum}; empty segments are 0. */
    public Tensor segmentMax(Tensor segmentIds, int numSegments) {
        return make(k().segmentMax(array, segmentIds.array, numSegments), Op.SEGMENT_MAX, numSegments, this,
                segmentIds.stopGradient());
    }

    /** Row means by segment, as {@link #segmentSum}; empty segments are 0. */
    public Tensor segmentMean(Tensor segmentIds, int numSegments) {
        Tensor ones = engine.full(Shape.of(dim(0)), 1.0, dtype());
        Tensor counts = ones.segmentSum(segmentIds, numSegments).maximum(1.0);
        int[] dims = new int[rank()];
        java.util.Arrays.fill(dims, 1);
        dims[0] = numSegments;
        return segmentSum(segmentIds, numSegments).div(counts.reshape(Shape.of(dims)));
    }

    /** The k largest along {@code axis}, sorted descending; values carry gradients. No copy to the host. */
    public TopKResult topK(int k, int axis) {
        int a = shape().normalizeAxis(axis);
        TopK raw = k().topK(array, k, a);
        raw.values().close();
        Tensor indices = constant(raw.indices());
        return new TopKResult(takeAlongAxisTrusted(indices, a), indices);
    }

    /**
     * NumPy {@code take_along_axis}: {@code out[..., j, ...] = this[..., indices[..., j, ...], ...]}
     * where {@code indices} has this tensor's shape except on {@code axis}. Differentiable. The
     * indices are checked (one small copy to the host); see {@link #topK} for the unchecked path.
     */
    public Tensor takeAlongAxis(Tensor indices, int axis) {
        int a = shape().normalizeAxis(axis);
        if (indices.rank() != rank()) {
            throw new IllegalArgumentException("takeAlongAxis: indices of shape " + indices.shape()
                    + " must have the rank of the input " + shape());
        }
        for (int d = 0; d < rank(); d++) {
            if (d != a && indices.dim(d) > dim(d)) {
                throw new IllegalArgumentException("takeAlongAxis: indices shape " + indices.shape()
                        + " exceeds input shape " + shape() + " off the axis");
            }
        }
        if (indices.size() > 0) {
            long low = (long) indices.min(new int[0], false).item();
            long high = (long) indices.max(new int[0], false).item();
            if (low < 0 || high >= dim(a)) {
                throw new IndexOutOfBoundsException("takeAlongAxis: index " + (low < 0 ? low : high)
                        + " out of range for axis " + a + " of shape " + shape());
            }
        }
        return takeAlongAxisTrusted(indices, a);
    }

    /** takeAlongAxis for indices known to be in range: flat offsets computed on the backend, one gather. */
    private Tensor takeAlongAxisTrusted(Tensor indices, int a) {
        int[] idxDims = indices.shape().dims();
        long[] inStrides = shape().strides();
        // The offset of every index position with the axis coordinate left out: a function of shapes only.
        long[] base = new long[(int) indices.size()];
        int[] pos = new int[idxDims.length];
        for (int i = 0; i < base.length; i++) {
            long off = 0;
            for (int d = 0; d < pos.length; d++) {
                if (d != a) {
                    off += pos[d] * inStrides[d];
                }
            }
            base[i] = off;
            for (int d = pos.length - 1; d >= 0; d--) {
                if (++pos[d] < idxDims[d]) {
                    break;
                }
                pos[d] = 0;
            }
        }
        Tensor offsets = engine.indices(base, idxDims);
        Tensor flat = inStrides[a] == 1 ? indices.add(offsets) : indices.mul((double) inStrides[a]).add(offsets);
        return reshape((int) size()).gather(flat, 0);
    }

    // ---- shape ------------------------------------------------------------------------------

    public Tensor reshape(int... dims) {
        return reshape(inferShape(dims));
    }

    public Tensor reshape(Shape s) {
        if (s.equals(shape())) {
            return this;
        }
        return make(k().reshape(array, s), Op.RESHAPE, null, this);
    }

    /** Inserts a size-1 axis at {@code axis}. */
    public Tensor expandDims(int axis) {
        int r = rank();
        int a = axis < 0 ? axis + r + 1 : axis;
        int[] d = new int[r + 1];
        for (int i = 0, j = 0; i <= r; i++) {
            d[i] = i == a ? 1 : shape().dim(j++);
        }
        return reshape(Shape.of(d));
    }

    /** Removes the size-1 axis {@code axis}. */
    public Tensor squeeze(int axis) {
        int a = shape().normalizeAxis(axis);
        if (shape().dim(a) != 1) {
            throw new IllegalArgumentException("squeeze: axis " + axis + " of shape " + shape() + " is not 1");
        }
        return reshape(shape().without(a));
    }

    /** Merges axes {@code from..to} (inclusive) into one. */
    public Tensor flatten(int from, int to) {
        int f = shape().normalizeAxis(from);
        int t = shape().normalizeAxis(to);
        int[] dims = new int[rank() - (t - f)];
        int j = 0;
        for (int i = 0; i < f; i++) {
            dims[j++] = dim(i);
        }
        long merged = 1;
        for (int i = f; i <= t; i++) {
            merged *= dim(i);
        }
        dims[j++] = Math.toIntExact(merged);
        for (int i = t + 1; i < rank(); i++) {
            dims[j++] = dim(i);
        }
        return reshape(Shape.of(dims));
    }

    public Tensor transpose(int... permutation) {
        int[] perm = permutation.clone();
        int[] inverse = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inverse[shape().normalizeAxis(perm[i])] = i;
            perm[i] = shape().normalizeAxis(perm[i]);
        }
        return make(k().transpose(array, perm), Op.TRANSPOSE, inverse, this);
    }

    public Tensor broadcastTo(Shape s) {
        if (s.equals(shape())) {
            return this;
        }
        return make(k().broadcastTo(array, s), Op.BROADCAST_TO, null, this);
    }

    /** The sub-array {@code [begin[i], end[i])} on every axis. */
    public Tensor slice(int[] begin, int[] end) {
        int[] b = begin.clone();
        int[] e = end.clone();
        return make(k().slice(array, b, e), Op.SLICE, new Op.SliceAttrs(b, e), this);
    }

    /** {@code [from, to)} on one axis, everything on the others. */
    public Tensor slice(int axis, int from, int to) {
        int a = shape().normalizeAxis(axis);
        int[] b = new int[rank()];
        int[] e = shape().dims();
        b[a] = from;
        e[a] = to;
        return slice(b, e);
    }

    /** Joins tensors along {@code axis}. */
    public static Tensor concat(List<Tensor> parts, int axis) {
        requireNonNull(parts, "parts is null");
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("concat of no tensors");
        }
        Tensor first = parts.get(0);
        int a = first.shape().normalizeAxis(axis);
        List<NativeArray> arrays = new ArrayList<>(parts.size());
        int[] sizes = new int[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            arrays.add(parts.get(i).array);
            sizes[i] = parts.get(i).dim(a);
        }
        return first.make(first.k().concat(arrays, a), Op.CONCAT, new Op.ConcatAttrs(a, sizes), parts.toArray(new Tensor[0]));
    }

    /** Stacks equal-shaped tensors along a new axis {@code axis}. */
    public static Tensor stack(List<Tensor> parts, int axis) {
        List<Tensor> expanded = new ArrayList<>(parts.size());
        for (Tensor t : parts) {
            expanded.add(t.expandDims(axis));
        }
        return concat(expanded, axis);
    }

    /** NumPy {@code take} along {@code axis} with INT64 {@code indices} of any shape. */
    public Tensor gather(Tensor indices, int axis) {
        int a = shape().normalizeAxis(axis);
        return make(k().gather(array, indices.array, a), Op.GATHER, a, this, indices.stopGradient());
    }

    /** A copy of this tensor with {@code updates} added at {@code indices} along {@code axis} (NumPy add.at). */
    public Tensor scatterAdd(Tensor indices, Tensor updates, int axis) {
        int a = shape().normalizeAxis(axis);
        return make(k().scatterAdd(array, indices.array, updates.array, a), Op.SCATTER_ADD, a, this,
                indices.stopGradient(), updates);
    }

    // ---- lifetime ---------------------------------------------------------------------------

    /** Frees the native memory now (views and already-freed tensors: no effect). */
    @Override
    public void close() {
        owner = null;
        release();
    }

    void release() {
        if (ownsArray) {
            array.close();
        }
    }

    @Override
    public String toString() {
        return "Tensor" + shape() + " " + dtype() + (isTracked() ? " tracked" : "") + " on " + engine.backend().name();
    }

    // ---- internals --------------------------------------------------------------------------

    private Kernels k() {
        return engine.kernels();
    }

    /** Wraps a kernel result, recording {@code op} when recording is on and an input is tracked. */
    Tensor make(NativeArray out, Op op, Object attrs, Tensor... inputs) {
        ThreadContext ctx = ThreadContext.get();
        Node n = null;
        if (ctx.recording()) {
            for (Tensor in : inputs) {
                if (in.node != null) {
                    n = new Node(op, inputs, attrs);
                    break;
                }
            }
        }
        Tensor t = new Tensor(engine, out, n, true);
        if (n != null) {
            n.output = t;
        }
        Scope.adopt(ctx, t);
        return t;
    }

    private Tensor constant(NativeArray out) {
        ThreadContext ctx = ThreadContext.get();
        Tensor t = new Tensor(engine, out, null, true);
        Scope.adopt(ctx, t);
        return t;
    }

    private int[] normalizeAxes(int[] axes) {
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            out[i] = shape().normalizeAxis(axes[i]);
        }
        Arrays.sort(out);
        for (int i = 1; i < out.length; i++) {
            if (out[i] == out[i - 1]) {
                throw new IllegalArgumentException("axis " + out[i] + " repeated in " + Arrays.toString(axes));
            }
        }
        if (out.length == 0) {
            return identity(rank());
        }
        return out;
    }

    private static int[] identity(int r) {
        int[] p = new int[r];
        for (int i = 0; i < r; i++) {
            p[i] = i;
        }
        return p;
    }

    private Shape inferShape(int[] dims) {
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (unknown >= 0) {
                    throw new IllegalArgumentException("reshape: more than one -1 in " + Arrays.toString(dims));
                }
                unknown = i;
            } else {
                known *= dims[i];
            }
        }
        int[] out = dims.clone();
        if (unknown >= 0) {
            if (known == 0 || size() % known != 0) {
                throw new IllegalArgumentException("reshape: cannot reshape " + shape() + " to " + Arrays.toString(dims));
            }
            out[unknown] = (int) (size() / known);
        }
        Shape s = Shape.of(out);
        if (s.size() != size()) {
            throw new IllegalArgumentException("reshape: cannot reshape " + shape() + " (" + size() + " elements) to " + s);
        }
        return s;
    }
}
