package dev.metaforge.backend.reference;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.KernelChecks;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnaryOp;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Every {@link Kernels} method in plain Java over row-major {@code double[]} (see
 * {@link ReferenceArray} for how FLOAT32 and INT64 are emulated). Stateless and thread-safe.
 *
 * <p>Choices where the SPI leaves room (the TCK oracle follows them):
 * <ul>
 *   <li>Unary NEG, ABS, SIGN, SQUARE, RELU accept INT64; the other unary ops, softmax, logSumExp,
 *       matmul, conv2d, reduce MEAN and the random kernels require a floating dtype.</li>
 *   <li>{@code binaryScalar} first rounds the scalar to the array's dtype when it is FLOAT32
 *       (NumPy/PyTorch float32 semantics); INT64 results are truncated toward zero.</li>
 *   <li>NaN propagates through MAX/MIN reductions and MAXIMUM/MINIMUM; topK ranks NaN above every
 *       number (as PyTorch does).</li>
 *   <li>gather/scatterAdd indices must lie in {@code [0, size)}; negative indices are out of range.</li>
 *   <li>slice bounds must satisfy {@code 0 <= begin <= end <= dim} (no negative or clamped bounds).</li>
 *   <li>randomUniform: {@code low + (high - low) * SplittableRandom(seed).nextDouble()}, kept below
 *       {@code high} after float rounding. randomNormal: Box-Muller on the same
 *       {@code SplittableRandom(seed)} stream, both variates of each pair used in order.</li>
 *   <li>Conversions to INT64 ({@code cast}, {@code toLongs}) truncate toward zero and reject NaN,
 *       infinities and magnitudes above 2^53.</li>
 *   <li>argmax, argsort and sort rank NaN above every number (PyTorch's and NumPy's order): argmax
 *       picks the first NaN, an ascending sort puts NaN last, a descending one first; equal values
 *       (0.0 and -0.0 included) keep their index order. segmentMax propagates NaN.</li>
 *   <li>segment ids must lie in {@code [0, numSegments)} (IndexOutOfBoundsException otherwise).</li>
 * </ul>
 * Every kernel added to the SPI after version 1 (conv2d with dilation and groups, its two backward
 * kernels, arange, cumsum, argmax, argsort, sort, segmentSum, segmentMax) is written here from its
 * definition in float64 loops, never through the SPI's compositions: the TCK checks those
 * compositions against this oracle, which must not share their code. The fused kernels
 * ({@code linear}, {@code adamUpdate}, {@code softmaxCrossEntropy}) are the SPI's composed
 * defaults, which the TCK's FUSED-* rules check against primitives of this class.
 */
public final class ReferenceKernels implements Kernels {
    /** 2^53: INT64 values beyond this magnitude are not exact in float64 storage. */
    static final double MAX_EXACT_INT = 9007199254740992.0;

    @Override
    public String backendName() {
        return ReferenceBackend.NAME;
    }

    // ---- creation -------------------------------------------------------------------------

    @Override
    public NativeArray fromDoubles(double[] data, Shape shape, DType dtype) {
        requireNonNull(data, "fromDoubles: data is null");
        requireNonNull(shape, "fromDoubles: shape is null");
        requireNonNull(dtype, "fromDoubles: dtype is null");
        checkLength("fromDoubles", data.length, shape);
        if (dtype == DType.INT64) {
            for (int i = 0; i < data.length; i++) {
                checkWhole("fromDoubles", data[i], i);
            }
        }
        return new ReferenceArray(data.clone(), shape, dtype);
    }

    @Override
    public NativeArray fromFloats(float[] data, Shape shape) {
        requireNonNull(data, "fromFloats: data is null");
        requireNonNull(shape, "fromFloats: shape is null");
        checkLength("fromFloats", data.length, shape);
        double[] d = new double[data.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = data[i];
        }
        return new ReferenceArray(d, shape, DType.FLOAT32);
    }

    @Override
    public NativeArray fromLongs(long[] data, Shape shape) {
        requireNonNull(data, "fromLongs: data is null");
        requireNonNull(shape, "fromLongs: shape is null");
        checkLength("fromLongs", data.length, shape);
        double[] d = new double[data.length];
        for (int i = 0; i < d.length; i++) {
            long v = data[i];
            if (v > (long) MAX_EXACT_INT || v < -(long) MAX_EXACT_INT) {
                throw new IllegalArgumentException("fromLongs: value " + v + " at index " + i
                        + " exceeds 2^53 in magnitude; the reference backend stores INT64 as float64"
                        + " and holds integers exactly only up to 2^53");
            }
            d[i] = v;
        }
        return new ReferenceArray(d, shape, DType.INT64);
    }

    @Override
    public NativeArray full(Shape shape, double value, DType dtype) {
        requireNonNull(shape, "full: shape is null");
        requireNonNull(dtype, "full: dtype is null");
        if (dtype == DType.INT64) {
            checkWhole("full", value, 0);
        }
        double[] d = new double[shape.sizeAsInt()];
        Arrays.fill(d, value);
        return new ReferenceArray(d, shape, dtype);
    }

    @Override
    public NativeArray randomUniform(Shape shape, DType dtype, double low, double high, long seed) {
        requireNonNull(shape, "randomUniform: shape is null");
        requireFloating("randomUniform", requireNonNull(dtype, "randomUniform: dtype is null"));
        if (!(Double.isFinite(low) && Double.isFinite(high) && low <= high)) {
            throw new IllegalArgumentException("randomUniform: need finite low <= high, got low=" + low + ", high=" + high);
        }
        SplittableRandom random = new SplittableRandom(seed);
        double[] d = new double[shape.sizeAsInt()];
        double below = dtype == DType.FLOAT32 ? Math.nextDown((float) high) : Math.nextDown(high);
        for (int i = 0; i < d.length; i++) {
            double v = ReferenceArray.round(low + (high - low) * random.nextDouble(), dtype);
            d[i] = low < high && v >= high ? Math.max(below, low) : v;
        }
        return new ReferenceArray(d, shape, dtype);
    }

    @Override
    public NativeArray randomNormal(Shape shape, DType dtype, double mean, double std, long seed) {
        requireNonNull(shape, "randomNormal: shape is null");
        requireFloating("randomNormal", requireNonNull(dtype, "randomNormal: dtype is null"));
        if (!(Double.isFinite(mean) && Double.isFinite(std) && std >= 0)) {
            throw new IllegalArgumentException("randomNormal: need finite mean and std >= 0, got mean=" + mean + ", std=" + std);
        }
        SplittableRandom random = new SplittableRandom(seed);
        double[] d = new double[shape.sizeAsInt()];
        for (int i = 0; i < d.length; i += 2) {
            double u1 = 1.0 - random.nextDouble(); // (0, 1], so log is finite
            double u2 = random.nextDouble();
            double r = Math.sqrt(-2.0 * Math.log(u1));
            d[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
            if (i + 1 < d.length) {
                d[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
            }
        }
        return new ReferenceArray(d, shape, dtype);
    }

    // ---- copying out ----------------------------------------------------------------------

    @Override
    public double[] toDoubles(NativeArray x) {
        return arg(x, "toDoubles").data("toDoubles").clone();
    }

    @Override
    public float[] toFloats(NativeArray x) {
        double[] d = arg(x, "toFloats").data("toFloats");
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    @Override
    public long[] toLongs(NativeArray x) {
        ReferenceArray a = arg(x, "toLongs");
        double[] d = a.data("toLongs");
        long[] out = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            out[i] = (long) toInt64("toLongs", d[i], i);
        }
        return out;
    }

    // ---- elementwise ----------------------------------------------------------------------

    @Override
    public NativeArray unary(UnaryOp op, NativeArray x) {
        requireNonNull(op, "unary: op is null");
        String name = "unary " + op;
        ReferenceArray a = arg(x, name);
        boolean integerClosed = switch (op) {
            case NEG, ABS, SIGN, SQUARE, RELU -> true;
            default -> false;
        };
        if (!integerClosed) {
            requireFloating(name, a.dtype());
        }
        DoubleUnaryOperator f = switch (op) {
            case NEG -> v -> -v;
            case ABS -> Math::abs;
            case SIGN -> Math::signum;
            case EXP -> Math::exp;
            case LOG -> Math::log;
            case SQRT -> Math::sqrt;
            case SQUARE -> v -> v * v;
            case RECIPROCAL -> v -> 1.0 / v;
            case TANH -> Math::tanh;
            case SIGMOID -> ReferenceKernels::sigmoid;
            case RELU -> v -> Math.max(v, 0.0);
            case SIN -> Math::sin;
            case COS -> Math::cos;
        };
        double[] in = a.data(name);
        double[] out = new double[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = f.applyAsDouble(in[i]);
        }
        return new ReferenceArray(out, a.shape(), a.dtype());
    }

    private static double sigmoid(double v) {
        if (v >= 0) {
            return 1.0 / (1.0 + Math.exp(-v));
        }
        double e = Math.exp(v);
        return e / (1.0 + e);
    }

    @Override
    public NativeArray binary(BinaryOp op, NativeArray a, NativeArray b) {
        requireNonNull(op, "binary: op is null");
        String name = "binary " + op;
        ReferenceArray x = arg(a, name);
        ReferenceArray y = arg(b, name);
        requireSameDtype(name, x.dtype(), y.dtype());
        Shape out = broadcastShapes(name, x.shape(), y.shape());
        DoubleBinaryOperator f = binaryFunction(op, x.dtype());
        double[] dx = x.data(name);
        double[] dy = y.data(name);
        int[] ix = indexMap(x.shape(), out);
        int[] iy = indexMap(y.shape(), out);
        double[] r = new double[out.sizeAsInt()];
        for (int i = 0; i < r.length; i++) {
            r[i] = f.applyAsDouble(dx[ix == null ? i : ix[i]], dy[iy == null ? i : iy[i]]);
        }
        return new ReferenceArray(r, out, x.dtype());
    }

    @Override
    public NativeArray binaryScalar(BinaryOp op, NativeArray a, double scalar) {
        requireNonNull(op, "binaryScalar: op is null");
        String name = "binaryScalar " + op;
        ReferenceArray x = arg(a, name);
        double s = x.dtype() == DType.FLOAT32 ? (float) scalar : scalar;
        DoubleBinaryOperator f = binaryFunction(op, x.dtype());
        double[] dx = x.data(name);
        double[] r = new double[dx.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = f.applyAsDouble(dx[i], s);
        }
        return new ReferenceArray(r, x.shape(), x.dtype());
    }

    private static DoubleBinaryOperator binaryFunction(BinaryOp op, DType dtype) {
        return switch (op) {
            case ADD -> (p, q) -> p + q;
            case SUB -> (p, q) -> p - q;
            case MUL -> (p, q) -> p * q;
            case DIV -> dtype == DType.INT64 ? ReferenceKernels::integerDivide : (p, q) -> p / q;
            case POW -> Math::pow;
            case MAXIMUM -> Math::max;
            case MINIMUM -> Math::min;
            case EQ -> (p, q) -> p == q ? 1 : 0;
            case NE -> (p, q) -> p != q ? 1 : 0;
            case LT -> (p, q) -> p < q ? 1 : 0;
            case LE -> (p, q) -> p <= q ? 1 : 0;
            case GT -> (p, q) -> p > q ? 1 : 0;
            case GE -> (p, q) -> p >= q ? 1 : 0;
        };
    }

    private static double integerDivide(double p, double q) {
        if (q == 0) {
            throw new ArithmeticException("binary DIV: INT64 division by zero");
        }
        if (p != Math.rint(p) || q != Math.rint(q)) {
            return p / q; // a non-integer scalar divisor; the result is truncated when stored
        }
        return (double) ((long) p / (long) q);
    }

    @Override
    public NativeArray where(NativeArray condition, NativeArray onTrue, NativeArray onFalse) {
        String name = "where";
        ReferenceArray c = arg(condition, name);
        ReferenceArray t = arg(onTrue, name);
        ReferenceArray f = arg(onFalse, name);
        requireSameDtype(name, t.dtype(), f.dtype());
        Shape out = broadcastShapes(name, broadcastShapes(name, c.shape(), t.shape()), f.shape());
        double[] dc = c.data(name);
        double[] dt = t.data(name);
        double[] df = f.data(name);
        int[] ic = indexMap(c.shape(), out);
        int[] it = indexMap(t.shape(), out);
        int[] iff = indexMap(f.shape(), out);
        double[] r = new double[out.sizeAsInt()];
        for (int i = 0; i < r.length; i++) {
            r[i] = dc[ic == null ? i : ic[i]] != 0 ? dt[it == null ? i : it[i]] : df[iff == null ? i : iff[i]];
        }
        return new ReferenceArray(r, out, t.dtype());
    }

    @Override
    public NativeArray cast(NativeArray x, DType dtype) {
        requireNonNull(dtype, "cast: dtype is null");
        ReferenceArray a = arg(x, "cast");
        double[] d = a.data("cast").clone();
        if (dtype == DType.INT64 && a.dtype() != DType.INT64) {
            for (int i = 0; i < d.length; i++) {
                d[i] = toInt64("cast to INT64", d[i], i);
            }
        }
        return new ReferenceArray(d, a.shape(), dtype);
    }

    // ---- linear algebra -------------------------------------------------------------------

    @Override
    public NativeArray matmul(NativeArray a, NativeArray b) {
        String name = "matmul";
        ReferenceArray x = arg(a, name);
        ReferenceArray y = arg(b, name);
        Shape sa = x.shape();
        Shape sb = y.shape();
        if (sa.rank() < 2 || sb.rank() < 2) {
            throw new IllegalArgumentException("matmul: operands must have rank >= 2 (rank-1 vectors are not accepted;"
                    + " reshape a vector to [1, n] or [n, 1]), got " + sa + " @ " + sb);
        }
        requireSameDtype(name, x.dtype(), y.dtype());
        requireFloating(name, x.dtype());
        int m = sa.dim(-2);
        int k = sa.dim(-1);
        int n = sb.dim(-1);
        if (sb.dim(-2) != k) {
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
        int[] outDims = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        outDims[batch.rank()] = m;
        outDims[batch.rank() + 1] = n;
        Shape outShape = Shape.of(outDims);
        int[] ba = indexMap(batchA, batch);
        int[] bb = indexMap(batchB, batch);
        double[] da = x.data(name);
        double[] db = y.data(name);
        double[] c = new double[outShape.sizeAsInt()];
        int batches = batch.sizeAsInt();
        for (int t = 0; t < batches; t++) {
            int aOff = (ba == null ? t : ba[t]) * m * k;
            int bOff = (bb == null ? t : bb[t]) * k * n;
            int cOff = t * m * n;
            for (int i = 0; i < m; i++) {
                int cRow = cOff + i * n;
                for (int p = 0; p < k; p++) {
                    double aip = da[aOff + i * k + p];
                    int bRow = bOff + p * n;
                    for (int j = 0; j < n; j++) {
                        c[cRow + j] += aip * db[bRow + j];
                    }
                }
            }
        }
        return new ReferenceArray(c, outShape, x.dtype());
    }

    // ---- reductions -----------------------------------------------------------------------

    @Override
    public NativeArray reduce(ReduceOp op, NativeArray x, int[] axes, boolean keepDims) {
        requireNonNull(op, "reduce: op is null");
        requireNonNull(axes, "reduce: axes is null (use an empty array for all axes)");
        String name = "reduce " + op;
        ReferenceArray a = arg(x, name);
        if (op == ReduceOp.MEAN) {
            requireFloating(name, a.dtype());
        }
        Shape shape = a.shape();
        int rank = shape.rank();
        int[] dims = shape.dims();
        boolean[] reduced = new boolean[rank];
        if (axes.length == 0) {
            Arrays.fill(reduced, true);
        } else {
            for (int ax : KernelChecks.axes(name, shape, axes)) {
                reduced[ax] = true;
            }
        }
        long count = 1;
        for (int i = 0; i < rank; i++) {
            if (reduced[i]) {
                count *= dims[i];
                if (dims[i] == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN)) {
                    throw new IllegalArgumentException(name + ": cannot reduce over empty axis " + i + " of shape "
                            + shape + "; " + op + " has no identity");
                }
            }
        }
        // Output shape with kept dims (reduced axes as 1), and strides into it (0 on reduced axes).
        int[] keptDims = new int[rank];
        int outRank = 0;
        for (int i = 0; i < rank; i++) {
            keptDims[i] = reduced[i] ? 1 : dims[i];
            outRank += reduced[i] ? 0 : 1;
        }
        int[] strides = new int[rank];
        int acc = 1;
        for (int i = rank - 1; i >= 0; i--) {
            strides[i] = reduced[i] ? 0 : acc;
            acc *= keptDims[i];
        }
        Shape outShape;
        if (keepDims) {
            outShape = Shape.of(keptDims);
        } else {
            int[] od = new int[outRank];
            for (int i = 0, j = 0; i < rank; i++) {
                if (!reduced[i]) {
                    od[j++] = dims[i];
                }
            }
            outShape = Shape.of(od);
        }
        double[] in = a.data(name);
        double[] out = new double[outShape.sizeAsInt()];
        int[] map = offsets(dims, strides, 0);
        switch (op) {
            case SUM, MEAN -> {
                for (int e = 0; e < in.length; e++) {
                    out[map[e]] += in[e];
                }
                if (op == ReduceOp.MEAN) {
                    for (int o = 0; o < out.length; o++) {
                        out[o] /= count; // 0 / 0 = NaN for an empty axis
                    }
                }
            }
            case MAX -> {
                Arrays.fill(out, Double.NEGATIVE_INFINITY);
                for (int e = 0; e < in.length; e++) {
                    double v = in[e];
                    int o = map[e];
                    if (v > out[o] || Double.isNaN(v)) {
                        out[o] = v;
                    }
                }
            }
            case MIN -> {
                Arrays.fill(out, Double.POSITIVE_INFINITY);
                for (int e = 0; e < in.length; e++) {
                    double v = in[e];
                    int o = map[e];
                    if (v < out[o] || Double.isNaN(v)) {
                        out[o] = v;
                    }
                }
            }
        }
        return new ReferenceArray(out, outShape, a.dtype());
    }

    @Override
    public NativeArray softmax(NativeArray x, int axis) {
        String name = "softmax";
        ReferenceArray a = arg(x, name);
        requireFloating(name, a.dtype());
        Shape shape = a.shape();
        int ax = axis(name, shape, axis);
        int n = shape.dim(ax);
        int inner = product(shape.dims(), ax + 1, shape.rank());
        int outer = product(shape.dims(), 0, ax);
        double[] in = a.data(name);
        double[] out = new double[in.length];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                double max = lineMax(in, base, n, inner);
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    double e = Math.exp(in[base + j * inner] - max);
                    out[base + j * inner] = e;
                    sum += e;
                }
                for (int j = 0; j < n; j++) {
                    out[base + j * inner] /= sum;
                }
            }
        }
        return new ReferenceArray(out, shape, a.dtype());
    }

    @Override
    public NativeArray logSumExp(NativeArray x, int axis, boolean keepDims) {
        String name = "logSumExp";
        ReferenceArray a = arg(x, name);
        requireFloating(name, a.dtype());
        Shape shape = a.shape();
        int ax = axis(name, shape, axis);
        int n = shape.dim(ax);
        int inner = product(shape.dims(), ax + 1, shape.rank());
        int outer = product(shape.dims(), 0, ax);
        double[] in = a.data(name);
        double[] out = new double[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                double max = lineMax(in, base, n, inner);
                double r;
                if (Double.isInfinite(max) || Double.isNaN(max)) {
                    r = max; // all -inf (or empty) gives -inf; any +inf gives +inf; NaN propagates
                } else {
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        sum += Math.exp(in[base + j * inner] - max);
                    }
                    r = max + Math.log(sum);
                }
                out[o * inner + i] = r;
            }
        }
        Shape outShape = keepDims ? shape.with(ax, 1) : shape.without(ax);
        return new ReferenceArray(out, outShape, a.dtype());
    }

    /** NaN-propagating maximum of one line; -inf for an empty line. */
    private static double lineMax(double[] in, int base, int n, int stride) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            double v = in[base + j * stride];
            if (v > max || Double.isNaN(v)) {
                max = v;
                if (Double.isNaN(v)) {
                    break;
                }
            }
        }
        return max;
    }

    @Override
    public TopK topK(NativeArray x, int k, int axis) {
        String name = "topK";
        ReferenceArray a = arg(x, name);
        Shape shape = a.shape();
        int ax = axis(name, shape, axis);
        int n = shape.dim(ax);
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("topK: k=" + k + " is out of range [0, " + n + "] for axis " + axis
                    + " of shape " + shape);
        }
        int inner = product(shape.dims(), ax + 1, shape.rank());
        int outer = product(shape.dims(), 0, ax);
        double[] in = a.data(name);
        Shape outShape = shape.with(ax, k);
        double[] values = new double[outShape.sizeAsInt()];
        double[] indices = new double[values.length];
        double[] line = new double[n];
        int[] order = new int[n];
        int[] tmp = new int[n];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                for (int j = 0; j < n; j++) {
                    line[j] = in[base + j * inner];
                    order[j] = j;
                }
                sortDescending(line, order, tmp, n);
                int outBase = o * k * inner + i;
                for (int j = 0; j < k; j++) {
                    values[outBase + j * inner] = line[order[j]];
                    indices[outBase + j * inner] = order[j];
                }
            }
        }
        return new TopK(new ReferenceArray(values, outShape, a.dtype()),
                new ReferenceArray(indices, outShape, DType.INT64));
    }

    /** Stable bottom-up merge sort of {@code order} by {@code v} descending (NaN first). */
    private static void sortDescending(double[] v, int[] order, int[] tmp, int n) {
        for (int width = 1; width < n; width *= 2) {
            for (int lo = 0; lo < n; lo += 2 * width) {
                int mid = Math.min(lo + width, n);
                int hi = Math.min(lo + 2 * width, n);
                int i = lo;
                int j = mid;
                int t = lo;
                while (i < mid && j < hi) {
                    // take from the right run only when strictly greater: equal values keep index order
                    tmp[t++] = ranksAbove(v[order[j]], v[order[i]]) ? order[j++] : order[i++];
                }
                while (i < mid) {
                    tmp[t++] = order[i++];
                }
                while (j < hi) {
                    tmp[t++] = order[j++];
                }
            }
            System.arraycopy(tmp, 0, order, 0, n);
        }
    }

    private static boolean ranksAbove(double p, double q) {
        if (Double.isNaN(p)) {
            return !Double.isNaN(q);
        }
        return !Double.isNaN(q) && p > q;
    }

    // ---- shape and indexing ---------------------------------------------------------------

    @Override
    public NativeArray reshape(NativeArray x, Shape shape) {
        requireNonNull(shape, "reshape: shape is null");
        ReferenceArray a = arg(x, "reshape");
        if (a.shape().size() != shape.size()) {
            throw new IllegalArgumentException("reshape: cannot reshape " + a.shape() + " (" + a.shape().size()
                    + " elements) to " + shape + " (" + shape.size() + " elements)");
        }
        return new ReferenceArray(a.data("reshape").clone(), shape, a.dtype());
    }

    @Override
    public NativeArray transpose(NativeArray x, int[] permutation) {
        requireNonNull(permutation, "transpose: permutation is null");
        ReferenceArray a = arg(x, "transpose");
        Shape shape = a.shape();
        int rank = shape.rank();
        int[] axes = KernelChecks.permutation("transpose", shape, permutation);
        int[] dims = shape.dims();
        long[] inStrides = shape.strides();
        int[] outDims = new int[rank];
        int[] strides = new int[rank];
        for (int i = 0; i < rank; i++) {
            int p = axes[i];
            outDims[i] = dims[p];
            strides[i] = (int) inStrides[p];
        }
        double[] in = a.data("transpose");
        int[] map = offsets(outDims, strides, 0);
        double[] out = new double[map.length];
        for (int e = 0; e < out.length; e++) {
            out[e] = in[map[e]];
        }
        return new ReferenceArray(out, Shape.of(outDims), a.dtype());
    }

    @Override
    public NativeArray broadcastTo(NativeArray x, Shape shape) {
        requireNonNull(shape, "broadcastTo: shape is null");
        ReferenceArray a = arg(x, "broadcastTo");
        Shape from = a.shape();
        boolean ok = from.rank() <= shape.rank();
        for (int i = 1; ok && i <= from.rank(); i++) {
            int d = from.dim(-i);
            ok = d == 1 || d == shape.dim(-i);
        }
        if (!ok) {
            throw new IllegalArgumentException("broadcastTo: cannot broadcast " + from + " to " + shape);
        }
        double[] in = a.data("broadcastTo");
        int[] map = indexMap(from, shape);
        double[] out = map == null ? in.clone() : new double[map.length];
        if (map != null) {
            for (int e = 0; e < out.length; e++) {
                out[e] = in[map[e]];
            }
        }
        return new ReferenceArray(out, shape, a.dtype());
    }

    @Override
    public NativeArray slice(NativeArray x, int[] begin, int[] end) {
        requireNonNull(begin, "slice: begin is null");
        requireNonNull(end, "slice: end is null");
        ReferenceArray a = arg(x, "slice");
        Shape shape = a.shape();
        int rank = shape.rank();
        KernelChecks.sliceBounds("slice", shape, begin, end);
        int[] dims = shape.dims();
        long[] inStrides = shape.strides();
        int[] outDims = new int[rank];
        int[] strides = new int[rank];
        int base = 0;
        for (int i = 0; i < rank; i++) {
            outDims[i] = end[i] - begin[i];
            strides[i] = (int) inStrides[i];
            base += begin[i] * strides[i];
        }
        double[] in = a.data("slice");
        int[] map = offsets(outDims, strides, base);
        double[] out = new double[map.length];
        for (int e = 0; e < out.length; e++) {
            out[e] = in[map[e]];
        }
        return new ReferenceArray(out, Shape.of(outDims), a.dtype());
    }

    @Override
    public NativeArray concat(List<NativeArray> parts, int axis) {
        requireNonNull(parts, "concat: parts is null");
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("concat: needs at least one array");
        }
        ReferenceArray first = arg(parts.get(0), "concat");
        Shape s0 = first.shape();
        int ax = axis("concat", s0, axis);
        int total = 0;
        ReferenceArray[] arrays = new ReferenceArray[parts.size()];
        for (int p = 0; p < arrays.length; p++) {
            ReferenceArray a = arg(parts.get(p), "concat");
            requireSameDtype("concat", first.dtype(), a.dtype());
            Shape s = a.shape();
            boolean ok = s.rank() == s0.rank();
            for (int i = 0; ok && i < s.rank(); i++) {
                ok = i == ax || s.dim(i) == s0.dim(i);
            }
            if (!ok) {
                throw new IllegalArgumentException("concat: part " + p + " has shape " + s + " but part 0 has "
                        + s0 + "; they must agree except on axis " + ax);
            }
            arrays[p] = a;
            total += s.dim(ax);
        }
        Shape outShape = s0.with(ax, total);
        int inner = product(s0.dims(), ax + 1, s0.rank());
        int outer = product(s0.dims(), 0, ax);
        double[] out = new double[outShape.sizeAsInt()];
        int rowOut = total * inner;
        int offset = 0;
        for (ReferenceArray a : arrays) {
            int chunk = a.shape().dim(ax) * inner;
            double[] in = a.data("concat");
            for (int o = 0; o < outer; o++) {
                System.arraycopy(in, o * chunk, out, o * rowOut + offset, chunk);
            }
            offset += chunk;
        }
        return new ReferenceArray(out, outShape, first.dtype());
    }

    @Override
    public NativeArray gather(NativeArray x, NativeArray indices, int axis) {
        String name = "gather";
        ReferenceArray a = arg(x, name);
        ReferenceArray idx = arg(indices, name);
        requireIndices(name, idx);
        Shape shape = a.shape();
        int ax = axis(name, shape, axis);
        int n = shape.dim(ax);
        int[] at = checkedIndices(name, idx, n, ax, shape);
        int inner = product(shape.dims(), ax + 1, shape.rank());
        int outer = product(shape.dims(), 0, ax);
        Shape outShape = takeShape(shape, ax, idx.shape());
        double[] in = a.data(name);
        double[] out = new double[outShape.sizeAsInt()];
        int m = at.length;
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                System.arraycopy(in, (o * n + at[j]) * inner, out, (o * m + j) * inner, inner);
            }
        }
        return new ReferenceArray(out, outShape, a.dtype());
    }

    @Override
    public NativeArray scatterAdd(NativeArray target, NativeArray indices, NativeArray updates, int axis) {
        String name = "scatterAdd";
        ReferenceArray t = arg(target, name);
        ReferenceArray idx = arg(indices, name);
        ReferenceArray u = arg(updates, name);
        requireIndices(name, idx);
        requireSameDtype(name, t.dtype(), u.dtype());
        Shape shape = t.shape();
        int ax = axis(name, shape, axis);
        int n = shape.dim(ax);
        Shape expected = takeShape(shape, ax, idx.shape());
        if (!u.shape().equals(expected)) {
            throw new IllegalArgumentException("scatterAdd: updates have shape " + u.shape() + " but target " + shape
                    + " with indices " + idx.shape() + " on axis " + ax + " needs " + expected);
        }
        int[] at = checkedIndices(name, idx, n, ax, shape);
        int inner = product(shape.dims(), ax + 1, shape.rank());
        int outer = product(shape.dims(), 0, ax);
        double[] out = t.data(name).clone();
        double[] du = u.data(name);
        int m = at.length;
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                int dst = (o * n + at[j]) * inner;
                int src = (o * m + j) * inner;
                for (int i = 0; i < inner; i++) {
                    out[dst + i] += du[src + i];
                }
            }
        }
        return new ReferenceArray(out, shape, t.dtype());
    }

    private static Shape takeShape(Shape shape, int ax, Shape indexShape) {
        int[] dims = shape.dims();
        int[] idims = indexShape.dims();
        int[] out = new int[dims.length - 1 + idims.length];
        System.arraycopy(dims, 0, out, 0, ax);
        System.arraycopy(idims, 0, out, ax, idims.length);
        System.arraycopy(dims, ax + 1, out, ax + idims.length, dims.length - ax - 1);
        return Shape.of(out);
    }

    private static void requireIndices(String op, ReferenceArray idx) {
        if (idx.dtype() != DType.INT64) {
            throw new IllegalArgumentException(op + ": indices must be INT64, got " + idx.dtype());
        }
    }

    private static int[] checkedIndices(String op, ReferenceArray idx, int n, int ax, Shape shape) {
        double[] d = idx.data(op);
        int[] at = new int[d.length];
        for (int j = 0; j < d.length; j++) {
            double v = d[j];
            if (!(v >= 0 && v < n)) {
                throw new IndexOutOfBoundsException(op + ": index " + (long) v + " at position " + j
                        + " is out of range [0, " + n + ") for axis " + ax + " of shape " + shape);
            }
            at[j] = (int) v;
        }
        return at;
    }

    // ---- convolution ----------------------------------------------------------------------

    /** Stride and padding only: {@link #conv2d(NativeArray, NativeArray, Conv2dOptions)} with dilation 1 and one group. */
    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, int[] stride, int[] padding) {
        requireNonNull(stride, "conv2d: stride is null");
        requireNonNull(padding, "conv2d: padding is null");
        return conv2d(input, weight, Conv2dOptions.of(stride, padding));
    }

    /**
     * 2-D convolution from its definition, {@code out[b, o, y, x] = sum over the channels c of o's group
     * and taps (r, t) of in[b, c, y*sH - pH + r*dH, x*sW - pW + t*dW] * w[o, c - groupStart, r, t]}
     * (taps falling in the padding contribute zero).
     */
    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, Conv2dOptions options) {
        String name = "conv2d";
        requireNonNull(options, "conv2d: options is null");
        ReferenceArray x = arg(input, name);
        ReferenceArray w = arg(weight, name);
        KernelChecks.sameDType(name, x.dtype(), w.dtype());
        requireFloating(name, x.dtype());
        Conv geo = new Conv(x.shape(), w.shape(), options);
        double[] in = x.data(name);
        double[] wt = w.data(name);
        double[] out = new double[geo.out.sizeAsInt()];
        for (int b = 0; b < geo.batch; b++) {
            for (int o = 0; o < geo.outChannels; o++) {
                int c0 = (o / geo.outPerGroup) * geo.inPerGroup;
                for (int y = 0; y < geo.oh; y++) {
                    for (int z = 0; z < geo.ow; z++) {
                        double sum = 0;
                        for (int c = 0; c < geo.inPerGroup; c++) {
                            for (int r = 0; r < geo.kh; r++) {
                                int iy = geo.row(y, r);
                                if (iy < 0 || iy >= geo.height) {
                                    continue;
                                }
                                for (int t = 0; t < geo.kw; t++) {
                                    int ix = geo.col(z, t);
                                    if (ix >= 0 && ix < geo.width) {
                                        sum += in[geo.inAt(b, c0 + c, iy, ix)] * wt[geo.wAt(o, c, r, t)];
                                    }
                                }
                            }
                        }
                        out[geo.outAt(b, o, y, z)] = sum;
                    }
                }
            }
        }
        return new ReferenceArray(out, geo.out, x.dtype());
    }

    /**
     * The adjoint of {@link #conv2d(NativeArray, NativeArray, Conv2dOptions)} in its input, from the
     * definition: every output position sends {@code gradOutput * w} back to each input position one
     * of its taps read ({@code dx[b, c, iy, ix] = sum of g[b, o, y, x] * w[o, c', r, t]} over the
     * (o, y, x, r, t) with {@code iy = y*sH - pH + r*dH}, {@code ix = x*sW - pW + t*dW}).
     */
    @Override
    public NativeArray conv2dBackwardInput(NativeArray gradOutput, NativeArray weight, Shape inputShape,
                                           Conv2dOptions options) {
        String name = "conv2dBackwardInput";
        requireNonNull(inputShape, "conv2dBackwardInput: inputShape is null");
        requireNonNull(options, "conv2dBackwardInput: options is null");
        ReferenceArray g = arg(gradOutput, name);
        ReferenceArray w = arg(weight, name);
        KernelChecks.sameDType(name, g.dtype(), w.dtype());
        requireFloating(name, g.dtype());
        KernelChecks.conv2dGradient(name, inputShape, w.shape(), g.shape(), options);
        Conv geo = new Conv(inputShape, w.shape(), options);
        double[] dg = g.data(name);
        double[] wt = w.data(name);
        double[] dx = new double[inputShape.sizeAsInt()];
        for (int b = 0; b < geo.batch; b++) {
            for (int o = 0; o < geo.outChannels; o++) {
                int c0 = (o / geo.outPerGroup) * geo.inPerGroup;
                for (int y = 0; y < geo.oh; y++) {
                    for (int z = 0; z < geo.ow; z++) {
                        double gv = dg[geo.outAt(b, o, y, z)];
                        for (int c = 0; c < geo.inPerGroup; c++) {
                            for (int r = 0; r < geo.kh; r++) {
                                int iy = geo.row(y, r);
                                if (iy < 0 || iy >= geo.height) {
                                    continue;
                                }
                                for (int t = 0; t < geo.kw; t++) {
                                    int ix = geo.col(z, t);
                                    if (ix >= 0 && ix < geo.width) {
                                        dx[geo.inAt(b, c0 + c, iy, ix)] += gv * wt[geo.wAt(o, c, r, t)];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new ReferenceArray(dx, inputShape, g.dtype());
    }

    /**
     * The adjoint of conv2d in its weight, from the definition:
     * {@code dw[o, c, r, t] = sum over (b, y, x) of g[b, o, y, x] * in[b, groupStart + c, y*sH - pH + r*dH, x*sW - pW + t*dW]}.
     */
    @Override
    public NativeArray conv2dBackwardWeight(NativeArray input, NativeArray gradOutput, Shape weightShape,
                                            Conv2dOptions options) {
        String name = "conv2dBackwardWeight";
        requireNonNull(weightShape, "conv2dBackwardWeight: weightShape is null");
        requireNonNull(options, "conv2dBackwardWeight: options is null");
        ReferenceArray x = arg(input, name);
        ReferenceArray g = arg(gradOutput, name);
        KernelChecks.sameDType(name, x.dtype(), g.dtype());
        requireFloating(name, x.dtype());
        KernelChecks.conv2dGradient(name, x.shape(), weightShape, g.shape(), options);
        Conv geo = new Conv(x.shape(), weightShape, options);
        double[] in = x.data(name);
        double[] dg = g.data(name);
        double[] dw = new double[weightShape.sizeAsInt()];
        for (int o = 0; o < geo.outChannels; o++) {
            int c0 = (o / geo.outPerGroup) * geo.inPerGroup;
            for (int c = 0; c < geo.inPerGroup; c++) {
                for (int r = 0; r < geo.kh; r++) {
                    for (int t = 0; t < geo.kw; t++) {
                        double sum = 0;
                        for (int b = 0; b < geo.batch; b++) {
                            for (int y = 0; y < geo.oh; y++) {
                                int iy = geo.row(y, r);
                                if (iy < 0 || iy >= geo.height) {
                                    continue;
                                }
                                for (int z = 0; z < geo.ow; z++) {
                                    int ix = geo.col(z, t);
                                    if (ix >= 0 && ix < geo.width) {
                                        sum += dg[geo.outAt(b, o, y, z)] * in[geo.inAt(b, c0 + c, iy, ix)];
                                    }
                                }
                            }
                        }
                        dw[geo.wAt(o, c, r, t)] = sum;
                    }
                }
            }
        }
        return new ReferenceArray(dw, weightShape, x.dtype());
    }

    /** The geometry of one convolution (shapes checked by {@link Conv2dOptions#outputShape}) and its index arithmetic. */
    private static final class Conv {
        final Shape out;
        final int batch;
        final int height;
        final int width;
        final int inChannels;
        final int outChannels;
        final int inPerGroup;
        final int outPerGroup;
        final int kh;
        final int kw;
        final int oh;
        final int ow;
        final int[] s;
        final int[] p;
        final int[] d;

        Conv(Shape input, Shape weight, Conv2dOptions options) {
            this.out = options.outputShape(input, weight);
            batch = input.dim(0);
            inChannels = input.dim(1);
            height = input.dim(2);
            width = input.dim(3);
            outChannels = weight.dim(0);
            inPerGroup = weight.dim(1);
            outPerGroup = outChannels / options.groups();
            kh = weight.dim(2);
            kw = weight.dim(3);
            oh = out.dim(2);
            ow = out.dim(3);
            s = options.stride();
            p = options.padding();
            d = options.dilation();
        }

        int row(int y, int r) {
            return y * s[0] - p[0] + r * d[0];
        }

        int col(int x, int t) {
            return x * s[1] - p[1] + t * d[1];
        }

        int inAt(int b, int c, int y, int x) {
            return ((b * inChannels + c) * height + y) * width + x;
        }

        int wAt(int o, int c, int r, int t) {
            return ((o * inPerGroup + c) * kh + r) * kw + t;
        }

        int outAt(int b, int o, int y, int x) {
            return ((b * outChannels + o) * oh + y) * ow + x;
        }
    }

    // ---- index and ordering kernels -------------------------------------------------------

    @Override
    public NativeArray arange(int n, DType dtype) {
        requireNonNull(dtype, "arange: dtype is null");
        KernelChecks.nonNegative("arange", "n", n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return new ReferenceArray(out, Shape.of(n), dtype);
    }

    /** A running sum along the axis, in order; INT64 stays exact up to 2^53. */
    @Override
    public NativeArray cumsum(NativeArray x, int axis) {
        String name = "cumsum";
        ReferenceArray a = arg(x, name);
        Shape shape = a.shape();
        int ax = KernelChecks.axis(name, shape, axis);
        int n = shape.dim(ax);
        int inner = product(shape.dims(), ax + 1, shape.rank());
        int outer = product(shape.dims(), 0, ax);
        double[] in = a.data(name);
        double[] out = new double[in.length];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sum += in[base + j * inner];
                    out[base + j * inner] = sum; // accumulated in double, rounded once when stored
                }
            }
        }
        return new ReferenceArray(out, shape, a.dtype());
    }

    /** The first index of the largest entry along the axis; NaN counts as the largest (as in PyTorch). */
    @Override
    public NativeArray argmax(NativeArray x, int axis, boolean keepDims) {
        String name = "argmax";
        ReferenceArray a = arg(x, name);
        Shape shape = a.shape();
        int ax = KernelChecks.axis(name, shape, axis);
        int n = shape.dim(ax);
        if (n == 0) {
            throw new IllegalArgumentException("argmax: axis " + axis + " of shape " + shape + " is empty");
        }
        int inner = product(shape.dims(), ax + 1, shape.rank());
        int outer = product(shape.dims(), 0, ax);
        double[] in = a.data(name);
        double[] out = new double[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                int best = 0;
                for (int j = 1; j < n; j++) {
                    if (ranksAbove(in[base + j * inner], in[base + best * inner])) {
                        best = j;
                    }
                }
                out[o * inner + i] = best;
            }
        }
        return new ReferenceArray(out, keepDims ? shape.with(ax, 1) : shape.without(ax), DType.INT64);
    }

    /** A stable merge sort along the axis; NaN sorts as the largest value (last ascending, first descending). */
    @Override
    public NativeArray argsort(NativeArray x, int axis, boolean descending) {
        return sorted("argsort", x, axis, descending, true);
    }

    @Override
    public NativeArray sort(NativeArray x, int axis, boolean descending) {
        return sorted("sort", x, axis, descending, false);
    }

    private NativeArray sorted(String name, NativeArray x, int axis, boolean descending, boolean indices) {
        ReferenceArray a = arg(x, name);
        Shape shape = a.shape();
        int ax = KernelChecks.axis(name, shape, axis);
        int n = shape.dim(ax);
        int inner = product(shape.dims(), ax + 1, shape.rank());
        int outer = product(shape.dims(), 0, ax);
        double[] in = a.data(name);
        double[] out = new double[in.length];
        double[] line = new double[n];
        int[] order = new int[n];
        int[] tmp = new int[n];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                for (int j = 0; j < n; j++) {
                    line[j] = in[base + j * inner];
                    order[j] = j;
                }
                if (descending) {
                    sortDescending(line, order, tmp, n);
                } else {
                    sortAscending(line, order, tmp, n);
                }
                for (int j = 0; j < n; j++) {
                    out[base + j * inner] = indices ? order[j] : line[order[j]];
                }
            }
        }
        return new ReferenceArray(out, shape, indices ? DType.INT64 : a.dtype());
    }

    /** Stable bottom-up merge sort of {@code order} by {@code v} ascending (NaN last). */
    private static void sortAscending(double[] v, int[] order, int[] tmp, int n) {
        for (int width = 1; width < n; width *= 2) {
            for (int lo = 0; lo < n; lo += 2 * width) {
                int mid = Math.min(lo + width, n);
                int hi = Math.min(lo + 2 * width, n);
                int i = lo;
                int j = mid;
                int t = lo;
                while (i < mid && j < hi) {
                    // take from the right run only when strictly smaller: equal values keep index order
                    tmp[t++] = ranksAbove(v[order[i]], v[order[j]]) ? order[j++] : order[i++];
                }
                while (i < mid) {
                    tmp[t++] = order[i++];
                }
                while (j < hi) {
                    tmp[t++] = order[j++];
                }
            }
            System.arraycopy(tmp, 0, order, 0, n);
        }
    }

    /** Row sums by segment id, rows taken in order. */
    @Override
    public NativeArray segmentSum(NativeArray data, NativeArray segmentIds, int numSegments) {
        return segment("segmentSum", data, segmentIds, numSegments, false);
    }

    /** Row maxima by segment id; an empty segment gives 0 and NaN propagates. */
    @Override
    public NativeArray segmentMax(NativeArray data, NativeArray segmentIds, int numSegments) {
        return segment("segmentMax", data, segmentIds, numSegments, true);
    }

    private NativeArray segment(String name, NativeArray data, NativeArray segmentIds, int numSegments, boolean max) {
        ReferenceArray a = arg(data, name);
        ReferenceArray ids = arg(segmentIds, name);
        Shape shape = KernelChecks.segments(name, a.shape(), ids, numSegments);
        Shape outShape = shape.with(0, numSegments);
        int rows = shape.dim(0);
        int row = product(shape.dims(), 1, shape.rank());
        double[] id = ids.data(name);
        double[] in = a.data(name);
        double[] out = new double[outShape.sizeAsInt()];
        boolean[] seen = new boolean[numSegments];
        for (int i = 0; i < rows; i++) {
            long s = (long) id[i];
            KernelChecks.index(name, s, numSegments, outShape, 0);
            int dst = (int) s * row;
            int src = i * row;
            for (int j = 0; j < row; j++) {
                double v = in[src + j];
                if (!max) {
                    out[dst + j] += v;
                } else if (!seen[(int) s] || v > out[dst + j] || Double.isNaN(v)) {
                    out[dst + j] = v; // once NaN, stays NaN: nothing compares greater
                }
            }
            seen[(int) s] = true;
        }
        return new ReferenceArray(out, outShape, a.dtype());
    }

    // ---- helpers --------------------------------------------------------------------------

    private static ReferenceArray arg(NativeArray x, String op) {
        requireNonNull(x, op + ": array argument is null");
        if (x instanceof ReferenceArray r) {
            r.data(op); // fails fast, naming the op, when the array is closed
            return r;
        }
        throw new IllegalArgumentException(op + ": expected an array of the reference backend, got "
                + x.getClass().getName() + " (" + x.dtype() + " " + x.shape() + ")");
    }

    private static void requireSameDtype(String op, DType a, DType b) {
        KernelChecks.sameDType(op, a, b);
    }

    private static void requireFloating(String op, DType dtype) {
        KernelChecks.floating(op, dtype);
    }

    private static int axis(String op, Shape shape, int axis) {
        return KernelChecks.axis(op, shape, axis);
    }

    private static void checkLength(String op, int length, Shape shape) {
        if (length != shape.size()) {
            throw new IllegalArgumentException(op + ": " + length + " values do not fill shape " + shape
                    + " (" + shape.size() + " elements)");
        }
    }

    private static void checkWhole(String op, double v, int index) {
        if (!(v == Math.rint(v) && Math.abs(v) <= MAX_EXACT_INT)) {
            throw new IllegalArgumentException(op + ": INT64 value " + v + " at index " + index
                    + " is not a whole number within 2^53 in magnitude");
        }
    }

    /** Truncates toward zero, rejecting NaN, infinities and magnitudes above 2^53. */
    private static double toInt64(String op, double v, int index) {
        double t = v < 0 ? Math.ceil(v) : Math.floor(v);
        if (!(Math.abs(t) <= MAX_EXACT_INT)) {
            throw new IllegalArgumentException(op + ": value " + v + " at index " + index
                    + " has no exact INT64 value (NaN, infinite, or beyond 2^53)");
        }
        return t;
    }

    private static Shape broadcastShapes(String op, Shape a, Shape b) {
        try {
            return Shape.broadcast(a, b);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": shapes " + a + " and " + b + " do not broadcast", e);
        }
    }

    private static int product(int[] dims, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) {
            p *= dims[i];
        }
        return p;
    }

    /**
     * For each element of {@code out} (row-major), the offset of the element of {@code in} that
     * broadcasts to it; null when the shapes are equal (identity). {@code in} must broadcast to {@code out}.
     */
    static int[] indexMap(Shape in, Shape out) {
        if (in.equals(out)) {
            return null;
        }
        int rank = out.rank();
        int shift = rank - in.rank();
        long[] inStrides = in.strides();
        int[] strides = new int[rank];
        for (int i = shift; i < rank; i++) {
            strides[i] = in.dim(i - shift) == 1 ? 0 : (int) inStrides[i - shift];
        }
        return offsets(out.dims(), strides, 0);
    }

    /**
     * The offsets {@code base + sum(index[d] * strides[d])} of every index of {@code dims} in
     * row-major order (an odometer walk; one allocation for the whole result).
     */
    static int[] offsets(int[] dims, int[] strides, int base) {
        int n = product(dims, 0, dims.length);
        int[] out = new int[n];
        int rank = dims.length;
        int[] index = new int[rank];
        int off = base;
        for (int e = 0; e < n; e++) {
            out[e] = off;
            for (int d = rank - 1; d >= 0; d--) {
                if (++index[d] < dims[d]) {
                    off += strides[d];
                    break;
                }
                off -= strides[d] * (dims[d] - 1);
                index[d] = 0;
            }
        }
        return out;
    }
}
