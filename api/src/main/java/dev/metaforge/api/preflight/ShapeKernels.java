package dev.metaforge.api.preflight;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.KernelChecks;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnaryOp;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The kernels of {@link ShapeBackend}: each checks its arguments with the rules every backend
 * follows (the messages of {@link KernelChecks} and of the reference backend) and returns a
 * {@link ShapeArray} of the result's shape and dtype, charged to the {@link MemoryMeter}. Every
 * default kernel of the SPI is overridden so no composition copies values to Java.
 */
final class ShapeKernels implements Kernels {
    /** The most values one read-back may copy to Java (2^26: 512 MiB as doubles). */
    static final long MAX_READ_BACK = 1L << 26;

    private final Set<Capability> capabilities;
    private final MemoryMeter meter;
    private final String backendName;

    ShapeKernels(Set<Capability> capabilities, MemoryMeter meter, String backendName) {
        this.capabilities = capabilities;
        this.meter = meter;
        this.backendName = backendName;
    }

    @Override
    public String backendName() {
        return backendName;
    }

    private ShapeArray make(String op, Shape shape, DType dtype) {
        if (!capabilities.contains(dtype.capability())) {
            throw new UnsupportedCapabilityException(backendName, op + " in " + dtype, dtype.capability());
        }
        long charged = meter.allocate(op, shape, dtype);
        return new ShapeArray(shape, dtype, meter, charged);
    }

    private ShapeArray arg(NativeArray x, String op) {
        requireNonNull(x, op + ": array is null");
        meter.call(op);
        if (!(x instanceof ShapeArray a)) {
            throw new IllegalArgumentException(op + ": expected an array of the shape-only backend, got "
                    + x.getClass().getSimpleName());
        }
        if (a.isClosed()) {
            throw new IllegalStateException(op + ": the array " + a.shape() + " was already closed");
        }
        return a;
    }

    private static void floating(String op, DType dtype) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException(op + ": " + dtype + " is not supported, it needs FLOAT32 or FLOAT64");
        }
    }

    private static Shape broadcast(String op, Shape a, Shape b) {
        try {
            return Shape.broadcast(a, b);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": shapes " + a + " and " + b + " do not broadcast", e);
        }
    }

    private static void length(String op, long length, Shape shape) {
        if (length != shape.size()) {
            throw new IllegalArgumentException(op + ": " + length + " values do not fill shape " + shape);
        }
    }

    // ---- creation -------------------------------------------------------------------------

    @Override
    public boolean computesValues() {
        return false;
    }

    @Override
    public NativeArray fromDoubles(double[] data, Shape shape, DType dtype) {
        requireNonNull(data, "fromDoubles: data is null");
        meter.call("fromDoubles");
        length("fromDoubles", data.length, requireNonNull(shape, "fromDoubles: shape is null"));
        return make("fromDoubles", shape, requireNonNull(dtype, "fromDoubles: dtype is null"));
    }

    @Override
    public NativeArray fromFloats(float[] data, Shape shape) {
        requireNonNull(data, "fromFloats: data is null");
        meter.call("fromFloats");
        length("fromFloats", data.length, requireNonNull(shape, "fromFloats: shape is null"));
        return make("fromFloats", shape, DType.FLOAT32);
    }

    @Override
    public NativeArray fromLongs(long[] data, Shape shape) {
        requireNonNull(data, "fromLongs: data is null");
        meter.call("fromLongs");
        length("fromLongs", data.length, requireNonNull(shape, "fromLongs: shape is null"));
        return make("fromLongs", shape, DType.INT64);
    }

    @Override
    public NativeArray full(Shape shape, double value, DType dtype) {
        meter.call("full");
        return make("full", requireNonNull(shape, "full: shape is null"), requireNonNull(dtype, "full: dtype is null"));
    }

    @Override
    public NativeArray randomUniform(Shape shape, DType dtype, double low, double high, long seed) {
        meter.call("randomUniform");
        floating("randomUniform", requireNonNull(dtype, "randomUniform: dtype is null"));
        if (!(Double.isFinite(low) && Double.isFinite(high) && low <= high)) {
            throw new IllegalArgumentException("randomUniform: need finite low <= high, got low=" + low + ", high=" + high);
        }
        return make("randomUniform", requireNonNull(shape, "randomUniform: shape is null"), dtype);
    }

    @Override
    public NativeArray randomNormal(Shape shape, DType dtype, double mean, double std, long seed) {
        meter.call("randomNormal");
        floating("randomNormal", requireNonNull(dtype, "randomNormal: dtype is null"));
        if (!(Double.isFinite(mean) && Double.isFinite(std) && std >= 0)) {
            throw new IllegalArgumentException("randomNormal: need finite mean and std >= 0, got mean=" + mean + ", std=" + std);
        }
        return make("randomNormal", requireNonNull(shape, "randomNormal: shape is null"), dtype);
    }

    @Override
    public NativeArray arange(int n, DType dtype) {
        meter.call("arange");
        KernelChecks.nonNegative("arange", "n", n);
        return make("arange", Shape.of(n), requireNonNull(dtype, "arange: dtype is null"));
    }

    // ---- copying out: zeros of the right length --------------------------------------------

    private int readBack(String op, NativeArray x, int bytesPerValue) {
        ShapeArray a = arg(x, op);
        long n = a.shape().size();
        if (n > MAX_READ_BACK) {
            throw new MemoryMeter.LimitExceededException(op + " would copy " + n + " values of " + a.shape()
                    + " to Java; a step should not read back more than " + MAX_READ_BACK, meter, a.shape(), a.dtype());
        }
        meter.readBack(op, a.shape(), n * bytesPerValue);
        return (int) n;
    }

    @Override
    public double[] toDoubles(NativeArray x) {
        return new double[readBack("toDoubles", x, 8)];
    }

    @Override
    public float[] toFloats(NativeArray x) {
        return new float[readBack("toFloats", x, 4)];
    }

    @Override
    public long[] toLongs(NativeArray x) {
        return new long[readBack("toLongs", x, 8)];
    }

    // ---- elementwise ----------------------------------------------------------------------

    @Override
    public NativeArray unary(UnaryOp op, NativeArray x) {
        requireNonNull(op, "unary: op is null");
        String name = "unary " + op;
        ShapeArray a = arg(x, name);
        boolean integerClosed = switch (op) {
            case NEG, ABS, SIGN, SQUARE, RELU -> true;
            default -> false;
        };
        if (!integerClosed) {
            floating(name, a.dtype());
        }
        return make(name, a.shape(), a.dtype());
    }

    @Override
    public NativeArray binary(BinaryOp op, NativeArray a, NativeArray b) {
        requireNonNull(op, "binary: op is null");
        String name = "binary " + op;
        ShapeArray x = arg(a, name);
        ShapeArray y = arg(b, name);
        KernelChecks.sameDType(name, x.dtype(), y.dtype());
        return make(name, broadcast(name, x.shape(), y.shape()), x.dtype());
    }

    @Override
    public NativeArray binaryScalar(BinaryOp op, NativeArray a, double scalar) {
        requireNonNull(op, "binaryScalar: op is null");
        String name = "binaryScalar " + op;
        ShapeArray x = arg(a, name);
        return make(name, x.shape(), x.dtype());
    }

    @Override
    public NativeArray where(NativeArray condition, NativeArray onTrue, NativeArray onFalse) {
        ShapeArray c = arg(condition, "where");
        ShapeArray t = arg(onTrue, "where");
        ShapeArray f = arg(onFalse, "where");
        KernelChecks.sameDType("where", t.dtype(), f.dtype());
        return make("where", broadcast("where", broadcast("where", c.shape(), t.shape()), f.shape()), t.dtype());
    }

    @Override
    public NativeArray cast(NativeArray x, DType dtype) {
        ShapeArray a = arg(x, "cast");
        return make("cast", a.shape(), requireNonNull(dtype, "cast: dtype is null"));
    }

    // ---- linear algebra -------------------------------------------------------------------

    @Override
    public NativeArray matmul(NativeArray a, NativeArray b) {
        ShapeArray x = arg(a, "matmul");
        ShapeArray y = arg(b, "matmul");
        return make("matmul", matmulShape(x, y), x.dtype());
    }

    private static Shape matmulShape(ShapeArray x, ShapeArray y) {
        Shape sa = x.shape();
        Shape sb = y.shape();
        if (sa.rank() < 2 || sb.rank() < 2) {
            throw new IllegalArgumentException("matmul: operands must have rank >= 2 (rank-1 vectors are not accepted;"
                    + " reshape a vector to [1, n] or [n, 1]), got " + sa + " @ " + sb);
        }
        KernelChecks.sameDType("matmul", x.dtype(), y.dtype());
        floating("matmul", x.dtype());
        if (sb.dim(-2) != sa.dim(-1)) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + sa + " @ " + sb);
        }
        Shape batchA = Shape.of(Arrays.copyOf(sa.dims(), sa.rank() - 2));
        Shape batchB = Shape.of(Arrays.copyOf(sb.dims(), sb.rank() - 2));
        Shape batch;
        try {
            batch = Shape.broadcast(batchA, batchB);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("matmul: batch dimensions do not broadcast: " + sa + " @ " + sb, e);
        }
        int[] out = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        out[batch.rank()] = sa.dim(-2);
        out[batch.rank() + 1] = sb.dim(-1);
        return Shape.of(out);
    }

    @Override
    public NativeArray linear(NativeArray x, NativeArray w, NativeArray b) {
        ShapeArray a = arg(x, "linear");
        ShapeArray weight = arg(w, "linear");
        Shape out = matmulShape(a, weight);
        if (b != null) {
            ShapeArray bias = arg(b, "linear");
            KernelChecks.sameDType("linear", a.dtype(), bias.dtype());
            out = broadcast("linear", out, bias.shape());
        }
        return make("linear", out, a.dtype());
    }

    // ---- reductions -----------------------------------------------------------------------

    @Override
    public NativeArray reduce(ReduceOp op, NativeArray x, int[] axes, boolean keepDims) {
        requireNonNull(op, "reduce: op is null");
        requireNonNull(axes, "reduce: axes is null (use an empty array for all axes)");
        String name = "reduce " + op;
        ShapeArray a = arg(x, name);
        if (op == ReduceOp.MEAN) {
            floating(name, a.dtype());
        }
        Shape shape = a.shape();
        boolean[] reduced = new boolean[shape.rank()];
        if (axes.length == 0) {
            Arrays.fill(reduced, true);
        } else {
            for (int ax : KernelChecks.axes(name, shape, axes)) {
                reduced[ax] = true;
            }
        }
        return make(name, reducedShape(name, shape, reduced, keepDims, op == ReduceOp.MAX || op == ReduceOp.MIN), a.dtype());
    }

    private static Shape reducedShape(String name, Shape shape, boolean[] reduced, boolean keepDims, boolean needsElements) {
        int[] dims = shape.dims();
        int[] kept = new int[dims.length];
        int outRank = 0;
        for (int i = 0; i < dims.length; i++) {
            if (reduced[i] && dims[i] == 0 && needsElements) {
                throw new IllegalArgumentException(name + ": cannot reduce over empty axis " + i + " of shape " + shape
                        + "; it has no identity");
            }
            kept[i] = reduced[i] ? 1 : dims[i];
            outRank += reduced[i] ? 0 : 1;
        }
        if (keepDims) {
            return Shape.of(kept);
        }
        int[] out = new int[outRank];
        for (int i = 0, j = 0; i < dims.length; i++) {
            if (!reduced[i]) {
                out[j++] = dims[i];
            }
        }
        return Shape.of(out);
    }

    private static boolean[] one(Shape shape, int axis) {
        boolean[] r = new boolean[shape.rank()];
        r[axis] = true;
        return r;
    }

    @Override
    public NativeArray softmax(NativeArray x, int axis) {
        ShapeArray a = arg(x, "softmax");
        floating("softmax", a.dtype());
        KernelChecks.axis("softmax", a.shape(), axis);
        return make("softmax", a.shape(), a.dtype());
    }

    @Override
    public NativeArray logSumExp(NativeArray x, int axis, boolean keepDims) {
        ShapeArray a = arg(x, "logSumExp");
        floating("logSumExp", a.dtype());
        int ax = KernelChecks.axis("logSumExp", a.shape(), axis);
        return make("logSumExp", reducedShape("logSumExp", a.shape(), one(a.shape(), ax), keepDims, false), a.dtype());
    }

    @Override
    public TopK topK(NativeArray x, int k, int axis) {
        ShapeArray a = arg(x, "topK");
        int ax = KernelChecks.axis("topK", a.shape(), axis);
        int n = a.shape().dim(ax);
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("topK: k=" + k + " is out of range [0, " + n + "] for axis " + axis
                    + " of shape " + a.shape());
        }
        Shape out = a.shape().with(ax, k);
        ShapeArray values = make("topK", out, a.dtype());
        try {
            return new TopK(values, make("topK", out, DType.INT64));
        } catch (RuntimeException e) {
            values.close();
            throw e;
        }
    }

    @Override
    public NativeArray argmax(NativeArray x, int axis, boolean keepDims) {
        ShapeArray a = arg(x, "argmax");
        int ax = KernelChecks.axis("argmax", a.shape(), axis);
        if (a.shape().dim(ax) == 0) {
            throw new IllegalArgumentException("argmax: axis " + axis + " of shape " + a.shape() + " is empty");
        }
        return make("argmax", reducedShape("argmax", a.shape(), one(a.shape(), ax), keepDims, true), DType.INT64);
    }

    @Override
    public NativeArray argsort(NativeArray x, int axis, boolean descending) {
        ShapeArray a = arg(x, "argsort");
        KernelChecks.axis("argsort", a.shape(), axis);
        return make("argsort", a.shape(), DType.INT64);
    }

    @Override
    public NativeArray sort(NativeArray x, int axis, boolean descending) {
        ShapeArray a = arg(x, "sort");
        KernelChecks.axis("sort", a.shape(), axis);
        return make("sort", a.shape(), a.dtype());
    }

    @Override
    public NativeArray cumsum(NativeArray x, int axis) {
        ShapeArray a = arg(x, "cumsum");
        KernelChecks.axis("cumsum", a.shape(), axis);
        return make("cumsum", a.shape(), a.dtype());
    }

    @Override
    public NativeArray segmentSum(NativeArray data, NativeArray segmentIds, int numSegments) {
        return segment("segmentSum", data, segmentIds, numSegments);
    }

    @Override
    public NativeArray segmentMax(NativeArray data, NativeArray segmentIds, int numSegments) {
        return segment("segmentMax", data, segmentIds, numSegments);
    }

    private NativeArray segment(String op, NativeArray data, NativeArray segmentIds, int numSegments) {
        ShapeArray d = arg(data, op);
        ShapeArray ids = arg(segmentIds, op);
        Shape shape = KernelChecks.segments(op, d.shape(), ids, numSegments);
        return make(op, shape.with(0, numSegments), d.dtype());
    }

    // ---- shape and indexing ---------------------------------------------------------------

    @Override
    public NativeArray reshape(NativeArray x, Shape shape) {
        ShapeArray a = arg(x, "reshape");
        requireNonNull(shape, "reshape: shape is null");
        if (shape.size() != a.shape().size()) {
            throw new IllegalArgumentException("reshape: cannot reshape " + a.shape() + " (" + a.shape().size()
                    + " elements) to " + shape + " (" + shape.size() + " elements)");
        }
        return make("reshape", shape, a.dtype());
    }

    @Override
    public NativeArray transpose(NativeArray x, int[] permutation) {
        ShapeArray a = arg(x, "transpose");
        int[] perm = KernelChecks.permutation("transpose", a.shape(), requireNonNull(permutation, "transpose: permutation is null"));
        int[] out = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            out[i] = a.shape().dim(perm[i]);
        }
        return make("transpose", Shape.of(out), a.dtype());
    }

    @Override
    public NativeArray broadcastTo(NativeArray x, Shape shape) {
        ShapeArray a = arg(x, "broadcastTo");
        requireNonNull(shape, "broadcastTo: shape is null");
        Shape from = a.shape();
        boolean ok = from.rank() <= shape.rank();
        for (int i = 1; ok && i <= from.rank(); i++) {
            int d = from.dim(-i);
            ok = d == 1 || d == shape.dim(-i);
        }
        if (!ok) {
            throw new IllegalArgumentException("broadcastTo: cannot broadcast " + from + " to " + shape);
        }
        return make("broadcastTo", shape, a.dtype());
    }

    @Override
    public NativeArray slice(NativeArray x, int[] begin, int[] end) {
        ShapeArray a = arg(x, "slice");
        requireNonNull(begin, "slice: begin is null");
        requireNonNull(end, "slice: end is null");
        KernelChecks.sliceBounds("slice", a.shape(), begin, end);
        int[] out = new int[begin.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = end[i] - begin[i];
        }
        return make("slice", Shape.of(out), a.dtype());
    }

    @Override
    public NativeArray concat(List<NativeArray> parts, int axis) {
        requireNonNull(parts, "concat: parts is null");
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("concat: needs at least one array");
        }
        ShapeArray first = arg(parts.get(0), "concat");
        Shape s0 = first.shape();
        int ax = KernelChecks.axis("concat", s0, axis);
        long total = 0;
        for (int p = 0; p < parts.size(); p++) {
            ShapeArray a = arg(parts.get(p), "concat");
            KernelChecks.sameDType("concat", first.dtype(), a.dtype());
            Shape s = a.shape();
            boolean ok = s.rank() == s0.rank();
            for (int i = 0; ok && i < s.rank(); i++) {
                ok = i == ax || s.dim(i) == s0.dim(i);
            }
            if (!ok) {
                throw new IllegalArgumentException("concat: part " + p + " has shape " + s + " but part 0 has " + s0
                        + "; they must agree on every axis but " + ax);
            }
            total += s.dim(ax);
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("concat: axis " + ax + " would have " + total + " entries, more than an int holds");
        }
        return make("concat", s0.with(ax, (int) total), first.dtype());
    }

    private static Shape takeShape(Shape shape, int axis, Shape indexShape) {
        int[] dims = shape.dims();
        int[] idims = indexShape.dims();
        int[] out = new int[dims.length - 1 + idims.length];
        System.arraycopy(dims, 0, out, 0, axis);
        System.arraycopy(idims, 0, out, axis, idims.length);
        System.arraycopy(dims, axis + 1, out, axis + idims.length, dims.length - axis - 1);
        return Shape.of(out);
    }

    /** Index values are unknown here (zeros): only an empty axis with indices is certainly out of range. */
    private static void indices(String op, ShapeArray idx, Shape shape, int axis) {
        KernelChecks.integer(op, "indices", idx.dtype());
        if (shape.dim(axis) == 0 && idx.shape().size() > 0) {
            KernelChecks.index(op, 0, 0, shape, axis);
        }
    }

    @Override
    public NativeArray gather(NativeArray x, NativeArray indices, int axis) {
        ShapeArray a = arg(x, "gather");
        ShapeArray idx = arg(indices, "gather");
        int ax = KernelChecks.axis("gather", a.shape(), axis);
        indices("gather", idx, a.shape(), ax);
        return make("gather", takeShape(a.shape(), ax, idx.shape()), a.dtype());
    }

    @Override
    public NativeArray scatterAdd(NativeArray target, NativeArray indices, NativeArray updates, int axis) {
        ShapeArray t = arg(target, "scatterAdd");
        ShapeArray idx = arg(indices, "scatterAdd");
        ShapeArray u = arg(updates, "scatterAdd");
        KernelChecks.sameDType("scatterAdd", t.dtype(), u.dtype());
        int ax = KernelChecks.axis("scatterAdd", t.shape(), axis);
        indices("scatterAdd", idx, t.shape(), ax);
        Shape expected = takeShape(t.shape(), ax, idx.shape());
        if (!expected.equals(u.shape())) {
            throw new IllegalArgumentException("scatterAdd: updates have shape " + u.shape() + " but target " + t.shape()
                    + " with indices " + idx.shape() + " on axis " + axis + " needs " + expected);
        }
        return make("scatterAdd", t.shape(), t.dtype());
    }

    // ---- convolution ----------------------------------------------------------------------

    private void convolution(String op) {
        if (!capabilities.contains(Capability.CONVOLUTION)) {
            throw new UnsupportedCapabilityException(backendName, op, Capability.CONVOLUTION);
        }
    }

    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, int[] stride, int[] padding) {
        return conv2d(input, weight, Conv2dOptions.of(stride, padding));
    }

    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, Conv2dOptions options) {
        convolution("conv2d");
        ShapeArray x = arg(input, "conv2d");
        ShapeArray w = arg(weight, "conv2d");
        KernelChecks.sameDType("conv2d", x.dtype(), w.dtype());
        floating("conv2d", x.dtype());
        return make("conv2d", requireNonNull(options, "conv2d: options is null").outputShape(x.shape(), w.shape()), x.dtype());
    }

    @Override
    public NativeArray conv2dBackwardInput(NativeArray gradOutput, NativeArray weight, Shape inputShape, Conv2dOptions options) {
        convolution("conv2dBackwardInput");
        ShapeArray g = arg(gradOutput, "conv2dBackwardInput");
        ShapeArray w = arg(weight, "conv2dBackwardInput");
        KernelChecks.sameDType("conv2dBackwardInput", g.dtype(), w.dtype());
        Shape out = options.outputShape(inputShape, w.shape());
        if (!out.equals(g.shape())) {
            throw new IllegalArgumentException("conv2dBackwardInput: gradient " + g.shape() + " does not match the output "
                    + out + " of input " + inputShape + " and weight " + w.shape());
        }
        return make("conv2dBackwardInput", inputShape, g.dtype());
    }

    @Override
    public NativeArray conv2dBackwardWeight(NativeArray input, NativeArray gradOutput, Shape weightShape, Conv2dOptions options) {
        convolution("conv2dBackwardWeight");
        ShapeArray x = arg(input, "conv2dBackwardWeight");
        ShapeArray g = arg(gradOutput, "conv2dBackwardWeight");
        KernelChecks.sameDType("conv2dBackwardWeight", x.dtype(), g.dtype());
        Shape out = options.outputShape(x.shape(), weightShape);
        if (!out.equals(g.shape())) {
            throw new IllegalArgumentException("conv2dBackwardWeight: gradient " + g.shape() + " does not match the output "
                    + out + " of input " + x.shape() + " and weight " + weightShape);
        }
        return make("conv2dBackwardWeight", weightShape, x.dtype());
    }

    // ---- fused ----------------------------------------------------------------------------

    @Override
    public AdamResult adamUpdate(NativeArray param, NativeArray grad, NativeArray m, NativeArray v, AdamStep h) {
        ShapeArray p = arg(param, "adamUpdate");
        Shape shape = p.shape();
        for (NativeArray other : new NativeArray[] {grad, m, v}) {
            ShapeArray o = arg(other, "adamUpdate");
            KernelChecks.sameDType("adamUpdate", p.dtype(), o.dtype());
            shape = broadcast("adamUpdate", shape, o.shape());
        }
        ShapeArray newParam = make("adamUpdate", shape, p.dtype());
        ShapeArray newM = null;
        try {
            newM = make("adamUpdate", shape, p.dtype());
            return new AdamResult(newParam, newM, make("adamUpdate", shape, p.dtype()));
        } catch (RuntimeException e) {
            newParam.close();
            if (newM != null) {
                newM.close();
            }
            throw e;
        }
    }

    @Override
    public NativeArray softmaxCrossEntropy(NativeArray logits, NativeArray target, int axis) {
        ShapeArray l = arg(logits, "softmaxCrossEntropy");
        ShapeArray t = arg(target, "softmaxCrossEntropy");
        KernelChecks.sameDType("softmaxCrossEntropy", l.dtype(), t.dtype());
        floating("softmaxCrossEntropy", l.dtype());
        Shape both = broadcast("softmaxCrossEntropy", l.shape(), t.shape());
        int ax = KernelChecks.axis("softmaxCrossEntropy", both, axis);
        return make("softmaxCrossEntropy", both.without(ax), l.dtype());
    }
}
