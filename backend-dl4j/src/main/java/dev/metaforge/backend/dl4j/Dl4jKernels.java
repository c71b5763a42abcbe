package dev.metaforge.backend.dl4j;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.HostCrossEntropy;
import dev.metaforge.spi.HostBuffers;
import dev.metaforge.spi.KernelChecks;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.SgdResult;
import dev.metaforge.spi.SgdStep;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnaryOp;
import dev.metaforge.backend.dl4j.Nd4jCalls.ScalarKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.impl.scalar.Pow;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.api.ops.impl.transforms.same.Abs;
import org.nd4j.linalg.api.ops.impl.transforms.same.Negative;
import org.nd4j.linalg.api.ops.impl.transforms.same.Reciprocal;
import org.nd4j.linalg.api.ops.impl.transforms.same.Sign;
import org.nd4j.linalg.api.ops.impl.transforms.same.Square;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Cos;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Log;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sin;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.api.ops.random.impl.UniformDistribution;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The SPI kernels on ND4J {@link INDArray}s (eager libnd4j ops; SameDiff is never used).
 *
 * <p>How the ND4J pitfalls are handled:
 * <ul>
 *   <li><b>Ownership.</b> Every result is a fresh dense row-major array that shares memory with no
 *       other {@link Dl4jArray}; views (reshape, permute, get) are only ever made of inputs, to
 *       read them, or of temporaries that are not handed out. So callers may close inputs and
 *       results in any order.</li>
 *   <li><b>Broadcasting.</b> {@code INDArray.add} and friends do not broadcast every pair of
 *       shapes (e.g. [4] + [4,1] fails), so binary ops call libnd4j's broadcastable custom ops
 *       ({@code add}, {@code subtract}, ...) into an output of the NumPy broadcast shape we
 *       allocated.</li>
 *   <li><b>Empty arrays.</b> ND4J refuses most ops on zero-size arrays, so every kernel settles
 *       zero-size cases in Java before calling ND4J.</li>
 *   <li><b>Errors.</b> Shapes, dtypes, axes and indices are checked in Java first, so a mistake
 *       gets an {@link IllegalArgumentException} (or {@link IndexOutOfBoundsException}) naming
 *       the operation and the shapes, never a native failure; INT64 division by zero, which kills
 *       the JVM with SIGFPE inside libnd4j, is refused with {@link ArithmeticException}.</li>
 *   <li><b>Cost and native memory.</b> ND4J's per-call overhead dominates small ops, and much
 *       of it is allocation that ND4J leaves to the garbage collector. So outputs come from
 *       {@link Nd4jCalls#allocate} (shared shape descriptors), custom ops run in reusable
 *       per-thread contexts, scalar ops reuse per-thread op objects, the cheap "legacy"
 *       transform ops are used where they fit, and temporaries we own are updated in place.</li>
 * </ul>
 *
 * <p>INT64 arrays support the integer-valued ops: creation, copies, comparisons, ADD, SUB, MUL,
 * DIV (truncating, like Java), POW, MAXIMUM, MINIMUM, NEG, ABS, SIGN, SQUARE, RELU, SUM, MAX, MIN,
 * shape ops, gather/scatterAdd, where, topK, matmul and cast. Ops whose result is not an integer
 * (EXP, MEAN, softmax, random, ...) refuse INT64 with an {@link IllegalArgumentException}; cast
 * first. A scalar operand of an INT64 op is truncated toward zero.
 */
final class Dl4jKernels implements Kernels {
    /** Contiguous sums (nothing kept after the summed axes) up to this length take BLAS in {@link #reduce}. */
    private static final int HOST_SUM_MAX = 1 << 12;
    /** Broadcast copies up to this many elements are made in Java ({@link #broadcastTo}). */
    private static final int HOST_BROADCAST_MAX = 1 << 18;
    /** Elements per chunk of a host loop over native memory ({@link #reluBackward}). */
    private static final int HOST_CHUNK = 2048;
    /** Arrays up to this size are filled from Java by {@link #full}; bigger ones by ND4J. */
    private static final int JAVA_FILL_MAX = 1 << 16;

    private final Device device;
    private final Nd4jCalls nd = new Nd4jCalls();
    /** Float32 products of at least this many multiply-adds go to oneDNN ({@link Blas#gemm}); MAX_VALUE: none. */
    private final long oneDnnFrom;

    Dl4jKernels(Device device, dev.metaforge.spi.CpuGemmChoice.Choice gemm) {
        this.device = requireNonNull(device, "device is null");
        this.oneDnnFrom = gemm.minMultiplyAdds();
    }

    @Override
    public String backendName() {
        return Dl4jBackend.NAME;
    }

    // ---- creation -------------------------------------------------------------------------

    @Override
    public NativeArray fromDoubles(double[] data, Shape shape, DType dtype) {
        requireNonNull(data, "data is null");
        requireNonNull(shape, "shape is null");
        requireNonNull(dtype, "dtype is null");
        checkLength("fromDoubles", data.length, shape);
        INDArray out = nd.allocate(dtype, shape);
        Nd4jCalls.write(out, dtype, data);
        return wrap(out, dtype, shape);
    }

    @Override
    public NativeArray fromFloats(float[] data, Shape shape) {
        requireNonNull(data, "data is null");
        requireNonNull(shape, "shape is null");
        checkLength("fromFloats", data.length, shape);
        INDArray out = nd.allocate(DType.FLOAT32, shape);
        if (data.length > 0) {
            Nd4jCalls.write(out, data);
        }
        return wrap(out, DType.FLOAT32, shape);
    }

    @Override
    public NativeArray fromLongs(long[] data, Shape shape) {
        requireNonNull(data, "data is null");
        requireNonNull(shape, "shape is null");
        checkLength("fromLongs", data.length, shape);
        INDArray out = nd.allocate(DType.INT64, shape);
        if (data.length > 0) {
            Nd4jCalls.write(out, data);
        }
        return wrap(out, DType.INT64, shape);
    }

    @Override
    public NativeArray full(Shape shape, double value, DType dtype) {
        requireNonNull(shape, "shape is null");
        requireNonNull(dtype, "dtype is null");
        return wrap(filled(dtype, shape, value), dtype, shape);
    }

    /** A fresh array of {@code value}; Java fills small ones (cheaper than an ND4J call). */
    private INDArray filled(DType dtype, Shape shape, double value) {
        INDArray out = nd.allocate(dtype, shape);
        long size = shape.size();
        if (size == 0) {
            return out;
        }
        if (size > JAVA_FILL_MAX) {
            out.assign(dtype == DType.INT64 ? (Number) (long) value : (Number) value);
            return out;
        }
        double[] values = new double[(int) size];
        Arrays.fill(values, value);
        Nd4jCalls.write(out, dtype, values);
        return out;
    }

    /**
     * Uniform samples from ND4J's {@code UniformDistribution} drawn with a fresh ND4J random
     * generator seeded with {@code seed} (never ND4J's global one), so a seed always gives the
     * same array, whatever else ran before.
     */
    @Override
    public NativeArray randomUniform(Shape shape, DType dtype, double low, double high, long seed) {
        requireNonNull(shape, "shape is null");
        requireNonNull(dtype, "dtype is null");
        floating("randomUniform", dtype);
        if (!(low <= high) || Double.isInfinite(low) || Double.isInfinite(high)) {
            throw new IllegalArgumentException("dl4j randomUniform: needs finite low <= high, got [" + low + ", " + high + ")");
        }
        INDArray out = nd.allocate(dtype, shape);
        if (shape.size() > 0) {
            sample(new UniformDistribution(out, low, high), seed);
            if (high > low) {
                // ND4J maps its generator into [low, high]; rounding can land on high itself,
                // which the SPI excludes. Clamp to the largest value below high in the dtype.
                double below = dtype == DType.FLOAT32 ? Math.nextDown((float) high) : Math.nextDown(high);
                nd.scalar(ScalarKind.MIN, out, out, below);
            }
        }
        return wrap(out, dtype, shape);
    }

    /** Normal samples from ND4J's {@code GaussianDistribution}, seeded as {@link #randomUniform}. */
    @Override
    public NativeArray randomNormal(Shape shape, DType dtype, double mean, double std, long seed) {
        requireNonNull(shape, "shape is null");
        requireNonNull(dtype, "dtype is null");
        floating("randomNormal", dtype);
        if (!(std >= 0) || Double.isInfinite(std) || !Double.isFinite(mean)) {
            throw new IllegalArgumentException("dl4j randomNormal: needs a finite mean and a finite std >= 0, got mean "
                    + mean + ", std " + std);
        }
        INDArray out = nd.allocate(dtype, shape);
        if (shape.size() > 0) {
            sample(new GaussianDistribution(out, mean, std), seed);
        }
        return wrap(out, dtype, shape);
    }

    private static void sample(Op distribution, long seed) {
        try (Random rng = Nd4j.getRandomFactory().getNewRandomInstance(seed)) {
            Nd4j.getExecutioner().exec((org.nd4j.linalg.api.ops.RandomOp) distribution, rng);
        } catch (RuntimeException e) {
            throw Nd4jCalls.failed(distribution.opName(), e);
        } catch (Exception e) {
            throw new IllegalStateException("dl4j: could not release ND4J's random generator", e);
        }
    }

    // ---- copying out ----------------------------------------------------------------------

    @Override
    public double[] toDoubles(NativeArray x) {
        Dl4jArray a = arg(x, "toDoubles", "x");
        return Nd4jCalls.readDoubles(a.nd("toDoubles"), a.dtype(), a.shape().sizeAsInt());
    }

    @Override
    public float[] toFloats(NativeArray x) {
        Dl4jArray a = arg(x, "toFloats", "x");
        return Nd4jCalls.readFloats(a.nd("toFloats"), a.dtype(), a.shape().sizeAsInt());
    }

    @Override
    public long[] toLongs(NativeArray x) {
        Dl4jArray a = arg(x, "toLongs", "x");
        return Nd4jCalls.readLongs(a.nd("toLongs"), a.dtype(), a.shape().sizeAsInt());
    }

    // ---- elementwise ----------------------------------------------------------------------

    @Override
    public NativeArray unary(UnaryOp op, NativeArray x) {
        requireNonNull(op, "op is null");
        String name = "unary " + op;
        Dl4jArray a = arg(x, name, "x");
        if (a.dtype() == DType.INT64 && !integerUnary(op)) {
            throw new IllegalArgumentException("dl4j " + name + " needs a floating dtype (FLOAT32 or FLOAT64), got INT64;"
                    + " cast the array first");
        }
        INDArray in = a.nd(name);
        INDArray out = nd.allocate(a.dtype(), a.shape());
        if (a.shape().size() > 0) {
            if (op == UnaryOp.RELU) {
                nd.scalar(ScalarKind.RELU, in, out, 0.0);
            } else {
                Nd4jCalls.exec(unaryOp(op, in, out));
            }
        }
        return wrap(out, a.dtype(), a.shape());
    }

    private static boolean integerUnary(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SIGN, SQUARE, RELU -> true;
            default -> false;
        };
    }

    /** The legacy (transform or scalar) op computing {@code op} from {@code x} into {@code z}. */
    private static Op unaryOp(UnaryOp op, INDArray x, INDArray z) {
        return switch (op) {
            case NEG -> new Negative(x, z);
            case ABS -> new Abs(x, z);
            case SIGN -> new Sign(x, z);
            case EXP -> new Exp(x, z);
            case LOG -> new Log(x, z);
            case SQRT -> new Sqrt(x, z);
            case SQUARE -> new Square(x, z);
            case RECIPROCAL -> new Reciprocal(x, z);
            case TANH -> new Tanh(x, z);
            case SIGMOID -> new Sigmoid(x, z);
            case RELU -> throw new IllegalArgumentException("RELU runs as a reusable scalar op");
            case SIN -> new Sin(x, z);
            case COS -> new Cos(x, z);
        };
    }

    @Override
    public NativeArray binary(BinaryOp op, NativeArray a, NativeArray b) {
        requireNonNull(op, "op is null");
        String name = "binary " + op;
        Dl4jArray x = arg(a, name, "a");
        Dl4jArray y = arg(b, name, "b");
        sameDType(name, x, "a", y, "b");
        Shape outShape = broadcast(name, x.shape(), y.shape());
        INDArray xa = x.nd(name);
        INDArray ya = y.nd(name);
        DType dtype = x.dtype();
        if (outShape.size() == 0) {
            return wrap(nd.allocate(dtype, outShape), dtype, outShape);
        }
        if (dtype == DType.INT64 && op == BinaryOp.DIV) {
            checkIntegerDivision(name, xa, x.shape(), ya, y.shape());
        }
        INDArray out = nd.allocate(dtype, outShape);
        if (!op.isComparison() && x.shape().equals(y.shape()) && (op == BinaryOp.ADD || op == BinaryOp.SUB)) {
            // Same shapes: the legacy pairwise Axpy (p*x + y) is several times cheaper than the
            // broadcasting custom op, and exact here (p = +-1).
            Nd4jCalls.exec(new Axpy(ya, xa, out, op == BinaryOp.ADD ? 1.0 : -1.0));
        } else if (op.isComparison()) {
            compare(op, xa, ya, out, outShape);
        } else {
            nd.custom(customName(op)).in(xa, ya).out(out).run();
        }
        return wrap(out, dtype, outShape);
    }

    /** Writes 1/0 of {@code a op b} (broadcast) into {@code out}, converting from a boolean temporary. */
    private void compare(BinaryOp op, INDArray a, INDArray b, INDArray out, Shape outShape) {
        INDArray mask = nd.allocate(DataType.BOOL, outShape);
        try {
            nd.custom(customName(op)).in(a, b).out(mask).run();
            nd.custom("assign").in(out, mask).out(out).run();
        } finally {
            mask.close();
        }
    }

    private static String customName(BinaryOp op) {
        return switch (op) {
            case ADD -> "add";
            case SUB -> "subtract";
            case MUL -> "multiply";
            case DIV -> "divide";
            case POW -> "Pow";
            case MAXIMUM -> "maximum";
            case MINIMUM -> "minimum";
            case EQ -> "equals";
            case NE -> "not_equals";
            case LT -> "less";
            case LE -> "less_equal";
            case GT -> "greater";
            case GE -> "greater_equal";
        };
    }

    @Override
    public NativeArray binaryScalar(BinaryOp op, NativeArray a, double scalar) {
        requireNonNull(op, "op is null");
        String name = "binaryScalar " + op;
        Dl4jArray x = arg(a, name, "a");
        INDArray in = x.nd(name);
        DType dtype = x.dtype();
        INDArray out = nd.allocate(dtype, x.shape());
        if (x.shape().size() == 0) {
            return wrap(out, dtype, x.shape());
        }
        if (dtype == DType.INT64 && op == BinaryOp.DIV) {
            long divisor = (long) scalar;
            if (divisor == 0) {
                out.close();
                throw new ArithmeticException("dl4j " + name + ": INT64 division by zero (scalar " + scalar + ")");
            }
            if (divisor == -1) {
                // Long.MIN_VALUE / -1 traps in native code; negation gives Java's answer.
                Nd4jCalls.exec(new Negative(in, out));
                return wrap(out, dtype, x.shape());
            }
        }
        switch (op) {
            case POW -> Nd4jCalls.exec(new Pow(in, out, scalar));
            case EQ, NE, LT, LE, GE -> {
                INDArray mask = nd.allocate(DataType.BOOL, x.shape());
                try {
                    nd.scalar(scalarKind(op), in, mask, scalar);
                    nd.custom("assign").in(out, mask).out(out).run();
                } finally {
                    mask.close();
                }
            }
            default -> nd.scalar(scalarKind(op), in, out, scalar);
        }
        return wrap(out, dtype, x.shape());
    }

    private static ScalarKind scalarKind(BinaryOp op) {
        return switch (op) {
            case ADD -> ScalarKind.ADD;
            case SUB -> ScalarKind.SUB;
            case MUL -> ScalarKind.MUL;
            case DIV -> ScalarKind.DIV;
            case MAXIMUM -> ScalarKind.MAX;
            case MINIMUM -> ScalarKind.MIN;
            // Step gives 1 where x > s, else 0, in x's dtype: one op instead of mask + cast.
            case GT -> ScalarKind.STEP;
            case EQ -> ScalarKind.EQ;
            case NE -> ScalarKind.NE;
            case LT -> ScalarKind.LT;
            case LE -> ScalarKind.LE;
            case GE -> ScalarKind.GE;
            case POW -> throw new IllegalArgumentException("POW has no reusable scalar op");
        };
    }

    @Override
    public NativeArray where(NativeArray condition, NativeArray onTrue, NativeArray onFalse) {
        String name = "where";
        Dl4jArray c = arg(condition, name, "condition");
        Dl4jArray t = arg(onTrue, name, "onTrue");
        Dl4jArray f = arg(onFalse, name, "onFalse");
        sameDType(name, t, "onTrue", f, "onFalse");
        Shape outShape;
        try {
            outShape = Shape.broadcast(Shape.broadcast(c.shape(), t.shape()), f.shape());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dl4j where: shapes " + c.shape() + " (condition), " + t.shape()
                    + " (onTrue) and " + f.shape() + " (onFalse) do not broadcast", e);
        }
        DType dtype = t.dtype();
        INDArray out = nd.allocate(dtype, outShape);
        if (outShape.size() == 0) {
            return wrap(out, dtype, outShape);
        }
        List<INDArray> temps = new ArrayList<>(4);
        try {
            // cond != 0 as a boolean (NaN counts as true, like cond != 0), then libnd4j's select,
            // which wants equal shapes.
            INDArray mask = nd.allocate(DataType.BOOL, c.shape());
            temps.add(mask);
            nd.custom("assign").in(mask, c.nd(name)).out(mask).run();
            INDArray m = broadcastTemp(mask, c.shape(), outShape, DataType.BOOL, temps);
            INDArray tv = broadcastTemp(t.nd(name), t.shape(), outShape, Nd4jCalls.nd4jType(dtype), temps);
            INDArray fv = broadcastTemp(f.nd(name), f.shape(), outShape, Nd4jCalls.nd4jType(dtype), temps);
            nd.custom("select").in(m, tv, fv).out(out).run();
        } finally {
            temps.forEach(INDArray::close);
        }
        return wrap(out, dtype, outShape);
    }

    /** {@code a} itself when it already has {@code shape}, else a broadcast copy added to {@code temps}. */
    private INDArray broadcastTemp(INDArray a, Shape from, Shape shape, DataType type, List<INDArray> temps) {
        if (from.equals(shape)) {
            return a;
        }
        INDArray b = nd.allocate(type, shape);
        temps.add(b);
        nd.custom("assign").in(b, a).out(b).run();
        return b;
    }

    @Override
    public NativeArray cast(NativeArray x, DType dtype) {
        requireNonNull(dtype, "dtype is null");
        Dl4jArray a = arg(x, "cast", "x");
        INDArray in = a.nd("cast");
        if (dtype == a.dtype()) {
            return wrap(nd.copy(in, dtype, a.shape()), dtype, a.shape());
        }
        INDArray out = nd.allocate(dtype, a.shape());
        if (a.shape().size() > 0) {
            nd.custom("assign").in(out, in).out(out).run();
        }
        return wrap(out, dtype, a.shape());
    }

    // ---- linear algebra -------------------------------------------------------------------

    @Override
    public NativeArray matmul(NativeArray a, NativeArray b) {
        String name = "matmul";
        Dl4jArray x = arg(a, name, "a");
        Dl4jArray y = arg(b, name, "b");
        sameDType(name, x, "a", y, "b");
        INDArray out = matmulInto(x, y, name);
        return wrap(out, x.dtype(), shapeOf(out));
    }

    /**
     * Transpose flags go to BLAS for FLOAT32 and FLOAT64 ({@link #blasMatmul}, any broadcasting batch dimensions),
     * otherwise to libnd4j's matmul (its integer arguments transX, transY), so no transposed copy is made (ND4J's
     * transpose is a dense copy). INT64 operands with equal batch dimensions only; broadcasting INT64 batch
     * dimensions take the SPI's composition.
     */
    @Override
    public NativeArray matmul(NativeArray a, NativeArray b, boolean transposeA, boolean transposeB) {
        String name = "matmul";
        Dl4jArray x = arg(a, name, "a");
        Dl4jArray y = arg(b, name, "b");
        sameDType(name, x, "a", y, "b");
        Shape sa = x.shape();
        Shape sb = y.shape();
        if ((transposeA || transposeB) && Blas.supports(x.dtype()) && sa.rank() >= 2 && sb.rank() >= 2) {
            return blasMatmul(x, y, transposeA, transposeB, name);
        }
        if (!(transposeA || transposeB) || sa.rank() < 2 || sb.rank() < 2 || sa.rank() != sb.rank()
                || !Arrays.equals(Arrays.copyOf(sa.dims(), sa.rank() - 2), Arrays.copyOf(sb.dims(), sb.rank() - 2))) {
            return Kernels.super.matmul(a, b, transposeA, transposeB);
        }
        int m = transposeA ? sa.dim(-1) : sa.dim(-2);
        int k = transposeA ? sa.dim(-2) : sa.dim(-1);
        int kb = transposeB ? sb.dim(-1) : sb.dim(-2);
        int n = transposeB ? sb.dim(-2) : sb.dim(-1);
        if (k != kb) {
            throw new IllegalArgumentException("dl4j matmul: inner dimensions differ, " + sa + (transposeA ? "^T" : "") + " @ "
                    + sb + (transposeB ? "^T" : ""));
        }
        int[] outDims = sa.dims().clone();
        outDims[outDims.length - 2] = m;
        outDims[outDims.length - 1] = n;
        Shape outShape = Shape.of(outDims);
        DType dtype = x.dtype();
        if (outShape.size() == 0 || k == 0) {
            return wrap(outShape.size() == 0 ? nd.allocate(dtype, outShape) : filled(dtype, outShape, 0.0), dtype, outShape);
        }
        INDArray out = nd.allocate(dtype, outShape);
        if (k == 1) {
            // a [.., 1, m] seen as [.., m, 1] and b [.., n, 1] as [.., 1, n]: the same memory either way round
            int batch = (int) (outShape.size() / ((long) m * n));
            outerInto(x.nd(name), batch, y.nd(name), batch, out, m, n);
        } else {
            nd.custom("matmul").in(x.nd(name), y.nd(name)).out(out).ints(transposeA ? 1 : 0, transposeB ? 1 : 0).run();
        }
        return wrap(out, dtype, outShape);
    }

    /**
     * {@code op(a) @ op(b)} for FLOAT32/FLOAT64 operands of rank >= 2 with NumPy-broadcast batch dimensions, straight
     * from the operands' memory: one GEMM over folded rows when b is a matrix and a is not transposed (the
     * hypernetwork's G @ W^T), else one GEMM per batch entry, a broadcast operand's matrix read in place. Inner
     * dimension 1 with equal batches keeps {@link #outerInto}'s exact products.
     */
    private Dl4jArray blasMatmul(Dl4jArray x, Dl4jArray y, boolean transposeA, boolean transposeB, String name) {
        Shape sa = x.shape();
        Shape sb = y.shape();
        int m = transposeA ? sa.dim(-1) : sa.dim(-2);
        int k = transposeA ? sa.dim(-2) : sa.dim(-1);
        int kb = transposeB ? sb.dim(-1) : sb.dim(-2);
        int n = transposeB ? sb.dim(-2) : sb.dim(-1);
        if (k != kb) {
            throw new IllegalArgumentException("dl4j matmul: inner dimensions differ, " + sa + (transposeA ? "^T" : "") + " @ "
                    + sb + (transposeB ? "^T" : ""));
        }
        Shape batchA = Shape.of(Arrays.copyOf(sa.dims(), sa.rank() - 2));
        Shape batchB = Shape.of(Arrays.copyOf(sb.dims(), sb.rank() - 2));
        Shape batch;
        try {
            batch = Shape.broadcast(batchA, batchB);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dl4j " + name + ": batch dimensions of " + sa + " and " + sb
                    + " do not broadcast", e);
        }
        int[] outDims = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        outDims[batch.rank()] = m;
        outDims[batch.rank() + 1] = n;
        Shape outShape = Shape.of(outDims);
        DType dtype = x.dtype();
        if (outShape.size() == 0 || k == 0) {
            return wrap(outShape.size() == 0 ? nd.allocate(dtype, outShape) : filled(dtype, outShape, 0.0), dtype, outShape);
        }
        INDArray xa = x.nd(name);
        INDArray ya = y.nd(name);
        INDArray out = nd.allocate(dtype, outShape);
        int batchSize = (int) batch.size();
        try {
            if (k == 1 && batchA.equals(batch) && batchB.equals(batch)) {
                outerInto(xa, batchSize, ya, batchSize, out, m, n);
            } else if (!transposeA && sb.rank() == 2 && batchA.equals(batch)) {
                Blas.gemm(dtype, false, transposeB, batchSize * m, n, k, xa, ya, out, oneDnnFrom);
            } else {
                Blas.gemm(dtype, transposeA, transposeB, m, n, k, xa, broadcastOffsets(batchA, batch, (long) m * k),
                        ya, broadcastOffsets(batchB, batch, (long) k * n), out, batchSize, oneDnnFrom);
            }
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return wrap(out, dtype, outShape);
    }

    /**
     * A product whose inner dimension is 1 (an outer product per batch entry): a broadcasting
     * multiply [batchA, m, 1] * [batchB, 1, n] (batchB 1 when b is shared), then + 0.0 in place.
     * Each element is one product, and the GEMM computes it as 0 + a*b (its accumulator starts at
     * zero), which turns -0.0 into +0.0 and changes nothing else; adding 0.0 does the same, so the
     * result is bit for bit the GEMM's. It costs two cheap elementwise calls instead of libnd4j's
     * batched GEMM, whose per-call cost (40-70 us) dominated MAML's [25, 10, 1] @ [25, 1, 40].
     */
    private void outerInto(INDArray a, int batchA, INDArray b, int batchB, INDArray out, int m, int n) {
        if (hostOuter(a, batchA, b, batchB, null, 0, out, m, n)) {
            return;
        }
        INDArray out3 = nd.view(out, Shape.of(batchA, m, n));
        nd.custom("multiply").in(nd.view(a, Shape.of(batchA, m, 1)), nd.view(b, Shape.of(batchB, 1, n))).out(out3).run();
        nd.scalar(ScalarKind.ADD, out3, out3, 0.0);
    }

    /**
     * {@link #outerInto}'s products, and optionally a bias added after them, as one Java pass over the dense
     * arrays' memory for FLOAT32/FLOAT64 outputs up to {@link #HOST_BROADCAST_MAX} elements: each element is
     * {@code (a * b + 0.0) + bias}, the same IEEE operations in the same order as the multiply, the + 0.0 and the
     * bias add that the native route makes, so the bits are the same; three libnd4j calls of 20-60 us each on
     * MAML's [25, 50, 1] x [25, 1, 40] become one pass over 50,000 elements. {@code a} is [batchA, m] (its
     * inner dimension 1 dropped), {@code b} [batchB, n] with batchB 1 (shared) or batchA, {@code bias} null or
     * [biasBatch, n] with biasBatch 1 (shared) or batchA. Without a bias the row stays +0.0, and adding +0.0 to
     * {@code a * b + 0.0} (never -0.0) changes no bit, so one loop serves both. False, having written nothing,
     * for other dtypes or larger outputs.
     */
    private static boolean hostOuter(INDArray a, int batchA, INDArray b, int batchB, INDArray bias, int biasBatch,
                                     INDArray out, int m, int n) {
        long size = (long) batchA * m * n;
        DataType type = out.dataType();
        if (size > HOST_BROADCAST_MAX || (type != DataType.FLOAT && type != DataType.DOUBLE)) {
            return false;
        }
        if (type == DataType.FLOAT) {
            java.nio.FloatBuffer av = Nd4jCalls.bytes(a).asFloatBuffer();
            java.nio.FloatBuffer bv = Nd4jCalls.bytes(b).asFloatBuffer();
            java.nio.FloatBuffer cv = bias == null ? null : Nd4jCalls.bytes(bias).asFloatBuffer();
            java.nio.FloatBuffer ov = Nd4jCalls.bytes(out).asFloatBuffer();
            float[] bRow = new float[n];
            float[] cRow = new float[n];
            float[] row = new float[n];
            for (int e = 0; e < batchA; e++) {
                bv.get(batchB == 1 ? 0 : e * n, bRow, 0, n);
                if (cv != null) {
                    cv.get(biasBatch == 1 ? 0 : e * n, cRow, 0, n);
                }
                for (int i = 0; i < m; i++) {
                    float ai = av.get(e * m + i);
                    for (int j = 0; j < n; j++) {
                        row[j] = (ai * bRow[j] + 0.0f) + cRow[j];
                    }
                    ov.put((e * m + i) * n, row, 0, n);
                }
            }
        } else {
            java.nio.DoubleBuffer av = Nd4jCalls.bytes(a).asDoubleBuffer();
            java.nio.DoubleBuffer bv = Nd4jCalls.bytes(b).asDoubleBuffer();
            java.nio.DoubleBuffer cv = bias == null ? null : Nd4jCalls.bytes(bias).asDoubleBuffer();
            java.nio.DoubleBuffer ov = Nd4jCalls.bytes(out).asDoubleBuffer();
            double[] bRow = new double[n];
            double[] cRow = new double[n];
            double[] row = new double[n];
            for (int e = 0; e < batchA; e++) {
                bv.get(batchB == 1 ? 0 : e * n, bRow, 0, n);
                if (cv != null) {
                    cv.get(biasBatch == 1 ? 0 : e * n, cRow, 0, n);
                }
                for (int i = 0; i < m; i++) {
                    double ai = av.get(e * m + i);
                    for (int j = 0; j < n; j++) {
                        row[j] = (ai * bRow[j] + 0.0) + cRow[j];
                    }
                    ov.put((e * m + i) * n, row, 0, n);
                }
            }
        }
        return true;
    }

    /** NumPy matmul of two rank >= 2 arrays into a fresh array (see {@link Kernels#matmul}). */
    private INDArray matmulInto(Dl4jArray x, Dl4jArray y, String name) {
        Shape sa = x.shape();
        Shape sb = y.shape();
        if (sa.rank() < 2 || sb.rank() < 2) {
            throw new IllegalArgumentException("dl4j " + name + " needs operands of rank >= 2 (rank-1 vectors are not"
                    + " accepted: reshape them to [1, n] or [n, 1]), got " + sa + " and " + sb);
        }
        int m = sa.dim(-2);
        int k = sa.dim(-1);
        int n = sb.dim(-1);
        if (sb.dim(-2) != k) {
            throw new IllegalArgumentException("dl4j " + name + ": inner dimensions differ, " + sa + " @ " + sb);
        }
        Shape batchA = Shape.of(Arrays.copyOf(sa.dims(), sa.rank() - 2));
        Shape batchB = Shape.of(Arrays.copyOf(sb.dims(), sb.rank() - 2));
        Shape batch;
        try {
            batch = Shape.broadcast(batchA, batchB);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dl4j " + name + ": batch dimensions of " + sa + " and " + sb
                    + " do not broadcast", e);
        }
        int[] outDims = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        outDims[batch.rank()] = m;
        outDims[batch.rank() + 1] = n;
        Shape outShape = Shape.of(outDims);
        DType dtype = x.dtype();
        if (outShape.size() == 0) {
            return nd.allocate(dtype, outShape);
        }
        if (k == 0) {
            return filled(dtype, outShape, 0.0);
        }
        INDArray xa = x.nd(name);
        INDArray ya = y.nd(name);
        INDArray out = nd.allocate(dtype, outShape);
        int batchSize = (int) batch.size();
        if (k == 1 && batchA.equals(batch) && (batchB.equals(batch) || sb.rank() == 2)) {
            outerInto(xa, batchSize, ya, sb.rank() == 2 ? 1 : batchSize, out, m, n);
        } else if (Blas.supports(dtype)) {
            if (sb.rank() == 2 && batchA.equals(batch)) {
                // [..., m, k] @ [k, n] (or plain matrices): one GEMM over the folded rows
                Blas.gemm(dtype, false, false, batchSize * m, n, k, xa, ya, out, oneDnnFrom);
            } else {
                // one GEMM per batch entry, a broadcast operand's matrix reused in place (no copy)
                Blas.gemm(dtype, false, false, m, n, k, xa, broadcastOffsets(batchA, batch, (long) m * k),
                        ya, broadcastOffsets(batchB, batch, (long) k * n), out, batchSize, oneDnnFrom);
            }
        } else if (batch.rank() == 0) {
            nd.custom("matmul").in(xa, ya).out(out).run();
        } else if (sb.rank() == 2 && batchA.equals(batch)) {
            // [..., m, k] @ [k, n]: one GEMM over the folded rows (views of dense arrays).
            nd.custom("matmul").in(nd.view(xa, Shape.of(batchSize * m, k))).in(ya)
                    .out(nd.view(out, Shape.of(batchSize * m, n))).run();
        } else {
            // Batched: libnd4j wants equal batch dimensions, so broadcast what differs, then
            // multiply as rank 3.
            List<INDArray> temps = new ArrayList<>(2);
            try {
                INDArray a3 = batchOperand(xa, batchA, batch, m, k, dtype, temps);
                INDArray b3 = batchOperand(ya, batchB, batch, k, n, dtype, temps);
                nd.custom("matmul").in(a3, b3).out(nd.view(out, Shape.of(batchSize, m, n))).run();
            } finally {
                temps.forEach(INDArray::close);
            }
        }
        return out;
    }

    /**
     * For each entry of the batch shape {@code batch} (row-major order), where the matrix it reads
     * starts in a dense operand of batch shape {@code from} (broadcastable to {@code batch}: a
     * size-1 or missing axis repeats the same matrices), in elements.
     */
    static long[] broadcastOffsets(Shape from, Shape batch, long matrixSize) {
        int rank = batch.rank();
        int pad = rank - from.rank();
        long[] stride = new long[rank]; // of `from`, in matrices; 0 on broadcast axes
        long s = 1;
        for (int i = rank - 1; i >= pad; i--) {
            int d = from.dim(i - pad);
            stride[i] = d == 1 ? 0 : s;
            s *= d;
        }
        int count = (int) batch.size();
        long[] offsets = new long[count];
        int[] index = new int[rank];
        long at = 0;
        for (int i = 0; i < count; i++) {
            offsets[i] = at * matrixSize;
            for (int ax = rank - 1; ax >= 0; ax--) { // next index, odometer style
                if (++index[ax] < batch.dim(ax)) {
                    at += stride[ax];
                    break;
                }
                at -= stride[ax] * (index[ax] - 1);
                index[ax] = 0;
            }
        }
        return offsets;
    }

    /** {@code a} (batch dims {@code from}) as a [batch.size, r, c] view, broadcasting into a temp if needed. */
    private INDArray batchOperand(INDArray a, Shape from, Shape batch, int r, int c, DType dtype, List<INDArray> temps) {
        long n = batch.size();
        if (from.equals(batch)) {
            return nd.view(a, Shape.of((int) n, r, c));
        }
        int[] full = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        full[batch.rank()] = r;
        full[batch.rank() + 1] = c;
        INDArray b = nd.allocate(dtype, Shape.of(full));
        temps.add(b);
        nd.custom("assign").in(b, a).out(b).run();
        return nd.view(b, Shape.of((int) n, r, c));
    }

    // ---- reductions -----------------------------------------------------------------------

    @Override
    public NativeArray reduce(ReduceOp op, NativeArray x, int[] axes, boolean keepDims) {
        requireNonNull(op, "op is null");
        requireNonNull(axes, "axes is null");
        String name = "reduce " + op;
        Dl4jArray a = arg(x, name, "x");
        DType dtype = a.dtype();
        if (op == ReduceOp.MEAN && dtype == DType.INT64) {
            throw new IllegalArgumentException("dl4j reduce MEAN needs a floating dtype (FLOAT32 or FLOAT64), got INT64;"
                    + " cast the array first");
        }
        Shape shape = a.shape();
        boolean[] reduced = reducedAxes(name, shape, axes);
        Shape outShape = reducedShape(shape, reduced, keepDims);
        INDArray in = a.nd(name);
        boolean overEmptyAxis = false;
        for (int i = 0; i < shape.rank(); i++) {
            overEmptyAxis |= reduced[i] && shape.dim(i) == 0;
        }
        if (overEmptyAxis) {
            return switch (op) {
                case SUM -> wrap(filled(dtype, outShape, 0.0), dtype, outShape);
                case MEAN -> wrap(filled(dtype, outShape, Double.NaN), dtype, outShape);
                case MAX, MIN -> throw new IllegalArgumentException("dl4j " + name + ": reducing " + shape + " over axes "
                        + Arrays.toString(axes) + " reduces an empty axis, which has no " + op);
            };
        }
        if (outShape.size() == 0) {
            return wrap(nd.allocate(dtype, outShape), dtype, outShape);
        }
        int[] dims = axesOf(reduced);
        if (dims.length == 0) {
            // rank 0: the reduction of a scalar is the scalar
            return wrap(nd.copy(in, dtype, shape), dtype, shape);
        }
        INDArray out = nd.allocate(dtype, outShape);
        int[] split = op == ReduceOp.SUM && Blas.supports(dtype) ? runSplit(shape, reduced) : null;
        if (split != null && (split[2] > 1 || split[1] <= HOST_SUM_MAX)) {
            // one run of summed axes: BLAS GEMVs with a ones vector, as biasGradient (MAML's sums over its tasks,
            // [25, 40, 40] over axis 0, walk the array with a stride in libnd4j)
            try {
                Blas.middleSums(dtype, in, split[0], split[1], split[2], nd.ones(dtype, split[1]), out);
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return wrap(out, dtype, outShape);
        }
        nd.custom(reduceName(op)).in(in).out(out).ints(dims).bools(keepDims).run();
        return wrap(out, dtype, outShape);
    }

    private static String reduceName(ReduceOp op) {
        return switch (op) {
            case SUM -> "reduce_sum";
            case MEAN -> "reduce_mean";
            case MAX -> "reduce_max";
            case MIN -> "reduce_min";
        };
    }

    @Override
    public NativeArray softmax(NativeArray x, int axis) {
        String name = "softmax";
        Dl4jArray a = arg(x, name, "x");
        floating(name, a.dtype());
        int ax = axis(name, a.shape(), axis);
        INDArray out = nd.allocate(a.dtype(), a.shape());
        if (a.shape().size() == 0) {
            return wrap(out, a.dtype(), a.shape());
        }
        if (a.dtype() != DType.FLOAT64) {
            // libnd4j's float32 softmax subtracts the maximum along the axis first.
            nd.custom("softmax").in(a.nd(name)).out(out).ints(ax).run();
            return wrap(out, a.dtype(), a.shape());
        }
        // Its float64 softmax along the last axis of several rows does not: rows below about -745, whose exps all
        // underflow, came out NaN (TCK KERNEL-SOFTMAX-4). So the rows are shifted by their finite maximum first.
        Shape keptShape = a.shape().with(ax, 1);
        INDArray max = nd.allocate(a.dtype(), keptShape);
        INDArray shifted = null;
        try {
            nd.custom("reduce_max").in(a.nd(name)).out(max).ints(ax).bools(true).run();
            zeroNonFinite(max, a.dtype(), (int) keptShape.size());
            shifted = nd.allocate(a.dtype(), a.shape());
            nd.custom("subtract").in(a.nd(name), max).out(shifted).run();
            nd.custom("softmax").in(shifted).out(out).ints(ax).run();
        } catch (RuntimeException e) {
            out.close();
            throw e;
        } finally {
            max.close();
            if (shifted != null) {
                shifted.close();
            }
        }
        return wrap(out, a.dtype(), a.shape());
    }

    /**
     * The logits' VJP of {@link #softmaxCrossEntropy} in one Java pass on the same inputs the forward
     * pass takes ({@link HostCrossEntropy#backwardFloat32}); the composed default (reshape, softmax,
     * subtract, multiply) otherwise.
     */
    @Override
    public NativeArray softmaxCrossEntropyBackward(NativeArray grad, NativeArray logits, NativeArray target, int axis) {
        String name = "softmaxCrossEntropyBackward";
        Dl4jArray g = arg(grad, name, "grad");
        Dl4jArray x = arg(logits, name, "logits");
        Dl4jArray t = arg(target, name, "target");
        Shape shape = x.shape();
        DType dtype = x.dtype();
        if (dtype != t.dtype() || dtype != g.dtype() || !shape.equals(t.shape()) || shape.rank() == 0 || shape.size() == 0
                || !HostCrossEntropy.applies(dtype, shape.size())) {
            return Kernels.super.softmaxCrossEntropyBackward(grad, logits, target, axis);
        }
        int ax = axis(name, shape, axis);
        if (!g.shape().equals(shape.without(ax))) {
            return Kernels.super.softmaxCrossEntropyBackward(grad, logits, target, axis);
        }
        HostCrossEntropy.Layout rows = HostCrossEntropy.Layout.of(shape, ax);
        INDArray out = nd.allocate(dtype, shape);
        try {
            if (dtype == DType.FLOAT32) {
                HostCrossEntropy.backwardFloat32(Nd4jCalls.floats(g.nd(name)), Nd4jCalls.floats(x.nd(name)),
                        Nd4jCalls.floats(t.nd(name)), Nd4jCalls.floats(out), rows);
            } else {
                HostCrossEntropy.backwardFloat64(Nd4jCalls.bytes(g.nd(name)).asDoubleBuffer(),
                        Nd4jCalls.bytes(x.nd(name)).asDoubleBuffer(), Nd4jCalls.bytes(t.nd(name)).asDoubleBuffer(),
                        Nd4jCalls.bytes(out).asDoubleBuffer(), rows);
            }
            return wrap(out, dtype, shape);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * Small float logits and targets of one shape take one Java pass over the arrays' memory
     * ({@link HostCrossEntropy}): the composed default is about a dozen libnd4j calls, 215 us on the
     * MLP benchmark's [128, 10]. A broadcast target or a large input takes the composed default.
     */
    @Override
    public NativeArray softmaxCrossEntropy(NativeArray logits, NativeArray target, int axis) {
        String name = "softmaxCrossEntropy";
        Dl4jArray x = arg(logits, name, "logits");
        Dl4jArray t = arg(target, name, "target");
        Shape shape = x.shape();
        DType dtype = x.dtype();
        if (dtype != t.dtype() || !shape.equals(t.shape()) || !HostCrossEntropy.applies(dtype, shape.size())
                || shape.rank() == 0 || shape.size() == 0) {
            return Kernels.super.softmaxCrossEntropy(logits, target, axis);
        }
        int ax = axis(name, shape, axis);
        Shape outShape = shape.without(ax);
        HostCrossEntropy.Layout rows = HostCrossEntropy.Layout.of(shape, ax);
        INDArray out = nd.allocate(dtype, outShape);
        try {
            if (dtype == DType.FLOAT32) {
                HostCrossEntropy.float32(Nd4jCalls.floats(x.nd(name)), Nd4jCalls.floats(t.nd(name)), Nd4jCalls.floats(out), rows);
            } else {
                HostCrossEntropy.float64(Nd4jCalls.bytes(x.nd(name)).asDoubleBuffer(), Nd4jCalls.bytes(t.nd(name)).asDoubleBuffer(),
                        Nd4jCalls.bytes(out).asDoubleBuffer(), rows);
            }
            return wrap(out, dtype, outShape);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * {@code m + log(sum(exp(x - m)))} with m the maximum along the axis, where m is replaced by
     * 0 where it is not finite (as SciPy does), so all -inf gives -inf and +inf gives +inf.
     * libnd4j's {@code reduce_logsumexp} is not used: it returns NaN for [-inf, 0] and [inf, 1].
     */
    @Override
    public NativeArray logSumExp(NativeArray x, int axis, boolean keepDims) {
        String name = "logSumExp";
        Dl4jArray a = arg(x, name, "x");
        DType dtype = a.dtype();
        floating(name, dtype);
        Shape shape = a.shape();
        int ax = axis(name, shape, axis);
        Shape keptShape = shape.with(ax, 1);
        Shape outShape = keepDims ? keptShape : shape.without(ax);
        if (shape.dim(ax) == 0) {
            return wrap(filled(dtype, outShape, Double.NEGATIVE_INFINITY), dtype, outShape);
        }
        if (outShape.size() == 0) {
            return wrap(nd.allocate(dtype, outShape), dtype, outShape);
        }
        INDArray in = a.nd(name);
        INDArray max = nd.allocate(dtype, keptShape);
        INDArray shifted = null;
        INDArray sum = nd.allocate(dtype, keptShape);
        try {
            nd.custom("reduce_max").in(in).out(max).ints(ax).bools(true).run();
            zeroNonFinite(max, dtype, (int) keptShape.size());
            shifted = nd.allocate(dtype, shape);
            nd.custom("subtract").in(in, max).out(shifted).run();
            Nd4jCalls.exec(new Exp(shifted, shifted));
            nd.custom("reduce_sum").in(shifted).out(sum).ints(ax).bools(true).run();
            Nd4jCalls.exec(new Log(sum, sum));
            Nd4jCalls.exec(new Axpy(max, sum, sum, 1.0));
        } catch (RuntimeException e) {
            sum.close();
            throw e;
        } finally {
            max.close();
            if (shifted != null) {
                shifted.close();
            }
        }
        return wrap(keepDims ? sum : nd.adopt(sum, outShape), dtype, outShape);
    }

    /** Replaces non-finite entries of a small temporary with 0, in Java (cheaper than an ND4J call). */
    private static void zeroNonFinite(INDArray a, DType dtype, int n) {
        double[] v = Nd4jCalls.readDoubles(a, dtype, n);
        boolean changed = false;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(v[i])) {
                v[i] = 0;
                changed = true;
            }
        }
        if (changed) {
            Nd4jCalls.write(a, dtype, v);
        }
    }

    /** Selected in Java by {@link TopKSelector} (see there why not libnd4j's top_k). */
    @Override
    public TopK topK(NativeArray x, int k, int axis) {
        String name = "topK";
        Dl4jArray a = arg(x, name, "x");
        Shape shape = a.shape();
        int ax = axis(name, shape, axis);
        int n = shape.dim(ax);
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("dl4j topK: k must be in [0, " + n + "] for axis " + axis + " of shape "
                    + shape + ", got " + k);
        }
        Ordered top = ordered(name, a, ax, k, true, true, true);
        return new TopK(top.values(), top.indices());
    }

    /** The first k entries of every line along an axis, in order, and/or their positions; either may be null. */
    private record Ordered(Dl4jArray values, Dl4jArray indices) {
    }

    /**
     * Orders every line along {@code ax} in Java ({@link TopKSelector}: stable, NaN as the largest)
     * and keeps the first {@code k}: the values and/or their INT64 positions.
     */
    private Ordered ordered(String name, Dl4jArray a, int ax, int k, boolean descending, boolean wantValues,
                            boolean wantIndices) {
        Shape shape = a.shape();
        int n = shape.dim(ax);
        DType dtype = a.dtype();
        Shape outShape = shape.with(ax, k);
        int outer = 1;
        for (int i = 0; i < ax; i++) {
            outer *= shape.dim(i);
        }
        int inner = 1;
        for (int i = ax + 1; i < shape.rank(); i++) {
            inner *= shape.dim(i);
        }
        int total = shape.sizeAsInt();
        int outSize = outShape.sizeAsInt();
        INDArray values = wantValues ? nd.allocate(dtype, outShape) : null;
        INDArray idx = wantIndices ? nd.allocate(DType.INT64, outShape) : null;
        if (outSize > 0) {
            INDArray in = a.nd(name);
            double[] dv = dtype == DType.INT64 ? null : Nd4jCalls.readDoubles(in, dtype, total);
            long[] lv = dtype == DType.INT64 ? Nd4jCalls.readLongs(in, dtype, total) : null;
            int[] pos = dv != null ? TopKSelector.select(dv, outer, n, inner, k, descending)
                    : TopKSelector.select(lv, outer, n, inner, k, descending);
            long[] indices = new long[outSize];
            int[] src = new int[outSize];
            for (int o = 0; o < outer; o++) {
                for (int r = 0; r < k; r++) {
                    for (int j = 0; j < inner; j++) {
                        int at = (o * k + r) * inner + j;
                        indices[at] = pos[at];
                        src[at] = (o * n + pos[at]) * inner + j;
                    }
                }
            }
            if (values != null && lv != null) {
                long[] picked = new long[outSize];
                for (int i = 0; i < outSize; i++) {
                    picked[i] = lv[src[i]];
                }
                Nd4jCalls.write(values, picked);
            } else if (values != null) {
                double[] picked = new double[outSize];
                for (int i = 0; i < outSize; i++) {
                    picked[i] = dv[src[i]];
                }
                Nd4jCalls.write(values, dtype, picked);
            }
            if (idx != null) {
                Nd4jCalls.write(idx, indices);
            }
        }
        return new Ordered(values == null ? null : wrap(values, dtype, outShape),
                idx == null ? null : wrap(idx, DType.INT64, outShape));
    }

    // ---- index and ordering kernels -------------------------------------------------------

    /**
     * libnd4j's {@code cumsum} for floating arrays; INT64, which libnd4j's cumsum refuses in
     * 1.0.0-M2.1, is summed in Java (exact, like the native sum would be).
     */
    @Override
    public NativeArray cumsum(NativeArray x, int axis) {
        String name = "cumsum";
        Dl4jArray a = arg(x, name, "x");
        Shape shape = a.shape();
        int ax = KernelChecks.axis("dl4j " + name, shape, axis);
        DType dtype = a.dtype();
        INDArray in = a.nd(name);
        if (shape.size() == 0) {
            return wrap(nd.copy(in, dtype, shape), dtype, shape);
        }
        INDArray out = nd.allocate(dtype, shape);
        if (dtype == DType.INT64) {
            long[] v = Nd4jCalls.readLongs(in, dtype, shape.sizeAsInt());
            int n = shape.dim(ax);
            int inner = product(shape, ax + 1, shape.rank());
            int outer = product(shape, 0, ax);
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    int base = o * n * inner + i;
                    for (int j = 1; j < n; j++) {
                        v[base + j * inner] += v[base + (j - 1) * inner];
                    }
                }
            }
            Nd4jCalls.write(out, v);
            return wrap(out, dtype, shape);
        }
        // iArgs: exclusive (0), reverse (0), axis
        nd.custom("cumsum").in(in).out(out).ints(0, 0, ax).run();
        return wrap(out, dtype, shape);
    }

    /**
     * libnd4j's {@code argmax} (the first maximal index). It skips NaN, which the SPI ranks above
     * every number, so a floating array whose sum is NaN (it may hold a NaN) takes the SPI's
     * composition instead: topK of 1, selected in Java.
     */
    @Override
    public NativeArray argmax(NativeArray x, int axis, boolean keepDims) {
        String name = "argmax";
        Dl4jArray a = arg(x, name, "x");
        Shape shape = a.shape();
        int ax = KernelChecks.axis("dl4j " + name, shape, axis);
        if (shape.dim(ax) == 0) {
            throw new IllegalArgumentException("dl4j argmax: axis " + axis + " of shape " + shape + " is empty");
        }
        Shape outShape = keepDims ? shape.with(ax, 1) : shape.without(ax);
        if (shape.size() == 0) {
            return wrap(nd.allocate(DType.INT64, outShape), DType.INT64, outShape);
        }
        INDArray in = a.nd(name);
        if (a.dtype().isFloating() && mayHoldNaN(in, a.dtype(), shape)) {
            return Kernels.super.argmax(x, ax, keepDims);
        }
        Shape reduced = shape.without(ax);
        INDArray out = nd.allocate(DType.INT64, reduced);
        nd.custom("argmax").in(in).out(out).ints(ax).run();
        return wrap(reduced.equals(outShape) ? out : nd.adopt(out, outShape), DType.INT64, outShape);
    }

    /** True when the sum of every element is NaN: some element is NaN (or +inf and -inf meet). */
    private boolean mayHoldNaN(INDArray in, DType dtype, Shape shape) {
        if (shape.rank() == 0) {
            return Double.isNaN(Nd4jCalls.readDoubles(in, dtype, 1)[0]);
        }
        int[] all = new int[shape.rank()];
        Arrays.setAll(all, i -> i);
        try (INDArray sum = nd.allocate(dtype, Shape.scalar())) {
            nd.custom("reduce_sum").in(in).out(sum).ints(all).bools(false).run();
            return Double.isNaN(Nd4jCalls.readDoubles(sum, dtype, 1)[0]);
        }
    }

    /**
     * A stable sort in Java ({@link TopKSelector} over the whole line), as topK: libnd4j's sorts
     * promise no order among equal values and no place for NaN.
     */
    @Override
    public NativeArray argsort(NativeArray x, int axis, boolean descending) {
        String name = "argsort";
        Dl4jArray a = arg(x, name, "x");
        int ax = KernelChecks.axis("dl4j " + name, a.shape(), axis);
        return ordered(name, a, ax, a.shape().dim(ax), descending, false, true).indices();
    }

    @Override
    public NativeArray sort(NativeArray x, int axis, boolean descending) {
        String name = "sort";
        Dl4jArray a = arg(x, name, "x");
        int ax = KernelChecks.axis("dl4j " + name, a.shape(), axis);
        return ordered(name, a, ax, a.shape().dim(ax), descending, true, false).values();
    }

    /** libnd4j's {@code unsorted_segment_sum} (empty segments are 0); ids are range-checked in Java first. */
    @Override
    public NativeArray segmentSum(NativeArray data, NativeArray segmentIds, int numSegments) {
        String name = "segmentSum";
        Dl4jArray d = arg(data, name, "data");
        Dl4jArray ids = arg(segmentIds, name, "segmentIds");
        Shape shape = KernelChecks.segments("dl4j " + name, d.shape(), ids, numSegments);
        segmentCounts(name, ids, shape, numSegments);
        DType dtype = d.dtype();
        Shape outShape = shape.with(0, numSegments);
        if (outShape.size() == 0) {
            return wrap(nd.allocate(dtype, outShape), dtype, outShape);
        }
        if (shape.size() == 0) {
            return wrap(filled(dtype, outShape, 0.0), dtype, outShape);
        }
        INDArray out = nd.allocate(dtype, outShape);
        nd.custom("unsorted_segment_sum").in(d.nd(name), ids.nd(name)).out(out).ints(numSegments).run();
        return wrap(out, dtype, outShape);
    }

    /**
     * libnd4j's {@code unsorted_segment_max} where it agrees with the SPI: it fills an empty
     * segment with the dtype's lowest value (the SPI wants 0) and skips NaN (the SPI propagates it).
     * So when a segment is empty or the data may hold NaN, the maxima are taken in Java instead.
     */
    @Override
    public NativeArray segmentMax(NativeArray data, NativeArray segmentIds, int numSegments) {
        String name = "segmentMax";
        Dl4jArray d = arg(data, name, "data");
        Dl4jArray ids = arg(segmentIds, name, "segmentIds");
        Shape shape = KernelChecks.segments("dl4j " + name, d.shape(), ids, numSegments);
        int[] counts = segmentCounts(name, ids, shape, numSegments);
        DType dtype = d.dtype();
        Shape outShape = shape.with(0, numSegments);
        if (outShape.size() == 0) {
            return wrap(nd.allocate(dtype, outShape), dtype, outShape);
        }
        if (shape.size() == 0) {
            return wrap(filled(dtype, outShape, 0.0), dtype, outShape);
        }
        INDArray in = d.nd(name);
        boolean emptySegment = Arrays.stream(counts).anyMatch(c -> c == 0);
        INDArray out = nd.allocate(dtype, outShape);
        if (!emptySegment && !(dtype.isFloating() && mayHoldNaN(in, dtype, shape))) {
            nd.custom("unsorted_segment_max").in(in, ids.nd(name)).out(out).ints(numSegments).run();
            return wrap(out, dtype, outShape);
        }
        long[] id = Nd4jCalls.readLongs(ids.nd(name), DType.INT64, shape.dim(0));
        int row = (int) (shape.size() / shape.dim(0));
        boolean[] seen = new boolean[numSegments];
        if (dtype == DType.INT64) {
            long[] v = Nd4jCalls.readLongs(in, dtype, shape.sizeAsInt());
            long[] max = new long[outShape.sizeAsInt()];
            for (int i = 0; i < id.length; i++) {
                int s = (int) id[i];
                for (int j = 0; j < row; j++) {
                    long e = v[i * row + j];
                    if (!seen[s] || e > max[s * row + j]) {
                        max[s * row + j] = e;
                    }
                }
                seen[s] = true;
            }
            Nd4jCalls.write(out, max);
        } else {
            double[] v = Nd4jCalls.readDoubles(in, dtype, shape.sizeAsInt());
            double[] max = new double[outShape.sizeAsInt()];
            for (int i = 0; i < id.length; i++) {
                int s = (int) id[i];
                for (int j = 0; j < row; j++) {
                    double e = v[i * row + j];
                    if (!seen[s] || e > max[s * row + j] || e != e) {
                        max[s * row + j] = e; // once NaN, stays NaN: nothing compares greater
                    }
                }
                seen[s] = true;
            }
            Nd4jCalls.write(out, dtype, max);
        }
        return wrap(out, dtype, outShape);
    }

    /** Reads the ids (libnd4j does not check them), refuses any outside [0, numSegments) and counts rows per segment. */
    private static int[] segmentCounts(String name, Dl4jArray ids, Shape data, int numSegments) {
        long[] id = Nd4jCalls.readLongs(ids.nd(name), DType.INT64, data.dim(0));
        KernelChecks.indices("dl4j " + name, id, numSegments, data.with(0, numSegments), 0);
        int[] counts = new int[numSegments];
        for (long s : id) {
            counts[(int) s]++;
        }
        return counts;
    }

    // ---- shape and indexing ---------------------------------------------------------------

    @Override
    public NativeArray reshape(NativeArray x, Shape shape) {
        requireNonNull(shape, "shape is null");
        Dl4jArray a = arg(x, "reshape", "x");
        if (a.shape().size() != shape.size()) {
            throw new IllegalArgumentException("dl4j reshape: cannot reshape " + a.shape() + " (" + a.shape().size()
                    + " elements) to " + shape + " (" + shape.size() + " elements)");
        }
        return wrap(nd.copy(a.nd("reshape"), a.dtype(), shape), a.dtype(), shape);
    }

    @Override
    public NativeArray transpose(NativeArray x, int[] permutation) {
        requireNonNull(permutation, "permutation is null");
        Dl4jArray a = arg(x, "transpose", "x");
        Shape shape = a.shape();
        int[] perm = permutation(shape, permutation);
        int[] outDims = new int[perm.length];
        boolean identity = true;
        for (int i = 0; i < perm.length; i++) {
            outDims[i] = shape.dim(perm[i]);
            identity &= perm[i] == i;
        }
        Shape outShape = Shape.of(outDims);
        INDArray in = a.nd("transpose");
        if (identity) {
            return wrap(nd.copy(in, a.dtype(), shape), a.dtype(), shape);
        }
        INDArray out = nd.allocate(a.dtype(), outShape);
        if (outShape.size() > 0) {
            nd.custom("permute").in(in).out(out).ints(perm).run();
        }
        return wrap(out, a.dtype(), outShape);
    }

    @Override
    public NativeArray broadcastTo(NativeArray x, Shape shape) {
        requireNonNull(shape, "shape is null");
        Dl4jArray a = arg(x, "broadcastTo", "x");
        Shape from = a.shape();
        boolean ok = from.rank() <= shape.rank();
        for (int i = 1; ok && i <= from.rank(); i++) {
            int d = from.dim(-i);
            ok = d == 1 || d == shape.dim(-i);
        }
        if (!ok) {
            throw new IllegalArgumentException("dl4j broadcastTo: cannot broadcast " + from + " to " + shape);
        }
        INDArray in = a.nd("broadcastTo");
        if (from.equals(shape)) {
            return wrap(nd.copy(in, a.dtype(), shape), a.dtype(), shape);
        }
        INDArray out = nd.allocate(a.dtype(), shape);
        if (shape.size() > 0) {
            Shape[] fewest = collapsedBroadcast(from, shape);
            if (shape.size() <= HOST_BROADCAST_MAX) {
                hostBroadcast(in, fewest[0], out, fewest[1], a.dtype().byteSize());
            } else {
                INDArray to = nd.view(out, fewest[1]);
                nd.custom("assign").in(to, nd.view(in, fewest[0])).out(to).run();
            }
        }
        return wrap(out, a.dtype(), shape);
    }

    /**
     * The broadcast copy of {@code in} (collapsed shape {@code from}) into {@code out} (collapsed shape {@code to},
     * same rank) in Java: array copies for the copied innermost runs, fills for the broadcast ones. MAML's
     * [25, 1, 40] -> [25, 10, 40] and friends cost libnd4j's broadcasting assign 6-18 us a call. Works on the
     * elements' bytes ({@code width} per element), so on every dtype.
     */
    private static void hostBroadcast(INDArray in, Shape from, INDArray out, Shape to, int width) {
        byte[] src = new byte[Math.toIntExact(from.size() * width)];
        byte[] dst = new byte[Math.toIntExact(to.size() * width)];
        Nd4jCalls.bytes(in).get(0, src);
        broadcastBytes(src, 0, from, dst, 0, to, 0, width);
        Nd4jCalls.bytes(out).put(0, dst);
    }

    private static void broadcastBytes(byte[] src, int s, Shape from, byte[] dst, int d, Shape to, int axis, int width) {
        int n = to.dim(axis);
        boolean repeat = from.dim(axis) == 1 && n != 1;
        if (axis == to.rank() - 1) {
            if (repeat) {
                // one element, then the filled part copied onto the rest, doubling each time
                System.arraycopy(src, s, dst, d, width);
                int total = n * width;
                for (int filled = width; filled < total; filled *= 2) {
                    System.arraycopy(dst, d, dst, d + filled, Math.min(filled, total - filled));
                }
            } else {
                System.arraycopy(src, s, dst, d, n * width);
            }
            return;
        }
        int dstStride = product(to, axis + 1, to.rank()) * width;
        int srcStride = repeat ? 0 : product(from, axis + 1, from.rank()) * width;
        for (int i = 0; i < n; i++) {
            broadcastBytes(src, s + i * srcStride, from, dst, d + i * dstStride, to, axis + 1, width);
        }
    }

    /**
     * The same broadcast copy with the fewest axes: {@code from} (padded with leading 1s) and
     * {@code to} without the axes where both are 1, and with runs of adjacent axes that are all
     * copied (equal sizes) or all broadcast (from 1) merged into one. libnd4j's broadcasting assign
     * pays per axis: average pooling's backward [32, 32, 1, 1, 1, 1] to [32, 32, 1, 14, 1, 14] took
     * 1.5 ms, the same copy as [1024, 1] to [1024, 196] about 20 times less.
     *
     * @return {collapsed from, collapsed to}, both of the same rank (at least 1)
     */
    static Shape[] collapsedBroadcast(Shape from, Shape to) {
        int rank = to.rank();
        int pad = rank - from.rank();
        int[] f = new int[rank];
        int[] t = new int[rank];
        int n = 0;
        boolean lastBroadcast = false;
        for (int i = 0; i < rank; i++) {
            int td = to.dim(i);
            int fd = i < pad ? 1 : from.dim(i - pad);
            if (td == 1) {
                continue;
            }
            boolean broadcast = fd == 1;
            if (n > 0 && broadcast == lastBroadcast) {
                f[n - 1] *= fd;
                t[n - 1] *= td;
            } else {
                f[n] = fd;
                t[n] = td;
                n++;
                lastBroadcast = broadcast;
            }
        }
        if (n == 0) {
            return new Shape[] {Shape.of(1), Shape.of(1)};
        }
        return new Shape[] {Shape.of(Arrays.copyOf(f, n)), Shape.of(Arrays.copyOf(t, n))};
    }

    @Override
    public NativeArray slice(NativeArray x, int[] begin, int[] end) {
        requireNonNull(begin, "begin is null");
        requireNonNull(end, "end is null");
        Dl4jArray a = arg(x, "slice", "x");
        Shape shape = a.shape();
        int rank = shape.rank();
        KernelChecks.sliceBounds("dl4j slice", shape, begin, end);
        int[] outDims = new int[rank];
        boolean whole = true;
        for (int i = 0; i < rank; i++) {
            outDims[i] = end[i] - begin[i];
            whole &= outDims[i] == shape.dim(i);
        }
        Shape outShape = Shape.of(outDims);
        INDArray in = a.nd("slice");
        if (whole) {
            return wrap(nd.copy(in, a.dtype(), shape), a.dtype(), shape);
        }
        INDArray out = nd.allocate(a.dtype(), outShape);
        if (outShape.size() > 0) {
            long start = contiguousStart(shape, begin, outDims);
            if (start >= 0) {
                // one run of memory (rows of a matrix, a range of a vector): one copy instead of libnd4j's slice op
                Nd4jCalls.copyElements(in, start, out, 0, outShape.size(), a.dtype().byteSize());
            } else {
                int[] args = Arrays.copyOf(begin, 2 * rank);
                System.arraycopy(outDims, 0, args, rank, rank);
                nd.custom("slice").in(in).out(out).ints(args).run();
            }
        }
        return wrap(out, a.dtype(), outShape);
    }

    /**
     * Where the slice {@code begin} of extent {@code outDims} of a dense row-major array of {@code shape} starts, in
     * elements, when it is one run of memory (every axis after some axis whole, every axis before it of extent
     * 1); -1 otherwise.
     */
    static long contiguousStart(Shape shape, int[] begin, int[] outDims) {
        int rank = shape.rank();
        int last = -1; // the last axis not taken whole
        for (int i = 0; i < rank; i++) {
            if (outDims[i] != shape.dim(i)) {
                last = i;
            }
        }
        long start = 0;
        long stride = 1;
        for (int i = rank - 1; i >= 0; i--) {
            if (i < last && outDims[i] != 1) {
                return -1;
            }
            start += begin[i] * stride;
            stride *= shape.dim(i);
        }
        return start;
    }

    @Override
    public NativeArray concat(List<NativeArray> parts, int axis) {
        requireNonNull(parts, "parts is null");
        String name = "concat";
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("dl4j concat: needs at least one array");
        }
        List<Dl4jArray> arrays = new ArrayList<>(parts.size());
        for (int i = 0; i < parts.size(); i++) {
            arrays.add(arg(parts.get(i), name, "parts[" + i + "]"));
        }
        Dl4jArray first = arrays.get(0);
        Shape s0 = first.shape();
        if (s0.rank() == 0) {
            throw new IllegalArgumentException("dl4j concat: rank-0 arrays have no axis to join on; reshape them to [1]");
        }
        int ax = axis(name, s0, axis);
        int total = 0;
        List<INDArray> nonEmpty = new ArrayList<>(arrays.size());
        for (int i = 0; i < arrays.size(); i++) {
            Dl4jArray p = arrays.get(i);
            sameDType(name, first, "parts[0]", p, "parts[" + i + "]");
            Shape s = p.shape();
            boolean compatible = s.rank() == s0.rank();
            for (int d = 0; compatible && d < s.rank(); d++) {
                compatible = d == ax || s.dim(d) == s0.dim(d);
            }
            if (!compatible) {
                throw new IllegalArgumentException("dl4j concat: parts[" + i + "] has shape " + s + ", parts[0] has "
                        + s0 + "; they must agree on every axis but " + ax);
            }
            total += s.dim(ax);
            INDArray nd4j = p.nd(name);
            if (s.size() > 0) {
                nonEmpty.add(nd4j);
            }
        }
        Shape outShape = s0.with(ax, total);
        DType dtype = first.dtype();
        if (nonEmpty.size() == 1) {
            return wrap(nd.copy(nonEmpty.get(0), dtype, outShape), dtype, outShape);
        }
        INDArray out = nd.allocate(dtype, outShape);
        if (!nonEmpty.isEmpty()) {
            if (product(s0, 0, ax) == 1) {
                // nothing before the axis: the parts lie end to end, one copy each
                long at = 0;
                for (INDArray p : nonEmpty) {
                    long n = p.length();
                    Nd4jCalls.copyElements(p, 0, out, at, n, dtype.byteSize());
                    at += n;
                }
            } else {
                nd.custom("concat").in(nonEmpty.toArray(new INDArray[0])).out(out).ints(ax).run();
            }
        }
        return wrap(out, dtype, outShape);
    }

    @Override
    public NativeArray gather(NativeArray x, NativeArray indices, int axis) {
        String name = "gather";
        Dl4jArray a = arg(x, name, "x");
        Dl4jArray idx = arg(indices, name, "indices");
        requireIndices(name, idx);
        Shape shape = a.shape();
        int ax = axis(name, shape, axis);
        Shape outShape = takeShape(shape, ax, idx.shape());
        INDArray in = a.nd(name);
        INDArray ind = idx.nd(name);
        checkIndexRange(name, ind, idx.shape(), shape.dim(ax), ax, shape);
        if (outShape.size() == 0) {
            return wrap(nd.allocate(a.dtype(), outShape), a.dtype(), outShape);
        }
        // libnd4j's gather crashes (SIGSEGV) on a rank-1 input with rank-2 indices, so it only
        // ever sees flat indices; the output's row-major layout is the same either way.
        int count = idx.shape().sizeAsInt();
        Shape flatShape = takeShape(shape, ax, Shape.of(count));
        INDArray out = nd.allocate(a.dtype(), flatShape);
        nd.custom("gather").in(in, flatIndices(ind, idx.shape())).out(out).ints(ax).run();
        return wrap(flatShape.equals(outShape) ? out : nd.adopt(out, outShape), a.dtype(), outShape);
    }

    /** The indices as a rank-1 view (of an input we only read). */
    private INDArray flatIndices(INDArray indices, Shape indexShape) {
        return indexShape.rank() == 1 ? indices : nd.view(indices, Shape.of(indexShape.sizeAsInt()));
    }

    @Override
    public NativeArray scatterAdd(NativeArray target, NativeArray indices, NativeArray updates, int axis) {
        String name = "scatterAdd";
        Dl4jArray t = arg(target, name, "target");
        Dl4jArray idx = arg(indices, name, "indices");
        Dl4jArray u = arg(updates, name, "updates");
        requireIndices(name, idx);
        sameDType(name, t, "target", u, "updates");
        Shape shape = t.shape();
        int ax = axis(name, shape, axis);
        Shape expected = takeShape(shape, ax, idx.shape());
        if (!u.shape().equals(expected)) {
            throw new IllegalArgumentException("dl4j scatterAdd: updates have shape " + u.shape() + " but target " + shape
                    + " with indices " + idx.shape() + " along axis " + axis + " needs " + expected);
        }
        INDArray tin = t.nd(name);
        INDArray ind = idx.nd(name);
        INDArray upd = u.nd(name);
        checkIndexRange(name, ind, idx.shape(), shape.dim(ax), ax, shape);
        DType dtype = t.dtype();
        if (expected.size() == 0) {
            return wrap(nd.copy(tin, dtype, shape), dtype, shape);
        }
        // As for gather, libnd4j only ever sees flat indices: updates viewed as
        // target[:axis] + [count] + target[axis+1:].
        int count = idx.shape().sizeAsInt();
        INDArray flatIdx = flatIndices(ind, idx.shape());
        Shape flatUpdShape = takeShape(shape, ax, Shape.of(count));
        INDArray flatUpd = flatUpdShape.equals(u.shape()) ? upd : nd.view(upd, flatUpdShape);
        if (ax == 0) {
            INDArray out = nd.allocate(dtype, shape);
            // lock = true: one thread applies the updates in order, so repeated indices accumulate.
            nd.custom("scatter_add").in(tin, flatIdx, flatUpd).out(out).bools(true, false).run();
            return wrap(out, dtype, shape);
        }
        // libnd4j scatters along axis 0 only: move the axis to the front, scatter, move it back.
        int rank = shape.rank();
        int[] toFront = new int[rank];
        toFront[0] = ax;
        for (int i = 0, j = 1; i < rank; i++) {
            if (i != ax) {
                toFront[j++] = i;
            }
        }
        int[] back = new int[rank];
        for (int i = 0; i < rank; i++) {
            back[toFront[i]] = i;
        }
        INDArray moved = permuted(tin, shape, toFront, dtype);
        INDArray movedUpd = null;
        try {
            movedUpd = permuted(flatUpd, flatUpdShape, toFront, dtype);  // same rank as the target
            nd.custom("scatter_add").in(moved, flatIdx, movedUpd).out(moved).bools(true, false).run();
            INDArray out = nd.allocate(dtype, shape);
            nd.custom("permute").in(moved).out(out).ints(back).run();
            return wrap(out, dtype, shape);
        } finally {
            moved.close();
            if (movedUpd != null) {
                movedUpd.close();
            }
        }
    }

    /** A fresh row-major copy of {@code a} with axes permuted (output axis i = input axis perm[i]). */
    private INDArray permuted(INDArray a, Shape shape, int[] perm, DType dtype) {
        int[] dims = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            dims[i] = shape.dim(perm[i]);
        }
        INDArray out = nd.allocate(dtype, Shape.of(dims));
        nd.custom("permute").in(a).out(out).ints(perm).run();
        return out;
    }

    // ---- convolution ----------------------------------------------------------------------

    /*
     * Why not libnd4j's conv2d and conv2d_bp: on one CPU thread they ran 5-30x slower than the same
     * arithmetic done here (the graph-hypernetwork step spent 90% of its time in them). They write
     * their im2col columns through a permuted view ([N, oH, oW, kH, kW, C] seen as [N, C, kH, kW, oH,
     * oW]), which libnd4j fills element by element with general offset arithmetic, and conv2d_bp
     * computes both gradients whichever one is asked for. Here the columns are laid out [C*kH*kW,
     * N*oH*oW], so the forward pass and each gradient is one plain GEMM (OpenBLAS), and FLOAT32
     * columns are built by ConvColumns in Java (faster than libnd4j's im2col, see there).
     */

    /** Stride and padding only: {@link #conv2d(NativeArray, NativeArray, Conv2dOptions)} with dilation 1, one group. */
    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, int[] stride, int[] padding) {
        requireNonNull(stride, "stride is null");
        requireNonNull(padding, "padding is null");
        return conv2d(input, weight, Conv2dOptions.of(stride, padding));
    }

    /**
     * The weight [O, C*kH*kW] times the im2col columns [C*kH*kW, N*oH*oW] in one GEMM, then
     * permuted into [N, O, oH, oW] (see the note above on why not libnd4j's
     * {@code conv2d}). Grouped convolutions take the SPI's composition (one convolution per group).
     * An empty batch or zero input channels are settled in Java.
     */
    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, Conv2dOptions options) {
        String name = "conv2d";
        requireNonNull(options, "options is null");
        Dl4jArray x = arg(input, name, "input");
        Dl4jArray w = arg(weight, name, "weight");
        sameDType(name, x, "input", w, "weight");
        floating(name, x.dtype());
        Shape outShape = options.outputShape(x.shape(), w.shape());
        if (options.groups() > 1) {
            return Kernels.super.conv2d(input, weight, options);
        }
        DType dtype = x.dtype();
        if (outShape.size() == 0) {
            return wrap(nd.allocate(dtype, outShape), dtype, outShape);
        }
        if (x.shape().dim(1) == 0) {
            return wrap(filled(dtype, outShape, 0.0), dtype, outShape);
        }
        int n = outShape.dim(0);
        int o = outShape.dim(1);
        int k = product(w.shape(), 1, 4);
        int p = product(outShape, 2, 4);
        INDArray out = nd.allocate(dtype, outShape);
        // columns^T [N*oH*oW, C*kH*kW] @ W^T [C*kH*kW, O] by transpose flags: about 20% faster in OpenBLAS than
        // W @ columns for these shapes (a long output side and a short one); the [N, oH*oW, O] result is permuted.
        try (Nd4jCalls.Temp cols = columns(x.nd(name), x.shape(), w.shape(), options, outShape, dtype);
             INDArray byPosition = nd.allocate(dtype, Shape.of(n * p, o))) {
            nd.custom("matmul").in(cols.array(), nd.view(w.nd(name), Shape.of(o, k))).out(byPosition).ints(1, 1).run();
            nd.custom("permute").in(nd.view(byPosition, Shape.of(n, p, o))).out(nd.view(out, Shape.of(n, o, p))).ints(0, 2, 1).run();
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return wrap(out, dtype, outShape);
    }

    /**
     * The im2col columns of x [N, C, H, W]: a fresh dense [C*kH*kW, N*oH*oW] whose row (c, ki, kj)
     * and column (n, oy, ox) hold the input element that kernel tap reads for that output (zero
     * where it covers padding), in this thread's reused temporary. FLOAT32 in Java ({@link ConvColumns});
     * otherwise libnd4j's im2col writing through a permuted view (slower, but FLOAT64 is the
     * reference dtype, not a fast path).
     */
    private Nd4jCalls.Temp columns(INDArray x, Shape xShape, Shape wShape, Conv2dOptions o, Shape outShape, DType dtype) {
        ConvColumns geometry = geometry(xShape, wShape, o, outShape);
        int n = xShape.dim(0);
        int c = xShape.dim(1);
        int kh = wShape.dim(2);
        int kw = wShape.dim(3);
        int oh = outShape.dim(2);
        int ow = outShape.dim(3);
        Shape shape = Shape.of(c * kh * kw, n * oh * ow);
        Nd4jCalls.Temp temp = nd.temp(dtype, shape);
        INDArray cols = temp.array();
        try {
            if (javaColumns(dtype, shape)) {
                geometry.im2col(Nd4jCalls.floats(x), Nd4jCalls.floats(cols));
            } else {
                // iArgs: kH, kW, sH, sW, pH, pW, dH, dW, isSameMode (0: explicit padding); im2col writes every element
                INDArray view = nd.view(cols, Shape.of(c, kh, kw, n, oh, ow)).permute(3, 0, 1, 2, 4, 5);
                nd.custom("im2col").in(x).out(view).ints(kh, kw, o.stride()[0], o.stride()[1], o.padding()[0], o.padding()[1],
                        o.dilation()[0], o.dilation()[1], 0).run();
            }
        } catch (RuntimeException e) {
            temp.close();
            throw e;
        }
        return temp;
    }

    /** col2im: sums columns [C*kH*kW, N*oH*oW] back onto the input elements they were read from, into a fresh input-shaped array. */
    private INDArray uncolumns(INDArray cols, Shape inputShape, Shape wShape, Conv2dOptions o, Shape outShape, DType dtype) {
        INDArray grad = nd.allocate(dtype, inputShape);
        try {
            if (javaColumns(dtype, Shape.of(wShape.dim(1) * wShape.dim(2) * wShape.dim(3), outShape.dim(0) * outShape.dim(2) * outShape.dim(3)))) {
                geometry(inputShape, wShape, o, outShape).col2im(Nd4jCalls.floats(cols), Nd4jCalls.floats(grad));
            } else {
                // iArgs: sH, sW, pH, pW, iH, iW, dH, dW, isSameMode; col2im writes every input element
                INDArray view = nd.view(cols, Shape.of(inputShape.dim(1), wShape.dim(2), wShape.dim(3), outShape.dim(0), outShape.dim(2),
                        outShape.dim(3))).permute(3, 0, 1, 2, 4, 5);
                nd.custom("col2im").in(view).out(grad).ints(o.stride()[0], o.stride()[1], o.padding()[0], o.padding()[1],
                        inputShape.dim(2), inputShape.dim(3), o.dilation()[0], o.dilation()[1], 0).run();
            }
        } catch (RuntimeException e) {
            grad.close();
            throw e;
        }
        return grad;
    }

    /** FLOAT32 columns small enough for int-indexed NIO buffers go through {@link ConvColumns}. */
    private static boolean javaColumns(DType dtype, Shape columns) {
        return dtype == DType.FLOAT32 && columns.size() <= Integer.MAX_VALUE / Float.BYTES;
    }

    private static ConvColumns geometry(Shape in, Shape weight, Conv2dOptions o, Shape out) {
        return new ConvColumns(in.dim(0), in.dim(1), in.dim(2), in.dim(3), weight.dim(2), weight.dim(3), o.stride()[0], o.stride()[1],
                o.padding()[0], o.padding()[1], o.dilation()[0], o.dilation()[1], out.dim(2), out.dim(3));
    }

    /** gradOutput [N, O, oH, oW] as a dense [O, N*oH*oW] (a copy unless N is 1, then a view; close either way). */
    private INDArray byChannel(INDArray gradOutput, Shape gs, DType dtype) {
        int n = gs.dim(0);
        int o = gs.dim(1);
        int p = product(gs, 2, 4);
        if (n == 1) {
            return nd.copy(gradOutput, dtype, Shape.of(o, p));
        }
        INDArray t = nd.allocate(dtype, Shape.of(o, n * p));
        try {
            nd.custom("permute").in(nd.view(gradOutput, Shape.of(n, o, p))).out(nd.view(t, Shape.of(o, n, p))).ints(1, 0, 2).run();
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /**
     * The weight's transpose [C*kH*kW, O] times the output gradient [O, N*oH*oW] in one GEMM, summed
     * back onto the input by col2im. Grouped convolutions take the SPI's composition.
     */
    @Override
    public NativeArray conv2dBackwardInput(NativeArray gradOutput, NativeArray weight, Shape inputShape,
                                           Conv2dOptions options) {
        String name = "conv2dBackwardInput";
        requireNonNull(inputShape, "inputShape is null");
        requireNonNull(options, "options is null");
        Dl4jArray g = arg(gradOutput, name, "gradOutput");
        Dl4jArray w = arg(weight, name, "weight");
        sameDType(name, g, "gradOutput", w, "weight");
        floating(name, g.dtype());
        KernelChecks.conv2dGradient("dl4j " + name, inputShape, w.shape(), g.shape(), options);
        if (options.groups() > 1) {
            return Kernels.super.conv2dBackwardInput(gradOutput, weight, inputShape, options);
        }
        DType dtype = g.dtype();
        if (inputShape.size() == 0) {
            return wrap(nd.allocate(dtype, inputShape), dtype, inputShape);
        }
        if (g.shape().size() == 0) {
            return wrap(filled(dtype, inputShape, 0.0), dtype, inputShape);
        }
        Shape gs = g.shape();
        int o = gs.dim(1);
        int k = product(w.shape(), 1, 4);
        int np = gs.dim(0) * product(gs, 2, 4);
        try (INDArray gT = byChannel(g.nd(name), gs, dtype); Nd4jCalls.Temp cols = nd.temp(dtype, Shape.of(k, np))) {
            nd.custom("matmul").in(nd.view(w.nd(name), Shape.of(o, k)), gT).out(cols.array()).ints(1, 0).run();
            return wrap(uncolumns(cols.array(), inputShape, w.shape(), options, gs, dtype), dtype, inputShape);
        }
    }

    /**
     * The output gradient [O, N*oH*oW] times the im2col columns' transpose [N*oH*oW, C*kH*kW] in
     * one GEMM (the sum over the batch is in the GEMM). Grouped convolutions take the SPI's composition.
     */
    @Override
    public NativeArray conv2dBackwardWeight(NativeArray input, NativeArray gradOutput, Shape weightShape,
                                            Conv2dOptions options) {
        String name = "conv2dBackwardWeight";
        requireNonNull(weightShape, "weightShape is null");
        requireNonNull(options, "options is null");
        Dl4jArray x = arg(input, name, "input");
        Dl4jArray g = arg(gradOutput, name, "gradOutput");
        sameDType(name, x, "input", g, "gradOutput");
        floating(name, x.dtype());
        KernelChecks.conv2dGradient("dl4j " + name, x.shape(), weightShape, g.shape(), options);
        if (options.groups() > 1) {
            return Kernels.super.conv2dBackwardWeight(input, gradOutput, weightShape, options);
        }
        DType dtype = x.dtype();
        if (weightShape.size() == 0) {
            return wrap(nd.allocate(dtype, weightShape), dtype, weightShape);
        }
        if (x.shape().size() == 0 || g.shape().size() == 0) {
            return wrap(filled(dtype, weightShape, 0.0), dtype, weightShape);
        }
        int o = weightShape.dim(0);
        int k = product(weightShape, 1, 4);
        INDArray gradWeight = nd.allocate(dtype, weightShape);
        try (Nd4jCalls.Temp cols = columns(x.nd(name), x.shape(), weightShape, options, g.shape(), dtype);
             INDArray gT = byChannel(g.nd(name), g.shape(), dtype)) {
            nd.custom("matmul").in(gT, cols.array()).out(nd.view(gradWeight, Shape.of(o, k))).ints(0, 1).run();
        } catch (RuntimeException e) {
            gradWeight.close();
            throw e;
        }
        return wrap(gradWeight, dtype, weightShape);
    }

    // ---- fused kernels --------------------------------------------------------------------

    /**
     * {@code x @ w + b}: the matmul's fresh output takes the bias in place (one op, no second
     * output), or libnd4j's {@code xw_plus_b} does both when x and w are matrices and b a vector.
     */
    @Override
    public NativeArray linear(NativeArray x, NativeArray w, NativeArray b) {
        String name = "linear";
        Dl4jArray xa = arg(x, name, "x");
        Dl4jArray wa = arg(w, name, "w");
        sameDType(name, xa, "x", wa, "w");
        if (b == null) {
            INDArray out = matmulInto(xa, wa, name);
            return wrap(out, xa.dtype(), shapeOf(out));
        }
        Dl4jArray ba = arg(b, name, "b");
        sameDType(name, xa, "x", ba, "b");
        Shape sx = xa.shape();
        Shape sw = wa.shape();
        Shape sb = ba.shape();
        // BLAS dtypes take the GEMM and the in-place bias add below: the same two steps xw_plus_b takes, without
        // its column-major GEMM's transposed output copy
        if (sx.rank() == 2 && sw.rank() == 2 && sb.rank() == 1 && sx.dim(1) == sw.dim(0) && sb.dim(0) == sw.dim(1)
                && sx.dim(0) > 0 && sx.dim(1) > 0 && sw.dim(1) > 0 && xa.dtype().isFloating() && !Blas.supports(xa.dtype())) {
            Shape outShape = Shape.of(sx.dim(0), sw.dim(1));
            INDArray out = nd.allocate(xa.dtype(), outShape);
            nd.custom("xw_plus_b").in(xa.nd(name), wa.nd(name), ba.nd(name)).out(out).run();
            return wrap(out, xa.dtype(), outShape);
        }
        Dl4jArray fused = blasLinear(xa, wa, ba, name);
        if (fused == null) {
            fused = hostOuterLinear(xa, wa, ba, name);
        }
        if (fused != null) {
            return fused;
        }
        INDArray y = matmulInto(xa, wa, name);
        Shape sy = shapeOf(y);
        Shape sum = broadcast(name, sy, sb);
        try {
            if (!sum.equals(sy)) {
                // the bias widens the result: no room in place
                Dl4jArray ya = wrap(y, xa.dtype(), sy);
                try (ya) {
                    return binary(BinaryOp.ADD, ya, ba);
                }
            }
            if (sy.size() > 0) {
                nd.custom("add").in(y, ba.nd(name)).out(y).run();
            }
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return wrap(y, xa.dtype(), sy);
    }

    /**
     * {@code x @ w + b} with inner dimension 1 (MAML's first layer, [25, 50, 1] @ [25, 1, 40] + [25, 1, 40]) as one
     * {@link #hostOuter} pass, bias included, for FLOAT32/FLOAT64: x's batch dimensions are the output's, w's are
     * x's or absent, and b is [n], [1, n] or x's batch dimensions then [1, n]. The same bits as the product
     * followed by the in-place bias add. Null when the case is not covered or too large.
     */
    private Dl4jArray hostOuterLinear(Dl4jArray xa, Dl4jArray wa, Dl4jArray ba, String name) {
        Shape sx = xa.shape();
        Shape sw = wa.shape();
        Shape sb = ba.shape();
        DType dtype = xa.dtype();
        if (!Blas.supports(dtype) || sx.rank() < 2 || sw.rank() < 2 || sx.dim(-1) != 1 || sw.dim(-2) != 1) {
            return null;
        }
        int m = sx.dim(-2);
        int n = sw.dim(-1);
        Shape batchX = Shape.of(Arrays.copyOf(sx.dims(), sx.rank() - 2));
        Shape batchW = Shape.of(Arrays.copyOf(sw.dims(), sw.rank() - 2));
        if (sw.rank() != 2 && !batchW.equals(batchX)) {
            return null;
        }
        int batch = (int) batchX.size();
        int biasBatch;
        if (sb.rank() == 1 && sb.dim(0) == n || sb.rank() == 2 && sb.dim(0) == 1 && sb.dim(1) == n) {
            biasBatch = 1;
        } else if (sb.rank() == sx.rank() && sb.dim(-2) == 1 && sb.dim(-1) == n
                && Shape.of(Arrays.copyOf(sb.dims(), sb.rank() - 2)).equals(batchX)) {
            biasBatch = batch;
        } else {
            return null;
        }
        int[] outDims = sx.dims().clone();
        outDims[outDims.length - 1] = n;
        Shape outShape = Shape.of(outDims);
        if (outShape.size() == 0 || outShape.size() > HOST_BROADCAST_MAX) {
            return null;
        }
        INDArray out = nd.allocate(dtype, outShape);
        try {
            if (!hostOuter(xa.nd(name), batch, wa.nd(name), sw.rank() == 2 ? 1 : batch, ba.nd(name), biasBatch, out, m, n)) {
                out.close();
                return null;
            }
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return wrap(out, dtype, outShape);
    }

    /**
     * {@code x @ w + b} for FLOAT32/FLOAT64 when the product takes BLAS (inner dimension > 1, non-empty) and b does
     * not widen it: the output is filled with b broadcast (as {@link #broadcastTo}), then the GEMM adds the product
     * to it (BLAS beta 1), so no separate bias add. Each element is the GEMM's sum plus b, rounded once, as before
     * (for inner dimensions above OpenBLAS's K block, b joins after the first block's partial sum instead). Null
     * when the case is not covered.
     */
    private Dl4jArray blasLinear(Dl4jArray xa, Dl4jArray wa, Dl4jArray ba, String name) {
        Shape sa = xa.shape();
        Shape sb = wa.shape();
        DType dtype = xa.dtype();
        if (!Blas.supports(dtype) || sa.rank() < 2 || sb.rank() < 2 || sb.dim(-2) != sa.dim(-1) || sa.dim(-1) < 2) {
            return null;
        }
        int m = sa.dim(-2);
        int k = sa.dim(-1);
        int n = sb.dim(-1);
        Shape batchA = Shape.of(Arrays.copyOf(sa.dims(), sa.rank() - 2));
        Shape batchB = Shape.of(Arrays.copyOf(sb.dims(), sb.rank() - 2));
        Shape batch;
        try {
            batch = Shape.broadcast(batchA, batchB);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int[] outDims = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        outDims[batch.rank()] = m;
        outDims[batch.rank() + 1] = n;
        Shape outShape = Shape.of(outDims);
        Shape bias = ba.shape();
        if (outShape.size() == 0 || bias.rank() > outShape.rank()) {
            return null;
        }
        for (int i = 1; i <= bias.rank(); i++) {
            if (bias.dim(-i) != 1 && bias.dim(-i) != outShape.dim(-i)) {
                return null;
            }
        }
        INDArray out = nd.allocate(dtype, outShape);
        try {
            Shape[] fewest = collapsedBroadcast(bias, outShape);
            if (outShape.size() <= HOST_BROADCAST_MAX) {
                hostBroadcast(ba.nd(name), fewest[0], out, fewest[1], dtype.byteSize());
            } else {
                INDArray to = nd.view(out, fewest[1]);
                nd.custom("assign").in(to, nd.view(ba.nd(name), fewest[0])).out(to).run();
            }
            INDArray x = xa.nd(name);
            INDArray w = wa.nd(name);
            int batchSize = (int) batch.size();
            if (sb.rank() == 2 && batchA.equals(batch)) {
                Blas.gemm(dtype, false, false, batchSize * m, n, k, x, new long[1], w, new long[1], out, 1, true, oneDnnFrom);
            } else {
                Blas.gemm(dtype, false, false, m, n, k, x, broadcastOffsets(batchA, batch, (long) m * k),
                        w, broadcastOffsets(batchB, batch, (long) k * n), out, batchSize, true, oneDnnFrom);
            }
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return wrap(out, dtype, outShape);
    }

    /**
     * Adam/AdamW with the composed default's arithmetic (same order, same scalars) but in place
     * on three fresh arrays, mostly with ND4J's cheap legacy ops: m' and v' are the new moments,
     * and the new parameter is built in the buffer that held g^2.
     */
    @Override
    public AdamResult adamUpdate(NativeArray param, NativeArray grad, NativeArray m, NativeArray v, AdamStep h) {
        requireNonNull(h, "h is null");
        String name = "adamUpdate";
        Dl4jArray p = arg(param, name, "param");
        Dl4jArray g = arg(grad, name, "grad");
        Dl4jArray ma = arg(m, name, "m");
        Dl4jArray va = arg(v, name, "v");
        sameDType(name, p, "param", g, "grad");
        sameDType(name, p, "param", ma, "m");
        sameDType(name, p, "param", va, "v");
        floating(name, p.dtype());
        Shape shape = p.shape();
        for (Dl4jArray other : List.of(g, ma, va)) {
            if (!other.shape().equals(shape)) {
                throw new IllegalArgumentException("dl4j adamUpdate: param, grad, m and v need one shape, got "
                        + shape + ", " + g.shape() + ", " + ma.shape() + ", " + va.shape());
            }
        }
        DType dtype = p.dtype();
        INDArray pa = p.nd(name);
        INDArray gradient = g.nd(name);
        INDArray m0 = ma.nd(name);
        INDArray v0 = va.nd(name);
        if (shape.size() == 0) {
            return new AdamResult(wrap(nd.allocate(dtype, shape), dtype, shape), wrap(nd.allocate(dtype, shape), dtype, shape),
                    wrap(nd.allocate(dtype, shape), dtype, shape));
        }
        if (dtype == DType.FLOAT32 || dtype == DType.FLOAT64) {
            INDArray newParam = nd.allocate(dtype, shape);
            INDArray newM = nd.allocate(dtype, shape);
            INDArray newV = nd.allocate(dtype, shape);
            try {
                hostAdam(pa, gradient, m0, v0, newParam, newM, newV, h, dtype, shape);
            } catch (RuntimeException e) {
                newParam.close();
                newM.close();
                newV.close();
                throw e;
            }
            return new AdamResult(wrap(newParam, dtype, shape), wrap(newM, dtype, shape), wrap(newV, dtype, shape));
        }
        boolean coupledDecay = h.weightDecay() != 0 && !h.decoupledWeightDecay();
        INDArray decayedGrad = null;
        INDArray decayedParam = null;
        INDArray m1 = nd.allocate(dtype, shape);
        INDArray v1 = nd.allocate(dtype, shape);
        INDArray work = nd.allocate(dtype, shape);
        try {
            if (coupledDecay) {
                decayedGrad = nd.allocate(dtype, shape);
                // g + wd * param
                Nd4jCalls.exec(new Axpy(pa, gradient, decayedGrad, h.weightDecay()));
                gradient = decayedGrad;
            }
            // m' = m * b1 + g * (1 - b1)
            nd.scalar(ScalarKind.MUL, m0, m1, h.beta1());
            Nd4jCalls.exec(new Axpy(gradient, m1, m1, 1 - h.beta1()));
            // v' = v * b2 + g^2 * (1 - b2)
            Nd4jCalls.exec(new Square(gradient, work));
            nd.scalar(ScalarKind.MUL, v0, v1, h.beta2());
            Nd4jCalls.exec(new Axpy(work, v1, v1, 1 - h.beta2()));
            double c1 = 1 - Math.pow(h.beta1(), h.step());
            double c2 = 1 - Math.pow(h.beta2(), h.step());
            // ratio = m' / (sqrt(v' / c2) + eps), then -step = ratio * -(lr / c1)
            nd.scalar(ScalarKind.DIV, v1, work, c2);
            Nd4jCalls.exec(new Sqrt(work, work));
            nd.scalar(ScalarKind.ADD, work, work, h.epsilon());
            nd.custom("divide").in(m1, work).out(work).run();
            nd.scalar(ScalarKind.MUL, work, work, -(h.learningRate() / c1));
            // param - step, or param * (1 - lr * wd) - step for AdamW. Axpy's p is a cached ND4J
            // constant, so only constants go there; the scalars that change per step go through
            // scalar ops.
            if (h.weightDecay() != 0 && h.decoupledWeightDecay()) {
                decayedParam = nd.allocate(dtype, shape);
                nd.scalar(ScalarKind.MUL, pa, decayedParam, 1 - h.learningRate() * h.weightDecay());
                Nd4jCalls.exec(new Axpy(decayedParam, work, work, 1.0));
            } else {
                Nd4jCalls.exec(new Axpy(pa, work, work, 1.0));
            }
        } catch (RuntimeException e) {
            m1.close();
            v1.close();
            work.close();
            throw e;
        } finally {
            if (decayedGrad != null) {
                decayedGrad.close();
            }
            if (decayedParam != null) {
                decayedParam.close();
            }
        }
        return new AdamResult(wrap(work, dtype, shape), wrap(m1, dtype, shape), wrap(v1, dtype, shape));
    }

    /**
     * All parameters in one call, the donated moments updated in place with ND4J's legacy in-place
     * ops (about 0.5 µs each): one parameter-sized allocation per tensor, which becomes the new
     * parameter (the composed update makes eight, {@link #adamUpdate} three).
     */
    @Override
    public List<AdamResult> adamUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                              List<NativeArray> v, AdamStep h) {
        return foreachAdam("adamUpdateForeach", params, grads, m, v, h, false);
    }

    /**
     * The foreach update writing each new float parameter into its old one's memory where no other
     * operand of the call reads that memory ({@link HostBuffers#sharing} over the arrays' buffers);
     * other entries get new arrays.
     */
    @Override
    public List<AdamResult> adamUpdateForeachInPlace(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                                     List<NativeArray> v, AdamStep h) {
        return foreachAdam("adamUpdateForeachInPlace", params, grads, m, v, h, true);
    }

    private List<AdamResult> foreachAdam(String name, List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                         List<NativeArray> v, AdamStep h, boolean donateParams) {
        requireNonNull(h, "h is null");
        KernelChecks.foreachUpdate("dl4j " + name, params, grads, m, v);
        int n = params.size();
        Dl4jArray[][] args = new Dl4jArray[n][];
        for (int i = 0; i < n; i++) {
            // every entry checked before any moment is overwritten
            args[i] = new Dl4jArray[] {arg(params.get(i), name, "param"), arg(grads.get(i), name, "grad"),
                    arg(m.get(i), name, "m"), arg(v.get(i), name, "v")};
            for (Dl4jArray a : args[i]) {
                a.nd(name);
            }
        }
        boolean[] exclusive = donateParams ? exclusiveParams(args, name) : new boolean[n];
        java.util.ArrayList<AdamResult> out = new java.util.ArrayList<>(n);
        try {
            for (int i = 0; i < n; i++) {
                Dl4jArray[] a = args[i];
                DType dtype = a[0].dtype();
                Shape shape = a[0].shape();
                if (exclusive[i]) {
                    INDArray p = a[0].nd(name);
                    hostAdam(p, a[1].nd(name), a[2].nd(name), a[3].nd(name), p, a[2].nd(name), a[3].nd(name), h, dtype, shape);
                    out.add(new AdamResult(params.get(i), a[2], a[3]));
                    continue;
                }
                INDArray newParam = shape.size() == 0 ? nd.allocate(dtype, shape)
                        : adamInPlace(a[0].nd(name), a[1].nd(name), a[2].nd(name), a[3].nd(name), h, dtype, shape);
                out.add(new AdamResult(wrap(newParam, dtype, shape), a[2], a[3]));
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < out.size(); i++) {
                if (out.get(i).param() != params.get(i)) {
                    out.get(i).param().close();
                }
            }
            throw e;
        }
        return List.copyOf(out);
    }

    /**
     * Which entries' parameters may be overwritten: non-empty float32/64 parameters whose bytes (as
     * the host pass reads them) overlap no other operand's.
     */
    private static boolean[] exclusiveParams(Dl4jArray[][] args, String name) {
        int n = args.length;
        List<java.nio.ByteBuffer> views = new java.util.ArrayList<>(4 * n);
        for (Dl4jArray[] a : args) {
            for (Dl4jArray x : a) {
                if (x.shape().size() == 0) {
                    views.add(null); // no memory
                    continue;
                }
                java.nio.ByteBuffer all = Nd4jCalls.bytes(x.nd(name));
                long bytes = x.shape().size() * x.dtype().byteSize();
                views.add(all.limit((int) Math.min(bytes, all.capacity())));
            }
        }
        boolean[] sharing = HostBuffers.sharing(views);
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
            out[i] = !sharing[4 * i] && args[i][0].shape().size() > 0;
        }
        return out;
    }

    /**
     * Adam as one Java pass over the arrays' own memory ({@link AdamStep#applyFloat32}): the composed
     * update's values without its dozen native calls per tensor. {@code newM}/{@code newV} may be
     * {@code m0}/{@code v0}. Both Adam kernels use it for float32 and float64, so the per-tensor and
     * foreach updates agree bit for bit.
     */
    private static void hostAdam(INDArray pa, INDArray grad, INDArray m0, INDArray v0, INDArray newParam, INDArray newM,
                                 INDArray newV, AdamStep h, DType dtype, Shape shape) {
        int n = shape.sizeAsInt();
        if (dtype == DType.FLOAT32) {
            h.applyFloat32(floats(pa, n), floats(grad, n), floats(m0, n), floats(v0, n), floats(newParam, n), floats(newM, n),
                    floats(newV, n));
        } else {
            h.applyFloat64(doubles(pa, n), doubles(grad, n), doubles(m0, n), doubles(v0, n), doubles(newParam, n),
                    doubles(newM, n), doubles(newV, n));
        }
    }

    private static java.nio.FloatBuffer floats(INDArray a, int n) {
        return Nd4jCalls.bytes(a).asFloatBuffer().limit(n);
    }

    private static java.nio.DoubleBuffer doubles(INDArray a, int n) {
        return Nd4jCalls.bytes(a).asDoubleBuffer().limit(n);
    }

    /** Updates {@code m0} and {@code v0} in place and returns the new parameter (one new array). */
    private INDArray adamInPlace(INDArray pa, INDArray grad, INDArray m0, INDArray v0, AdamStep h, DType dtype, Shape shape) {
        INDArray work = nd.allocate(dtype, shape);
        if (dtype == DType.FLOAT32 || dtype == DType.FLOAT64) {
            try {
                hostAdam(pa, grad, m0, v0, work, m0, v0, h, dtype, shape);
                return work;
            } catch (RuntimeException e) {
                work.close();
                throw e;
            }
        }
        try {
            INDArray gradient = grad;
            if (h.weightDecay() != 0 && !h.decoupledWeightDecay()) {
                // g + wd * param, in the work buffer until the moments have it
                Nd4jCalls.exec(new Axpy(pa, grad, work, h.weightDecay()));
                gradient = work;
            }
            // m = m * b1 + g * (1 - b1)
            nd.scalar(ScalarKind.MUL, m0, m0, h.beta1());
            Nd4jCalls.exec(new Axpy(gradient, m0, m0, 1 - h.beta1()));
            // v = v * b2 + g^2 * (1 - b2)
            nd.scalar(ScalarKind.MUL, v0, v0, h.beta2());
            Nd4jCalls.exec(new Square(gradient, work));
            Nd4jCalls.exec(new Axpy(work, v0, v0, 1 - h.beta2()));
            double c1 = 1 - Math.pow(h.beta1(), h.step());
            double c2 = 1 - Math.pow(h.beta2(), h.step());
            // ratio = m / (sqrt(v / c2) + eps), then -step = ratio * -(lr / c1), as adamUpdate
            nd.scalar(ScalarKind.DIV, v0, work, c2);
            Nd4jCalls.exec(new Sqrt(work, work));
            nd.scalar(ScalarKind.ADD, work, work, h.epsilon());
            nd.custom("divide").in(m0, work).out(work).run();
            nd.scalar(ScalarKind.MUL, work, work, -(h.learningRate() / c1));
            if (h.weightDecay() != 0 && h.decoupledWeightDecay()) {
                // param * (1 - lr * wd) - step: the per-step scalar through a scalar op (see adamUpdate)
                try (INDArray decayed = nd.allocate(dtype, shape)) {
                    nd.scalar(ScalarKind.MUL, pa, decayed, 1 - h.learningRate() * h.weightDecay());
                    Nd4jCalls.exec(new Axpy(decayed, work, work, 1.0));
                }
            } else {
                Nd4jCalls.exec(new Axpy(pa, work, work, 1.0));
            }
            return work;
        } catch (RuntimeException e) {
            work.close();
            throw e;
        }
    }

    /**
     * All parameters in one call, the donated momentum buffers updated in place with the legacy
     * in-place ops: one allocation per tensor, which becomes the new parameter.
     */
    @Override
    public List<SgdResult> sgdUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> buffers,
                                            SgdStep h) {
        String name = "sgdUpdateForeach";
        KernelChecks.sgdForeachUpdate("dl4j " + name, params, grads, buffers, h);
        int n = params.size();
        boolean momentum = h.momentum() != 0;
        Dl4jArray[][] args = new Dl4jArray[n][];
        for (int i = 0; i < n; i++) {
            // every entry checked before any buffer is overwritten
            args[i] = momentum ? new Dl4jArray[] {arg(params.get(i), name, "param"), arg(grads.get(i), name, "grad"),
                    arg(buffers.get(i), name, "buffer")} : new Dl4jArray[] {arg(params.get(i), name, "param"), arg(grads.get(i), name, "grad")};
            for (Dl4jArray a : args[i]) {
                a.nd(name);
            }
        }
        java.util.ArrayList<SgdResult> out = new java.util.ArrayList<>(n);
        try {
            for (Dl4jArray[] a : args) {
                DType dtype = a[0].dtype();
                Shape shape = a[0].shape();
                INDArray work = nd.allocate(dtype, shape);
                try {
                    if (shape.size() != 0) {
                        INDArray pa = a[0].nd(name);
                        INDArray d = a[1].nd(name);
                        if (h.weightDecay() != 0) {
                            Nd4jCalls.exec(new Axpy(pa, d, work, h.weightDecay())); // g + wd * p
                            d = work;
                        }
                        if (momentum) {
                            INDArray buf = a[2].nd(name);
                            nd.scalar(ScalarKind.MUL, buf, buf, h.momentum());
                            Nd4jCalls.exec(new Axpy(d, buf, buf, 1.0));
                            d = buf;
                        }
                        Nd4jCalls.exec(new Axpy(d, pa, work, -h.learningRate())); // p - lr * d
                    }
                } catch (RuntimeException e) {
                    work.close();
                    throw e;
                }
                out.add(new SgdResult(wrap(work, dtype, shape), momentum ? a[2] : null));
            }
        } catch (RuntimeException e) {
            out.forEach(r -> r.param().close());
            throw e;
        }
        return List.copyOf(out);
    }

    /**
     * {@code x > 0 ? g : +0.0}, libnd4j's {@code relu_bp} formula (NaN x gives 0): for FLOAT32 and FLOAT64 one
     * branch-free Java pass over the arrays' bits ({@link #positiveMask}), where relu_bp cost 40-55 us a call on
     * MAML's 10,000-element activations; other dtypes one relu_bp call. One native allocation either way.
     */
    @Override
    public NativeArray reluBackward(NativeArray grad, NativeArray input) {
        String name = "reluBackward";
        KernelChecks.sameShapeAndDType("dl4j " + name, grad, input);
        Dl4jArray g = arg(grad, name, "grad");
        Dl4jArray x = arg(input, name, "input");
        INDArray out = nd.allocate(g.dtype(), g.shape());
        if (g.shape().size() != 0) {
            try {
                int n = g.shape().sizeAsInt();
                if (g.dtype() == DType.FLOAT32) {
                    java.nio.IntBuffer gb = Nd4jCalls.bytes(g.nd(name)).asIntBuffer();
                    java.nio.IntBuffer xb = Nd4jCalls.bytes(x.nd(name)).asIntBuffer();
                    java.nio.IntBuffer ob = Nd4jCalls.bytes(out).asIntBuffer();
                    // in cache-sized chunks: small scratch arrays, the chunk still in cache when written back
                    int[] gv = new int[Math.min(n, HOST_CHUNK)];
                    int[] xv = new int[gv.length];
                    for (int at = 0; at < n; at += gv.length) {
                        int len = Math.min(gv.length, n - at);
                        gb.get(at, gv, 0, len);
                        xb.get(at, xv, 0, len);
                        for (int i = 0; i < len; i++) {
                            gv[i] &= positiveMask(xv[i]);
                        }
                        ob.put(at, gv, 0, len);
                    }
                } else if (g.dtype() == DType.FLOAT64) {
                    java.nio.LongBuffer gb = Nd4jCalls.bytes(g.nd(name)).asLongBuffer();
                    java.nio.LongBuffer xb = Nd4jCalls.bytes(x.nd(name)).asLongBuffer();
                    java.nio.LongBuffer ob = Nd4jCalls.bytes(out).asLongBuffer();
                    long[] gv = new long[Math.min(n, HOST_CHUNK)];
                    long[] xv = new long[gv.length];
                    for (int at = 0; at < n; at += gv.length) {
                        int len = Math.min(gv.length, n - at);
                        gb.get(at, gv, 0, len);
                        xb.get(at, xv, 0, len);
                        for (int i = 0; i < len; i++) {
                            gv[i] &= positiveMask(xv[i]);
                        }
                        ob.put(at, gv, 0, len);
                    }
                } else {
                    nd.custom("relu_bp").in(x.nd(name), g.nd(name)).out(out).doubles(0.0).run();
                }
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        }
        return wrap(out, g.dtype(), g.shape());
    }

    /**
     * All ones when the float32 with these bits is > 0 (1 to 0x7f800000: positive, +infinity included, NaN
     * not), else 0, without a branch: a compare on random signs mispredicts half the time, and the integer form
     * vectorises. {@code t1 = bits - 1} and {@code 0x7f7fffff - t1} are both >= 0 exactly then.
     */
    static int positiveMask(int bits) {
        int t1 = bits - 1;
        return ~((t1 | (0x7f7fffff - t1)) >> 31);
    }

    /** {@link #positiveMask(int)} for float64 bits (1 to 0x7ff0000000000000). */
    static long positiveMask(long bits) {
        long t1 = bits - 1;
        return ~((t1 | (0x7fefffffffffffffL - t1)) >> 63);
    }

    /**
     * The summed axes of a FLOAT32/FLOAT64 gradient seen as [outer, rows, cols] go to BLAS GEMVs with a ones
     * vector ({@link Blas#middleSums}) when they are one run (size-1 axes aside): a linear layer's bias (outer 1),
     * MAML's per-task biases [25, 10, 40] -> [25, 1, 40]. libnd4j's reduction along such axes walks the array with a
     * stride and cost about 9 times more on the hypernetwork's [66, 4096] column sums. Otherwise one reduction
     * straight into the bias's shape when only leading axes are summed, else the SPI's composition.
     */
    @Override
    public NativeArray biasGradient(NativeArray grad, Shape biasShape) {
        int[] axes = KernelChecks.broadcastAxes("dl4j biasGradient", grad.shape(), biasShape);
        if (axes.length == 0) {
            return Kernels.super.biasGradient(grad, biasShape);
        }
        Dl4jArray g = arg(grad, "biasGradient", "grad");
        int[] split = Blas.supports(g.dtype()) ? summedRun(g.shape(), biasShape) : null;
        if (split != null) {
            INDArray out = nd.allocate(g.dtype(), biasShape);
            try {
                Blas.middleSums(g.dtype(), g.nd("biasGradient"), split[0], split[1], split[2],
                        nd.ones(g.dtype(), split[1]), out);
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return wrap(out, g.dtype(), biasShape);
        }
        if (axes.length != grad.shape().rank() - biasShape.rank()) {
            return Kernels.super.biasGradient(grad, biasShape);
        }
        return reduce(ReduceOp.SUM, grad, axes, false);
    }

    /**
     * {outer, rows, cols} when {@code grad} (non-empty) summed to {@code bias} (which broadcasts to it) sums one
     * run of adjacent axes, size-1 axes aside: grad is then [outer, rows, cols] with the middle summed. Null when
     * the summed axes are not one run or grad is empty.
     */
    static int[] summedRun(Shape grad, Shape bias) {
        int pad = grad.rank() - bias.rank();
        boolean[] summed = new boolean[grad.rank()];
        for (int i = 0; i < summed.length; i++) {
            summed[i] = i < pad || bias.dim(i - pad) == 1;
        }
        return runSplit(grad, summed);
    }

    /**
     * {outer, rows, cols} when the {@code summed} axes of a non-empty {@code shape} are one run, size-1 axes
     * aside ({@code shape} is then [outer, rows, cols] with the middle summed and rows > 1); else null.
     */
    static int[] runSplit(Shape shape, boolean[] summedAxes) {
        if (shape.size() == 0) {
            return null;
        }
        long[] part = {1, 1, 1};
        int phase = 0; // 0: kept axes before the run, 1: in the run, 2: kept axes after it
        for (int i = 0; i < shape.rank(); i++) {
            int d = shape.dim(i);
            if (d == 1) {
                continue;
            }
            boolean summed = summedAxes[i];
            if (summed) {
                if (phase == 2) {
                    return null;
                }
                phase = 1;
            } else if (phase == 1) {
                phase = 2;
            }
            part[phase] *= d;
        }
        if (part[1] == 1) {
            return null;
        }
        return new int[] {Math.toIntExact(part[0]), Math.toIntExact(part[1]), Math.toIntExact(part[2])};
    }

    // ---- helpers --------------------------------------------------------------------------

    private Dl4jArray wrap(INDArray a, DType dtype, Shape shape) {
        return new Dl4jArray(a, dtype, shape, device);
    }

    private static int product(Shape shape, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) {
            p *= shape.dim(i);
        }
        return p;
    }

    private static Shape shapeOf(INDArray a) {
        long[] l = a.shape();
        int[] d = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            d[i] = Math.toIntExact(l[i]);
        }
        return Shape.of(d);
    }

    /** {@code x} as an array of this backend, or an IllegalArgumentException naming the op. */
    private static Dl4jArray arg(NativeArray x, String op, String role) {
        if (x == null) {
            throw new NullPointerException("dl4j " + op + ": " + role + " is null");
        }
        if (x instanceof Dl4jArray a) {
            return a;
        }
        throw new IllegalArgumentException("dl4j " + op + ": " + role + " is a " + x.getClass().getName()
                + " (" + x.dtype() + " on " + x.device() + "), not an array of the dl4j backend");
    }

    private static void sameDType(String op, NativeArray a, String aName, NativeArray b, String bName) {
        KernelChecks.sameDType("dl4j " + op, aName, a.dtype(), bName, b.dtype());
    }

    private static void floating(String op, DType dtype) {
        KernelChecks.floating("dl4j " + op, dtype);
    }

    private static void checkLength(String op, int length, Shape shape) {
        if (length != shape.size()) {
            throw new IllegalArgumentException("dl4j " + op + ": " + length + " values do not fill shape " + shape + " ("
                    + shape.size() + " elements)");
        }
    }

    private static Shape broadcast(String op, Shape a, Shape b) {
        try {
            return Shape.broadcast(a, b);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dl4j " + op + ": shapes " + a + " and " + b + " do not broadcast", e);
        }
    }

    private static int axis(String op, Shape shape, int axis) {
        return KernelChecks.axis("dl4j " + op, shape, axis);
    }

    /** Which axes a reduction covers: all for an empty list; negative axes count from the end. */
    private static boolean[] reducedAxes(String op, Shape shape, int[] axes) {
        boolean[] reduced = new boolean[shape.rank()];
        if (axes.length == 0) {
            Arrays.fill(reduced, true);
            return reduced;
        }
        for (int ax : KernelChecks.axes("dl4j " + op, shape, axes)) {
            reduced[ax] = true;
        }
        return reduced;
    }

    private static Shape reducedShape(Shape shape, boolean[] reduced, boolean keepDims) {
        int[] dims = new int[shape.rank()];
        int n = 0;
        for (int i = 0; i < shape.rank(); i++) {
            if (!reduced[i]) {
                dims[n++] = shape.dim(i);
            } else if (keepDims) {
                dims[n++] = 1;
            }
        }
        return Shape.of(Arrays.copyOf(dims, n));
    }

    private static int[] axesOf(boolean[] reduced) {
        int n = 0;
        for (boolean r : reduced) {
            n += r ? 1 : 0;
        }
        int[] out = new int[n];
        for (int i = 0, j = 0; i < reduced.length; i++) {
            if (reduced[i]) {
                out[j++] = i;
            }
        }
        return out;
    }

    private static int[] permutation(Shape shape, int[] permutation) {
        return KernelChecks.permutation("dl4j transpose", shape, permutation);
    }

    private static void requireIndices(String op, Dl4jArray indices) {
        if (indices.dtype() != DType.INT64) {
            throw new IllegalArgumentException("dl4j " + op + ": indices must be INT64, got " + indices.dtype());
        }
    }

    /** {@code x.shape[:axis] + indices.shape + x.shape[axis+1:]}. */
    private static Shape takeShape(Shape x, int axis, Shape indices) {
        int[] xd = x.dims();
        int[] id = indices.dims();
        int[] out = new int[xd.length - 1 + id.length];
        System.arraycopy(xd, 0, out, 0, axis);
        System.arraycopy(id, 0, out, axis, id.length);
        System.arraycopy(xd, axis + 1, out, axis + id.length, xd.length - axis - 1);
        return Shape.of(out);
    }

    /** Reads the indices in Java (libnd4j does not check them) and refuses any outside [0, size). */
    private static void checkIndexRange(String op, INDArray indices, Shape indexShape, int size, int axis, Shape shape) {
        KernelChecks.indices("dl4j " + op, Nd4jCalls.readLongs(indices, DType.INT64, indexShape.sizeAsInt()), size, shape, axis);
    }

    /** Refuses INT64 division that would trap in native code: by zero, and Long.MIN_VALUE / -1. */
    private static void checkIntegerDivision(String op, INDArray a, Shape sa, INDArray b, Shape sb) {
        long[] divisors = Nd4jCalls.readLongs(b, DType.INT64, sb.sizeAsInt());
        boolean minusOne = false;
        for (long d : divisors) {
            if (d == 0) {
                throw new ArithmeticException("dl4j " + op + ": INT64 division by zero");
            }
            minusOne |= d == -1;
        }
        if (minusOne) {
            for (long n : Nd4jCalls.readLongs(a, DType.INT64, sa.sizeAsInt())) {
                if (n == Long.MIN_VALUE) {
                    throw new ArithmeticException("dl4j " + op + ": INT64 overflow in Long.MIN_VALUE / -1");
                }
            }
        }
    }
}
