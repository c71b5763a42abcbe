package dev.metaforge.spi;

import java.util.List;

/**
 * The primitive kernels a backend supplies: forward only, on the backend's own arrays.
 * Gradients are the API's business (its VJP rules are written with these same primitives).
 *
 * <p>Rules every implementation follows (the TCK checks them):
 * <ul>
 *   <li>Kernels never modify their inputs and always return new arrays owned by the caller.</li>
 *   <li>Binary ops broadcast NumPy-style; both operands have the same dtype.</li>
 *   <li>Axes may be negative (counted from the end).</li>
 *   <li>A dtype or operation outside the backend's {@link Backend#capabilities()} throws
 *       {@link UnsupportedCapabilityException}, never an opaque native error.</li>
 *   <li>Data crossing the Java boundary is row-major.</li>
 * </ul>
 * Fused kernels ({@link #linear}, {@link #adamUpdate}, {@link #softmaxCrossEntropy} and its VJP) have
 * defaults composed from primitives; a backend may override them for speed and must then match
 * the composed result (TCK rules FUSED-*).
 *
 * <h2>How this interface evolves</h2>
 * A backend written against an older SPI must keep working, so:
 * <ul>
 *   <li>New kernels arrive as <em>default</em> methods composed from the existing primitives
 *       (e.g. {@link #cumsum}, {@link #argsort}, {@link #segmentSum}, {@link #conv2dBackwardInput});
 *       a backend overrides them when it has something faster, and the TCK checks that its result
 *       equals the float64 reference like any other kernel (KERNEL-*) and the default composed on
 *       the same backend's primitives (COMPOSED-*).</li>
 *   <li>The op enums ({@link UnaryOp}, {@link BinaryOp}, {@link ReduceOp}) are frozen within an SPI
 *       version: a backend may dispatch on them with an exhaustive {@code switch}. A new elementwise
 *       op is a new default method, never a new constant.</li>
 *   <li>A kernel that needs something a backend may lack is tied to a {@link Capability}, and the
 *       default throws {@link UnsupportedCapabilityException}.</li>
 *   <li>Anything else (a changed signature or contract) increments {@link SpiVersion#CURRENT}; the
 *       selection rule then skips providers built for another version and says so.</li>
 * </ul>
 * Argument checks common to every backend live in {@link KernelChecks}.
 */
public interface Kernels {

    // ---- creation -------------------------------------------------------------------------

    /** An array of {@code dtype} (floating or INT64) holding {@code data} row-major. */
    NativeArray fromDoubles(double[] data, Shape shape, DType dtype);

    /** A FLOAT32 array holding {@code data} row-major. */
    NativeArray fromFloats(float[] data, Shape shape);

    /** An INT64 array holding {@code data} row-major. */
    NativeArray fromLongs(long[] data, Shape shape);

    /** An array filled with {@code value}. */
    NativeArray full(Shape shape, double value, DType dtype);

    default NativeArray zeros(Shape shape, DType dtype) {
        return full(shape, 0.0, dtype);
    }

    /**
     * Uniform samples in [low, high). The same seed gives the same array on the same backend;
     * backends need not agree with each other.
     */
    NativeArray randomUniform(Shape shape, DType dtype, double low, double high, long seed);

    /** Normal samples; same determinism contract as {@link #randomUniform}. */
    NativeArray randomNormal(Shape shape, DType dtype, double mean, double std, long seed);

    // ---- copying out ----------------------------------------------------------------------

    double[] toDoubles(NativeArray x);

    float[] toFloats(NativeArray x);

    long[] toLongs(NativeArray x);

    // ---- elementwise ----------------------------------------------------------------------

    NativeArray unary(UnaryOp op, NativeArray x);

    /** {@code a op b} with broadcasting; comparisons give 1/0 in the operands' dtype. */
    NativeArray binary(BinaryOp op, NativeArray a, NativeArray b);

    /** {@code a op scalar}; saves creating a scalar array. */
    NativeArray binaryScalar(BinaryOp op, NativeArray a, double scalar);

    /** Picks {@code onTrue} where {@code condition != 0}, else {@code onFalse}; all three broadcast. */
    NativeArray where(NativeArray condition, NativeArray onTrue, NativeArray onFalse);

    /** A copy converted to {@code dtype} (a copy even when the dtype is unchanged). */
    NativeArray cast(NativeArray x, DType dtype);

    // ---- linear algebra -------------------------------------------------------------------

    /**
     * Matrix product with NumPy {@code matmul} semantics for rank >= 2: the last two axes are
     * multiplied, leading (batch) axes broadcast. Rank-1 operands are not accepted.
     */
    NativeArray matmul(NativeArray a, NativeArray b);

    /**
     * {@link #matmul} of {@code a} and {@code b} with their last two axes swapped first where the flag says so:
     * {@code op(a) @ op(b)} with {@code op(x) = transposeX ? x^T : x}. The backward pass of every matrix product
     * needs transposed operands; a backend that multiplies with transpose flags (BLAS does) never materialises
     * them. The default transposes, then multiplies. Added as a default method (see "How this interface evolves").
     */
    default NativeArray matmul(NativeArray a, NativeArray b, boolean transposeA, boolean transposeB) {
        NativeArray ta = transposeA ? transpose(a, KernelChecks.swapLastTwo(a.shape().rank(), "matmul: a")) : null;
        try {
            NativeArray tb = transposeB ? transpose(b, KernelChecks.swapLastTwo(b.shape().rank(), "matmul: b")) : null;
            try {
                return matmul(ta == null ? a : ta, tb == null ? b : tb);
            } finally {
                if (tb != null) {
                    tb.close();
                }
            }
        } finally {
            if (ta != null) {
                ta.close();
            }
        }
    }

    // ---- reductions -----------------------------------------------------------------------

    /**
     * Reduces over {@code axes} (empty = all axes). Reducing an empty axis with SUM gives 0,
     * with MEAN gives NaN; MAX/MIN over an empty axis throw IllegalArgumentException.
     */
    NativeArray reduce(ReduceOp op, NativeArray x, int[] axes, boolean keepDims);

    /** Numerically stable softmax along {@code axis}. */
    NativeArray softmax(NativeArray x, int axis);

    /** Numerically stable log(sum(exp(x))) along {@code axis}. */
    NativeArray logSumExp(NativeArray x, int axis, boolean keepDims);

    /** The k largest along {@code axis}, sorted descending, ties broken by lower index. */
    TopK topK(NativeArray x, int k, int axis);

    // ---- shape and indexing ---------------------------------------------------------------

    /** Same elements in row-major order, new shape of equal size. */
    NativeArray reshape(NativeArray x, Shape shape);

    /** Axes permuted: output axis i is input axis {@code permutation[i]}. */
    NativeArray transpose(NativeArray x, int[] permutation);

    /** Broadcasts {@code x} to {@code shape} (NumPy rules). */
    NativeArray broadcastTo(NativeArray x, Shape shape);

    /** The sub-array {@code [begin[i], end[i])} on every axis, step 1. */
    NativeArray slice(NativeArray x, int[] begin, int[] end);

    /** Joins arrays of equal shape except on {@code axis}. */
    NativeArray concat(List<NativeArray> parts, int axis);

    /**
     * NumPy {@code take}: picks entries of {@code x} along {@code axis} at INT64 {@code indices} of
     * any shape. Output shape is {@code x.shape[:axis] + indices.shape + x.shape[axis+1:]}.
     * An index out of range throws IndexOutOfBoundsException.
     */
    NativeArray gather(NativeArray x, NativeArray indices, int axis);

    /**
     * The adjoint of {@link #gather}: a copy of {@code target} to which each slice of
     * {@code updates} is added at its index along {@code axis} (repeated indices accumulate,
     * like NumPy's {@code add.at}). {@code updates} has the shape {@code gather} would produce.
     */
    NativeArray scatterAdd(NativeArray target, NativeArray indices, NativeArray updates, int axis);

    // ---- optional: convolution ------------------------------------------------------------

    /**
     * 2-D convolution (cross-correlation), NCHW input, OIHW weight, no bias. Requires
     * {@link Capability#CONVOLUTION}.
     */
    default NativeArray conv2d(NativeArray input, NativeArray weight, int[] stride, int[] padding) {
        throw new UnsupportedCapabilityException(backendName(), "conv2d", Capability.CONVOLUTION);
    }

    /**
     * 2-D convolution with dilation and groups: NCHW input, weight {@code [O, C/groups, kH, kW]}.
     * Requires {@link Capability#CONVOLUTION}. The default runs groups one by one and dilates the
     * kernel with zeros, over {@link #conv2d(NativeArray, NativeArray, int[], int[])}.
     */
    default NativeArray conv2d(NativeArray input, NativeArray weight, Conv2dOptions options) {
        return KernelCompositions.conv2d(this, input, weight, options);
    }

    /**
     * The cotangent of {@code conv2d}'s input: given the output's cotangent {@code gradOutput}, the
     * {@code weight} and the input's shape. Default: a convolution of the stride-dilated gradient with
     * the flipped kernel.
     */
    default NativeArray conv2dBackwardInput(NativeArray gradOutput, NativeArray weight, Shape inputShape,
                                            Conv2dOptions options) {
        return KernelCompositions.conv2dBackwardInput(this, gradOutput, weight, inputShape, options);
    }

    /**
     * The cotangent of {@code conv2d}'s weight, given the {@code input}, the output's cotangent and
     * the weight's shape. Default: a convolution of the input with the gradient, channel-major.
     */
    default NativeArray conv2dBackwardWeight(NativeArray input, NativeArray gradOutput, Shape weightShape,
                                             Conv2dOptions options) {
        return KernelCompositions.conv2dBackwardWeight(this, input, gradOutput, weightShape, options);
    }

    // ---- added after SPI 1 shipped, as defaults: index and ordering kernels ----------------------------

    /** {@code [0, 1, ..., n-1]} as a rank-1 array of {@code dtype}. */
    default NativeArray arange(int n, DType dtype) {
        return KernelCompositions.arange(this, n, dtype);
    }

    /**
     * Inclusive cumulative sum along {@code axis}, same shape and dtype (INT64 included). Default: a
     * log-step scan of additions (exact for INT64; infinities and NaN propagate as in a running sum).
     */
    default NativeArray cumsum(NativeArray x, int axis) {
        return KernelCompositions.cumsum(this, x, axis);
    }

    /**
     * INT64 index of the largest entry along {@code axis}; ties give the lower index and NaN counts
     * as the largest. An empty axis throws IllegalArgumentException.
     */
    default NativeArray argmax(NativeArray x, int axis, boolean keepDims) {
        return KernelCompositions.argmax(this, x, axis, keepDims);
    }

    /**
     * INT64 indices that sort {@code x} along {@code axis}; stable (equal values keep their index order,
     * ascending or descending). NaN sorts as the largest value: last ascending, first descending.
     */
    default NativeArray argsort(NativeArray x, int axis, boolean descending) {
        return KernelCompositions.argsort(this, x, axis, descending);
    }

    /** {@code x} sorted along {@code axis}, in the order of {@link #argsort}. */
    default NativeArray sort(NativeArray x, int axis, boolean descending) {
        return KernelCompositions.sort(this, x, axis, descending);
    }

    /**
     * Sums of the rows of {@code data} [N, ...] by segment: {@code out[s] = sum of data[i] where
     * segmentIds[i] == s}, shape {@code [numSegments, ...]}; an empty segment gives 0. The INT64 ids
     * must lie in {@code [0, numSegments)} (IndexOutOfBoundsException otherwise); they need not be sorted.
     */
    default NativeArray segmentSum(NativeArray data, NativeArray segmentIds, int numSegments) {
        return KernelCompositions.segmentSum(this, data, segmentIds, numSegments);
    }

    /** Like {@link #segmentSum} with the maximum; an empty segment gives 0 and NaN propagates. */
    default NativeArray segmentMax(NativeArray data, NativeArray segmentIds, int numSegments) {
        return KernelCompositions.segmentMax(this, data, segmentIds, numSegments);
    }

    // ---- fused kernels with composed defaults ---------------------------------------------

    /** {@code x @ w + b}; {@code b} may be null. */
    default NativeArray linear(NativeArray x, NativeArray w, NativeArray b) {
        NativeArray y = matmul(x, w);
        if (b == null) {
            return y;
        }
        try (y) {
            return binary(BinaryOp.ADD, y, b);
        }
    }

    /**
     * One Adam or AdamW update of {@code param} given its gradient and moments. Returns new
     * arrays; the inputs stay valid.
     */
    default AdamResult adamUpdate(NativeArray param, NativeArray grad, NativeArray m, NativeArray v, AdamStep h) {
        NativeArray g = h.weightDecay() != 0 && !h.decoupledWeightDecay()
                ? addScaled(grad, param, h.weightDecay())
                : null;
        NativeArray gradient = g == null ? grad : g;
        try (NativeArray m1 = binaryScalar(BinaryOp.MUL, m, h.beta1());
             NativeArray gm = binaryScalar(BinaryOp.MUL, gradient, 1 - h.beta1());
             NativeArray g2 = unary(UnaryOp.SQUARE, gradient);
             NativeArray v1 = binaryScalar(BinaryOp.MUL, v, h.beta2());
             NativeArray gv = binaryScalar(BinaryOp.MUL, g2, 1 - h.beta2())) {
            NativeArray newM = binary(BinaryOp.ADD, m1, gm);
            NativeArray newV = binary(BinaryOp.ADD, v1, gv);
            double c1 = 1 - Math.pow(h.beta1(), h.step());
            double c2 = 1 - Math.pow(h.beta2(), h.step());
            try (NativeArray vHat = binaryScalar(BinaryOp.DIV, newV, c2);
                 NativeArray root = unary(UnaryOp.SQRT, vHat);
                 NativeArray denom = binaryScalar(BinaryOp.ADD, root, h.epsilon());
                 NativeArray ratio = binary(BinaryOp.DIV, newM, denom);
                 NativeArray step = binaryScalar(BinaryOp.MUL, ratio, h.learningRate() / c1)) {
                NativeArray newParam;
                if (h.weightDecay() != 0 && h.decoupledWeightDecay()) {
                    try (NativeArray decayed = binaryScalar(BinaryOp.MUL, param, 1 - h.learningRate() * h.weightDecay())) {
                        newParam = binary(BinaryOp.SUB, decayed, step);
                    }
                } else {
                    newParam = binary(BinaryOp.SUB, param, step);
                }
                return new AdamResult(newParam, newM, newV);
            }
        } finally {
            if (g != null) {
                g.close();
            }
        }
    }

    /**
     * {@link #adamUpdate} for several parameters in one call ("foreach"), with the moments handed
     * over so that a backend can update them in place. Lists are parallel (one entry per parameter,
     * each entry's four arrays of one shape and floating dtype). {@code params} and {@code grads}
     * stay valid and unchanged. {@code m} and {@code v} are <em>donated</em>: an implementation may
     * overwrite them with the new moments and return the same arrays as the results' {@code m}/{@code v}.
     * The caller closes every donated array that is not among the results and must not read one
     * that is, except through the result. Each result's {@code param} is a new array.
     *
     * <p>This exception to "kernels never modify their inputs" exists because an out-of-place
     * update allocates and fills about eight parameter-sized arrays per tensor per step; the
     * optimizer owns its moments and has no other reader of them. The default calls
     * {@link #adamUpdate} per parameter (new moments, nothing overwritten); an override must compute
     * the same values (TCK rule FUSED-ADAM-2) and check all entries before overwriting any.
     */
    default List<AdamResult> adamUpdateForeach(List<NativeArray> params, List<NativeArray> grads,
                                               List<NativeArray> m, List<NativeArray> v, AdamStep h) {
        KernelChecks.foreachUpdate("adamUpdateForeach", params, grads, m, v);
        java.util.ArrayList<AdamResult> out = new java.util.ArrayList<>(params.size());
        try {
            for (int i = 0; i < params.size(); i++) {
                out.add(adamUpdate(params.get(i), grads.get(i), m.get(i), v.get(i), h));
            }
        } catch (RuntimeException e) {
            for (AdamResult r : out) {
                r.param().close();
                r.m().close();
                r.v().close();
            }
            throw e;
        }
        return List.copyOf(out);
    }

    /**
     * {@link #adamUpdateForeach} with the parameters donated as well ({@code donate_argnums} in
     * JAX's terms): an implementation may write each new parameter into its old parameter's memory
     * and return that same array as the result's {@code param}, saving a parameter-sized
     * allocation and its first-touch writes per tensor per step. It may do so only for a parameter
     * whose memory no other operand of the call reads (another parameter, or any gradient or
     * moment, including through a view of the same memory, such as a reshape): such a parameter gets
     * a new array and keeps its values. Gradients stay valid and unchanged. The caller closes every
     * donated array (parameter or moment) that is not among the results, and reads a donated array
     * that is among them only through the result.
     *
     * <p>The values are those of {@link #adamUpdateForeach} (TCK rule FUSED-ADAM-3, which also
     * hands in a parameter that is another entry's gradient, a parameter listed twice and a reshape
     * view of a parameter as a gradient). The default calls {@link #adamUpdateForeach}: nothing
     * donated is overwritten except the moments it already may overwrite.
     */
    default List<AdamResult> adamUpdateForeachInPlace(List<NativeArray> params, List<NativeArray> grads,
                                                      List<NativeArray> m, List<NativeArray> v, AdamStep h) {
        return adamUpdateForeach(params, grads, m, v, h);
    }

    /**
     * One SGD step for several parameters ("foreach"), {@code torch.optim.SGD}'s update:
     * {@code d = g + wd * p} (when {@code wd != 0}), {@code buf = momentum * buf + d} (when
     * {@code momentum != 0}; a zero buffer makes the first step {@code buf = d}, as PyTorch's),
     * {@code p' = p - lr * (momentum != 0 ? buf : d)}. {@code buffers} is empty when the momentum is
     * 0, else parallel to {@code params}; the buffers are <em>donated</em> as in
     * {@link #adamUpdateForeach}: an implementation may overwrite them and return the same arrays as
     * the results' buffers, and the caller closes every donated buffer not among the results.
     * {@code params} and {@code grads} stay unchanged; each result's param is a new array.
     *
     * <p>The default composes {@link #binary}/{@link #binaryScalar} per parameter (new buffers,
     * nothing overwritten); an override computes the same values (TCK rule FUSED-SGD-1) and checks
     * all entries before overwriting any.
     */
    default List<SgdResult> sgdUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> buffers,
                                             SgdStep h) {
        KernelChecks.sgdForeachUpdate("sgdUpdateForeach", params, grads, buffers, h);
        java.util.ArrayList<SgdResult> out = new java.util.ArrayList<>(params.size());
        try {
            for (int i = 0; i < params.size(); i++) {
                NativeArray param = params.get(i);
                NativeArray decayed = h.weightDecay() != 0 ? addScaled(grads.get(i), param, h.weightDecay()) : null;
                NativeArray d = decayed == null ? grads.get(i) : decayed;
                NativeArray buf = null;
                try {
                    if (h.momentum() != 0) {
                        try (NativeArray kept = binaryScalar(BinaryOp.MUL, buffers.get(i), h.momentum())) {
                            buf = binary(BinaryOp.ADD, kept, d);
                        }
                    }
                    try (NativeArray step = binaryScalar(BinaryOp.MUL, buf != null ? buf : d, h.learningRate())) {
                        out.add(new SgdResult(binary(BinaryOp.SUB, param, step), buf));
                    }
                } catch (RuntimeException e) {
                    if (buf != null) {
                        buf.close();
                    }
                    throw e;
                } finally {
                    if (decayed != null) {
                        decayed.close();
                    }
                }
            }
        } catch (RuntimeException e) {
            for (SgdResult r : out) {
                r.param().close();
                if (r.buffer() != null) {
                    r.buffer().close();
                }
            }
            throw e;
        }
        return List.copyOf(out);
    }

    /**
     * ReLU's vector-Jacobian product: {@code grad} where {@code input > 0}, else 0 (a NaN input
     * counts as not positive). Same shape and floating dtype for both. The default composes
     * {@code grad * (input > 0)} ({@link #binaryScalar} GT, then {@link #binary} MUL); a backend may
     * fuse it (TCK rule FUSED-RELU-1; values equal, the sign of a zero may differ).
     */
    default NativeArray reluBackward(NativeArray grad, NativeArray input) {
        KernelChecks.sameShapeAndDType("reluBackward", grad, input);
        try (NativeArray mask = binaryScalar(BinaryOp.GT, input, 0.0)) {
            return binary(BinaryOp.MUL, grad, mask);
        }
    }

    /**
     * The gradient of a broadcast bias: {@code grad} summed over the axes along which a
     * {@code biasShape} operand was broadcast (the leading axes {@code grad} has beyond the bias's rank, and
     * the bias's size-1 axes), reshaped to {@code biasShape}. The default is {@link #reduce} SUM with
     * kept axes, then {@link #reshape}; a backend may sum straight into the bias's shape (TCK rule
     * FUSED-BIASGRAD-1). When nothing is broadcast the result is a reshaped copy of {@code grad}.
     */
    default NativeArray biasGradient(NativeArray grad, Shape biasShape) {
        int[] axes = KernelChecks.broadcastAxes("biasGradient", grad.shape(), biasShape);
        if (axes.length == 0) {
            return reshape(grad, biasShape);
        }
        try (NativeArray summed = reduce(ReduceOp.SUM, grad, axes, true)) {
            return reshape(summed, biasShape);
        }
    }

    /**
     * Per-row softmax cross-entropy: {@code logSumExp(logits) - sum(target * logits)} along
     * {@code axis} (axis removed). {@code target} holds probabilities (e.g. one-hot).
     */
    default NativeArray softmaxCrossEntropy(NativeArray logits, NativeArray target, int axis) {
        try (NativeArray lse = logSumExp(logits, axis, false);
             NativeArray prod = binary(BinaryOp.MUL, target, logits);
             NativeArray dot = reduce(ReduceOp.SUM, prod, new int[] {axis}, false)) {
            return binary(BinaryOp.SUB, lse, dot);
        }
    }

    /**
     * The VJP of {@link #softmaxCrossEntropy} with respect to the logits: {@code g * (softmax(logits)
     * - target)} along {@code axis}, where {@code grad} is the loss's cotangent (the shape of the
     * loss, {@code axis} removed) and is broadcast back along {@code axis}; the result has the
     * broadcast shape of the logits and the target. The default is a reshape, {@link #softmax}, a
     * subtraction and a multiplication; a backend may compute it in one pass (TCK rule
     * FUSED-XENT-2).
     */
    default NativeArray softmaxCrossEntropyBackward(NativeArray grad, NativeArray logits, NativeArray target, int axis) {
        int ax = KernelChecks.axis("softmaxCrossEntropyBackward", logits.shape(), axis);
        Shape g = grad.shape();
        if (g.rank() != logits.shape().rank() - 1) {
            throw new IllegalArgumentException("softmaxCrossEntropyBackward: the cotangent " + g + " must have the logits' shape "
                    + logits.shape() + " without axis " + ax + " (the loss's shape)");
        }
        int[] kept = new int[g.rank() + 1];
        for (int i = 0, j = 0; i < kept.length; i++) {
            kept[i] = i == ax ? 1 : g.dim(j++);
        }
        try (NativeArray gk = reshape(grad, Shape.of(kept));
             NativeArray s = softmax(logits, ax);
             NativeArray d = binary(BinaryOp.SUB, s, target)) {
            return binary(BinaryOp.MUL, gk, d);
        }
    }

    /**
     * False for kernels that compute shapes and dtypes only (the pre-flight's shape-only backend): the
     * API then skips work that only produces values on the host, such as portable random draws.
     */
    default boolean computesValues() {
        return true;
    }

    /** The name of the backend these kernels belong to, for error messages. */
    String backendName();

    private NativeArray addScaled(NativeArray a, NativeArray b, double scale) {
        try (NativeArray scaled = binaryScalar(BinaryOp.MUL, b, scale)) {
            return binary(BinaryOp.ADD, a, scaled);
        }
    }
}
