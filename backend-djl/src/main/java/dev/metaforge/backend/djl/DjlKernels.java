package dev.metaforge.backend.djl;

import static java.util.Objects.requireNonNull;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.HostBuffers;
import dev.metaforge.spi.HostCrossEntropy;
import dev.metaforge.spi.KernelChecks;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.SgdResult;
import dev.metaforge.spi.SgdStep;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnaryOp;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Every {@link Kernels} method on PyTorch tensors through DJL's {@link JniUtils}: one native call
 * per primitive wherever PyTorch has the kernel, and compositions of native calls where DJL does
 * not expose it (see {@link #scatterAdd}, {@link #topK}, {@link #logSumExp}).
 *
 * <p>Per call the wrapper adds one small object ({@link DjlArray}); scalars come from a
 * {@link ScalarCache}; shapes are computed in Java only where the kernel needs them for checking
 * anyway, otherwise read lazily. Arguments PyTorch would reject opaquely, or accept with other
 * semantics (negative indices, clamped slices, rank-1 matmul), are checked here first; anything
 * PyTorch still rejects is rethrown as {@link IllegalArgumentException} naming the kernel and its
 * operands.
 *
 * <p>Semantics where the SPI leaves room are those of the reference backend: NEG, ABS, SIGN,
 * SQUARE, RELU accept INT64, other float math (and matmul, MEAN, softmax, logSumExp, conv2d,
 * random) needs FLOAT32/FLOAT64; INT64 division truncates toward zero and throws
 * {@link ArithmeticException} on a zero divisor; an INT64 array combined with a fractional scalar
 * (or POW) is computed in float64 and truncated toward zero; gather/scatterAdd indices lie in
 * {@code [0, n)}; slices need {@code 0 <= begin <= end <= dim}; conversions to INT64 reject NaN,
 * infinities and values beyond the INT64 range.
 *
 * <p>Random kernels seed PyTorch's process-wide default generator and sample under a lock; other
 * users of PyTorch in the same process share that generator.
 */
public final class DjlKernels implements Kernels {
    /** PyTorch's default generator is process-wide: seeding and sampling must not interleave. */
    private static final Object TORCH_GENERATOR_LOCK = new Object();

    /** 2^63: the first magnitude an INT64 cannot hold. */
    private static final double INT64_LIMIT = 9.223372036854775807E18;

    private static final DataType[] DATA_TYPES = {DataType.FLOAT32, DataType.FLOAT64, DataType.INT64};

    private final PtNDManager manager;
    private final ai.djl.Device device;
    private final Device spiDevice;
    private final ScalarCache scalars;
    private final HostMemory host = new HostMemory();
    /**
     * Float32 CPU products of at least this many multiply-adds go to oneDNN ({@link OneDnnGemm}; chosen by
     * {@link DjlBackend}); Long.MAX_VALUE when none do.
     */
    private final long oneDnnMinMultiplyAdds;
    /** Device-to-host reads so far, the ones kernels make internally included (for tests: a hot path makes none). */
    private final java.util.concurrent.atomic.LongAdder hostReads = new java.util.concurrent.atomic.LongAdder();
    /** Products oneDNN computed so far (for tests: which route a product took). */
    private final java.util.concurrent.atomic.LongAdder oneDnnProducts = new java.util.concurrent.atomic.LongAdder();

    DjlKernels(PtNDManager manager, ai.djl.Device device, Device spiDevice, ScalarCache scalars,
               dev.metaforge.spi.CpuGemmChoice.Choice gemm) {
        this.oneDnnMinMultiplyAdds = gemm.minMultiplyAdds();
        this.manager = manager;
        this.device = device;
        this.spiDevice = spiDevice;
        this.scalars = scalars;
    }

    @Override
    public String backendName() {
        return DjlBackend.NAME;
    }

    static DataType dataType(DType dtype) {
        return DATA_TYPES[dtype.ordinal()];
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
                if (!isInt64(data[i])) {
                    throw new IllegalArgumentException("djl fromDoubles: INT64 value " + data[i] + " at index " + i
                            + " is not a whole number within the INT64 range");
                }
            }
        }
        return create(shape, dtype, bytes -> {
            switch (dtype) {
                case FLOAT64 -> bytes.asDoubleBuffer().put(data);
                case FLOAT32 -> {
                    FloatBuffer f = bytes.asFloatBuffer();
                    for (int i = 0; i < data.length; i++) {
                        f.put(i, (float) data[i]);
                    }
                }
                case INT64 -> {
                    LongBuffer l = bytes.asLongBuffer();
                    for (int i = 0; i < data.length; i++) {
                        l.put(i, (long) data[i]);
                    }
                }
            }
        });
    }

    @Override
    public NativeArray fromFloats(float[] data, Shape shape) {
        requireNonNull(data, "fromFloats: data is null");
        requireNonNull(shape, "fromFloats: shape is null");
        checkLength("fromFloats", data.length, shape);
        return create(shape, DType.FLOAT32, bytes -> bytes.asFloatBuffer().put(data));
    }

    @Override
    public NativeArray fromLongs(long[] data, Shape shape) {
        requireNonNull(data, "fromLongs: data is null");
        requireNonNull(shape, "fromLongs: shape is null");
        checkLength("fromLongs", data.length, shape);
        return create(shape, DType.INT64, bytes -> bytes.asLongBuffer().put(data));
    }

    /**
     * A new tensor owned by PyTorch, filled on the CPU through a direct view of its own memory, then
     * moved to the compute device. (DJL's {@code create(Buffer)} would make PyTorch borrow a Java
     * direct buffer instead: freed only by the garbage collector, and unsafe for views that
     * outlive the array.)
     */
    private NativeArray create(Shape shape, DType dtype, Consumer<ByteBuffer> fill) {
        PtNDArray host = JniUtils.createEmptyNdArray(manager, djlShape(shape), dataType(dtype), ai.djl.Device.cpu(),
                SparseFormat.DENSE);
        try {
            if (shape.size() > 0) {
                fill.accept(JniUtils.getByteBuffer(host, true));
            }
            if (device.isGpu()) {
                try (PtNDArray cpu = host) {
                    host = null;
                    host = JniUtils.to(cpu, dataType(dtype), device);
                }
            }
            return wrap(host, dtype, shape);
        } catch (RuntimeException e) {
            if (host != null) {
                host.close();
            }
            throw e;
        }
    }

    @Override
    public NativeArray full(Shape shape, double value, DType dtype) {
        requireNonNull(shape, "full: shape is null");
        requireNonNull(dtype, "full: dtype is null");
        if (dtype == DType.INT64 && !isInt64(value)) {
            throw new IllegalArgumentException("djl full: INT64 value " + value + " is not a whole number within the INT64 range");
        }
        return wrap(JniUtils.full(manager, djlShape(shape), value, dataType(dtype), device, SparseFormat.DENSE), dtype, shape);
    }

    /**
     * Seeds PyTorch's process-wide default generator with {@code seed}, then samples (under a lock,
     * so concurrent calls cannot interleave seeding and sampling).
     */
    @Override
    public NativeArray randomUniform(Shape shape, DType dtype, double low, double high, long seed) {
        requireNonNull(shape, "randomUniform: shape is null");
        requireFloating("randomUniform", requireNonNull(dtype, "randomUniform: dtype is null"));
        if (!(Double.isFinite(low) && Double.isFinite(high) && low <= high)) {
            throw new IllegalArgumentException("djl randomUniform: need finite low <= high, got low=" + low + ", high=" + high);
        }
        PtNDArray r;
        synchronized (TORCH_GENERATOR_LOCK) {
            JniUtils.setSeed(seed);
            r = JniUtils.uniform(manager, low, high, djlShape(shape), dataType(dtype), device);
        }
        if (low < high) {
            // low + (high - low) * u can round up to high; keep samples below it
            double below = dtype == DType.FLOAT32
                    ? ((float) high < high ? (float) high : Math.nextDown((float) high))
                    : Math.nextDown(high);
            try (PtNDArray unclamped = r) {
                r = elementwiseScalar(BinaryOp.MINIMUM, unclamped, Math.max(below, low), dtype);
            }
        }
        return wrap(r, dtype, shape);
    }

    /** Same determinism contract and generator as {@link #randomUniform}. */
    @Override
    public NativeArray randomNormal(Shape shape, DType dtype, double mean, double std, long seed) {
        requireNonNull(shape, "randomNormal: shape is null");
        requireFloating("randomNormal", requireNonNull(dtype, "randomNormal: dtype is null"));
        if (!(Double.isFinite(mean) && Double.isFinite(std) && std >= 0)) {
            throw new IllegalArgumentException("djl randomNormal: need finite mean and std >= 0, got mean=" + mean + ", std=" + std);
        }
        synchronized (TORCH_GENERATOR_LOCK) {
            JniUtils.setSeed(seed);
            return wrap(JniUtils.normal(manager, mean, std, djlShape(shape), dataType(dtype), device), dtype, shape);
        }
    }

    // ---- copying out ----------------------------------------------------------------------

    @Override
    public double[] toDoubles(NativeArray x) {
        DjlArray a = arg(x, "toDoubles");
        double[] out = new double[a.shape().sizeAsInt()];
        if (out.length > 0) {
            ByteBuffer bytes = hostBytes(a.nd("toDoubles"));
            switch (a.dtype()) {
                case FLOAT64 -> bytes.asDoubleBuffer().get(out);
                case FLOAT32 -> {
                    FloatBuffer f = bytes.asFloatBuffer();
                    for (int i = 0; i < out.length; i++) {
                        out[i] = f.get(i);
                    }
                }
                case INT64 -> {
                    LongBuffer l = bytes.asLongBuffer();
                    for (int i = 0; i < out.length; i++) {
                        out[i] = l.get(i);
                    }
                }
            }
        }
        return out;
    }

    @Override
    public float[] toFloats(NativeArray x) {
        DjlArray a = arg(x, "toFloats");
        float[] out = new float[a.shape().sizeAsInt()];
        if (out.length > 0) {
            ByteBuffer bytes = hostBytes(a.nd("toFloats"));
            switch (a.dtype()) {
                case FLOAT32 -> bytes.asFloatBuffer().get(out);
                case FLOAT64 -> {
                    DoubleBuffer d = bytes.asDoubleBuffer();
                    for (int i = 0; i < out.length; i++) {
                        out[i] = (float) d.get(i);
                    }
                }
                case INT64 -> {
                    LongBuffer l = bytes.asLongBuffer();
                    for (int i = 0; i < out.length; i++) {
                        out[i] = l.get(i);
                    }
                }
            }
        }
        return out;
    }

    @Override
    public long[] toLongs(NativeArray x) {
        DjlArray a = arg(x, "toLongs");
        long[] out = new long[a.shape().sizeAsInt()];
        if (out.length > 0) {
            ByteBuffer bytes = hostBytes(a.nd("toLongs"));
            switch (a.dtype()) {
                case INT64 -> bytes.asLongBuffer().get(out);
                case FLOAT64 -> {
                    DoubleBuffer d = bytes.asDoubleBuffer();
                    for (int i = 0; i < out.length; i++) {
                        out[i] = truncateToLong(d.get(i), i);
                    }
                }
                case FLOAT32 -> {
                    FloatBuffer f = bytes.asFloatBuffer();
                    for (int i = 0; i < out.length; i++) {
                        out[i] = truncateToLong(f.get(i), i);
                    }
                }
            }
        }
        return out;
    }

    private static long truncateToLong(double v, int index) {
        if (!(Math.abs(v) < INT64_LIMIT)) {
            throw new IllegalArgumentException("djl toLongs: value " + v + " at index " + index
                    + " has no INT64 value (NaN, infinite or out of range)");
        }
        return (long) v;
    }

    /**
     * The row-major bytes of {@code nd} in a heap buffer: one JNI copy that also makes views
     * (transposed, sliced, broadcast) contiguous, with no temporary left in the manager.
     */
    private ByteBuffer hostBytes(PtNDArray nd) {
        hostReads.increment();
        if (!device.isGpu()) {
            return nd.toByteBuffer(false);
        }
        PtNDArray host = JniUtils.to(nd, nd.getDataType(), ai.djl.Device.cpu());
        NDManager staging = host.getManager(); // DJL made a CPU sub-manager for the copy
        try {
            return host.toByteBuffer(false);
        } finally {
            host.close();
            if (staging != manager) {
                staging.close();
            }
        }
    }

    // ---- elementwise ----------------------------------------------------------------------

    @Override
    public NativeArray unary(UnaryOp op, NativeArray x) {
        DjlArray a = arg(x, op);
        DType dtype = a.dtype();
        if (!(op == UnaryOp.NEG || op == UnaryOp.ABS || op == UnaryOp.SIGN || op == UnaryOp.SQUARE || op == UnaryOp.RELU)) {
            KernelChecks.floating("djl unary " + op, dtype);
        }
        PtNDArray p = a.nd(op);
        try {
            PtNDArray r = switch (op) {
                case NEG -> JniUtils.neg(p);
                case ABS -> JniUtils.abs(p);
                case SIGN -> JniUtils.sign(p);
                case EXP -> JniUtils.exp(p);
                case LOG -> JniUtils.log(p);
                case SQRT -> JniUtils.sqrt(p);
                case SQUARE -> JniUtils.square(p);
                case RECIPROCAL -> reciprocal(p, dtype);
                case TANH -> JniUtils.tanh(p);
                case SIGMOID -> JniUtils.sigmoid(p);
                case RELU -> JniUtils.relu(p);
                case SIN -> JniUtils.sin(p);
                case COS -> JniUtils.cos(p);
            };
            return wrap(r, dtype, a.knownShape());
        } catch (EngineException e) {
            throw failure(e, "unary " + op, a);
        }
    }

    /** 1 / x, exactly as a division (DJL exposes no reciprocal and pow(x, -1) may differ by an ulp). */
    private PtNDArray reciprocal(PtNDArray p, DType dtype) {
        PtNDArray one = scalar(dtype, 1.0);
        try {
            PtNDArray r = JniUtils.div(one, p);
            if (r.getManager() != manager) {
                r.attach(manager); // results join their first operand's manager, here the constants'
            }
            return r;
        } finally {
            release(one);
        }
    }

    @Override
    public NativeArray binary(BinaryOp op, NativeArray a, NativeArray b) {
        DjlArray x = arg(a, op);
        DjlArray y = arg(b, op);
        DType dtype = x.dtype();
        KernelChecks.sameDType("djl " + "binary " + op, dtype, y.dtype());
        PtNDArray p = x.nd(op);
        PtNDArray q = y.nd(op);
        try {
            PtNDArray r;
            if (dtype == DType.INT64 && (op == BinaryOp.DIV || op == BinaryOp.POW)) {
                if (op == BinaryOp.DIV && anyZero(q, dtype)) {
                    throw new ArithmeticException("djl binary DIV: INT64 division by zero");
                }
                try (PtNDArray p64 = JniUtils.to(p, DataType.FLOAT64, device);
                     PtNDArray q64 = JniUtils.to(q, DataType.FLOAT64, device);
                     PtNDArray r64 = elementwise(op, p64, q64, DType.FLOAT64)) {
                    r = truncateToInt64("binary " + op, r64);
                }
            } else {
                r = elementwise(op, p, q, dtype);
            }
            return wrap(r, dtype, sameShape(x.knownShape(), y.knownShape()));
        } catch (EngineException e) {
            throw failure(e, "binary " + op, x, y);
        }
    }

    /**
     * Uses a cached 0-d tensor of the array's dtype for the scalar (a FLOAT32 array thus sees the
     * scalar rounded to float32). An INT64 array with a fractional scalar, DIV or POW is computed
     * in float64 and truncated toward zero.
     */
    @Override
    public NativeArray binaryScalar(BinaryOp op, NativeArray a, double scalar) {
        DjlArray x = arg(a, op);
        DType dtype = x.dtype();
        PtNDArray p = x.nd(op);
        try {
            PtNDArray r;
            if (dtype == DType.INT64 && (op == BinaryOp.DIV || op == BinaryOp.POW || !isInt64(scalar))) {
                if (op == BinaryOp.DIV && scalar == 0) {
                    throw new ArithmeticException("djl binaryScalar DIV: INT64 division by zero");
                }
                try (PtNDArray p64 = JniUtils.to(p, DataType.FLOAT64, device);
                     PtNDArray r64 = elementwiseScalar(op, p64, scalar, DType.FLOAT64)) {
                    r = truncateToInt64("binaryScalar " + op, r64);
                }
            } else {
                r = elementwiseScalar(op, p, scalar, dtype);
            }
            return wrap(r, dtype, x.knownShape());
        } catch (EngineException e) {
            throw failure(e, "binaryScalar " + op, x);
        }
    }

    private PtNDArray elementwiseScalar(BinaryOp op, PtNDArray p, double scalar, DType dtype) {
        PtNDArray s = scalar(dtype, scalar);
        try {
            return elementwise(op, p, s, dtype);
        } finally {
            release(s);
        }
    }

    /** One native call, plus a cast for comparisons (PyTorch gives booleans). */
    private PtNDArray elementwise(BinaryOp op, PtNDArray p, PtNDArray q, DType dtype) {
        return switch (op) {
            case ADD -> JniUtils.add(p, q);
            case SUB -> JniUtils.sub(p, q);
            case MUL -> JniUtils.mul(p, q);
            case DIV -> JniUtils.div(p, q);
            case POW -> JniUtils.pow(p, q);
            case MAXIMUM -> JniUtils.max(p, q);
            case MINIMUM -> JniUtils.min(p, q);
            case EQ -> ofDtype(JniUtils.eq(p, q), dtype);
            case NE -> ofDtype(JniUtils.neq(p, q), dtype);
            case LT -> ofDtype(JniUtils.lt(p, q), dtype);
            case LE -> ofDtype(JniUtils.lte(p, q), dtype);
            case GT -> ofDtype(JniUtils.gt(p, q), dtype);
            case GE -> ofDtype(JniUtils.gte(p, q), dtype);
        };
    }

    /** Converts (and frees) a boolean mask to 1/0 in {@code dtype}. */
    private PtNDArray ofDtype(PtNDArray mask, DType dtype) {
        try (mask) {
            return JniUtils.to(mask, dataType(dtype), device);
        }
    }

    /** Float64 results to INT64, truncated toward zero; ArithmeticException when one does not fit. */
    private PtNDArray truncateToInt64(String op, PtNDArray r64) {
        if (!allWithinInt64(r64, DType.FLOAT64)) {
            throw new ArithmeticException("djl " + op + ": an INT64 result is not a finite integer within range"
                    + " (division by zero or overflow?)");
        }
        return JniUtils.to(r64, DataType.INT64, device);
    }

    /** True when every |v| < 2^63 (so false for NaN and infinities). */
    private boolean allWithinInt64(PtNDArray p, DType dtype) {
        PtNDArray limit = scalar(dtype, INT64_LIMIT);
        try (PtNDArray abs = JniUtils.abs(p);
             PtNDArray within = JniUtils.lt(abs, limit);
             PtNDArray all = JniUtils.all(within)) {
            return readBoolean(all);
        } finally {
            release(limit);
        }
    }

    private boolean anyZero(PtNDArray q, DType dtype) {
        PtNDArray zero = scalar(dtype, 0.0);
        try (PtNDArray isZero = JniUtils.eq(q, zero);
             PtNDArray any = JniUtils.any(isZero)) {
            return readBoolean(any);
        } finally {
            release(zero);
        }
    }

    /** How many device-to-host reads this object has made (copies out and internal checks alike). */
    long hostReads() {
        return hostReads.sum();
    }

    long oneDnnProducts() {
        return oneDnnProducts.sum();
    }

    private boolean readBoolean(PtNDArray scalarBool) {
        return hostBytes(scalarBool).get(0) != 0;
    }

    @Override
    public NativeArray where(NativeArray condition, NativeArray onTrue, NativeArray onFalse) {
        DjlArray c = arg(condition, "where");
        DjlArray t = arg(onTrue, "where");
        DjlArray f = arg(onFalse, "where");
        KernelChecks.sameDType("djl " + "where", t.dtype(), f.dtype());
        DType cd = c.dtype();
        PtNDArray zero = scalar(cd, 0.0);
        try (PtNDArray mask = JniUtils.neq(c.nd("where"), zero)) {
            PtNDArray r = JniUtils.where(mask, t.nd("where"), f.nd("where"));
            Shape s = sameShape(c.knownShape(), t.knownShape());
            return wrap(r, t.dtype(), sameShape(s, f.knownShape()));
        } catch (EngineException e) {
            throw failure(e, "where", c, t, f);
        } finally {
            release(zero);
        }
    }

    @Override
    public NativeArray cast(NativeArray x, DType dtype) {
        requireNonNull(dtype, "cast: dtype is null");
        DjlArray a = arg(x, "cast");
        PtNDArray p = a.nd("cast");
        try {
            PtNDArray r;
            if (dtype == a.dtype()) {
                r = JniUtils.clone(p); // PyTorch's to() would return an alias
            } else {
                if (dtype == DType.INT64 && !allWithinInt64(p, a.dtype())) {
                    throw new IllegalArgumentException("djl cast to INT64: the " + a.dtype() + " array holds NaN,"
                            + " an infinity or a value beyond the INT64 range");
                }
                r = JniUtils.to(p, dataType(dtype), device); // float to INT64 truncates toward zero
            }
            return wrap(r, dtype, a.knownShape());
        } catch (EngineException e) {
            throw failure(e, "cast to " + dtype, a);
        }
    }

    // ---- linear algebra -------------------------------------------------------------------

    @Override
    public NativeArray matmul(NativeArray a, NativeArray b) {
        DjlArray x = arg(a, "matmul");
        DjlArray y = arg(b, "matmul");
        Shape out = matmulShape(x, y);
        try {
            return wrap(product(x.nd("matmul"), x.shape(), false, y.nd("matmul"), y.shape(), false, out, x.dtype()), x.dtype(), out);
        } catch (EngineException e) {
            throw failure(e, "matmul", x, y);
        }
    }

    /**
     * The SPI's composition (transposed views, then matmul), except for the products with a size-1
     * dimension, which take {@link #product}'s elementwise route with the flags folded in, and the ones
     * {@link #oneDnnProduct} takes with the flags passed to its GEMM.
     */
    @Override
    public NativeArray matmul(NativeArray a, NativeArray b, boolean transposeA, boolean transposeB) {
        DjlArray x = arg(a, "matmul");
        DjlArray y = arg(b, "matmul");
        if (x.shape().rank() < 2 || y.shape().rank() < 2 || (!transposeA && !transposeB)) {
            return Kernels.super.matmul(a, b, transposeA, transposeB);
        }
        Shape out = matmulShape(logical(x.shape(), transposeA), logical(y.shape(), transposeB), x.dtype(), y.dtype());
        PtNDArray small;
        try {
            small = degenerateProduct(x.nd("matmul"), x.shape(), transposeA, y.nd("matmul"), y.shape(), transposeB, out);
            if (small == null) {
                small = oneDnnProduct(x.nd("matmul"), x.shape(), transposeA, y.nd("matmul"), y.shape(), transposeB, out,
                        x.dtype());
            }
        } catch (EngineException e) {
            throw failure(e, "matmul", x, y);
        }
        return small != null ? wrap(small, x.dtype(), out) : Kernels.super.matmul(a, b, transposeA, transposeB);
    }

    /** {@code s} with its last two axes swapped when {@code transpose}. */
    private static Shape logical(Shape s, boolean transpose) {
        if (!transpose) {
            return s;
        }
        int[] d = s.dims();
        int r = d.length;
        int t = d[r - 1];
        d[r - 1] = d[r - 2];
        d[r - 2] = t;
        return Shape.of(d);
    }

    /**
     * {@code a @ b} (no flags) into a fresh tensor: {@link #degenerateProduct} where it applies, else
     * {@link #oneDnnProduct} where that applies, else libtorch's matmul.
     */
    private PtNDArray product(PtNDArray a, Shape sa, boolean ta, PtNDArray b, Shape sb, boolean tb, Shape out, DType dtype) {
        PtNDArray r = degenerateProduct(a, sa, ta, b, sb, tb, out);
        if (r == null) {
            r = oneDnnProduct(a, sa, ta, b, sb, tb, out, dtype);
        }
        return r != null ? r : JniUtils.matmul(a, b);
    }

    /**
     * {@code op(a) @ op(b)} by oneDNN's sgemm on the operands' own memory ({@link OneDnnGemm}), or null when
     * oneDNN is not this backend's GEMM or the product is not one it takes: float32, b a matrix, a a matrix
     * or (untransposed) a stack of them whose rows fold into one matrix (a linear layer over [B, T, d]), both
     * contiguous, at least the chosen number of multiply-adds. The flags are the GEMM's, so
     * a transposed operand is read where it lies.
     */
    private PtNDArray oneDnnProduct(PtNDArray a, Shape sa, boolean ta, PtNDArray b, Shape sb, boolean tb, Shape out,
                                    DType dtype) {
        if (oneDnnMinMultiplyAdds == Long.MAX_VALUE || dtype != DType.FLOAT32 || sb.rank() != 2 || (ta && sa.rank() != 2)
                || out.size() == 0) {
            return null;
        }
        long k = ta ? sa.dim(-2) : sa.dim(-1);
        long m = out.size() / out.dim(-1);
        long n = out.dim(-1);
        if (k == 0 || m * n * k < oneDnnMinMultiplyAdds || m > Integer.MAX_VALUE) {
            return null;
        }
        ByteBuffer av = host.view(a);
        ByteBuffer bv = av == null ? null : host.view(b);
        if (bv == null) {
            return null;
        }
        PtNDArray c = JniUtils.createEmptyNdArray(manager, djlShape(out), DataType.FLOAT32, ai.djl.Device.cpu(),
                SparseFormat.DENSE);
        try {
            OneDnnGemm.sgemm(ta, tb, (int) m, (int) n, (int) k, av, sa.dim(-1), bv, sb.dim(-1),
                    JniUtils.getByteBuffer(c, true));
            oneDnnProducts.increment();
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Elements of the multiply's temporary above which {@link #degenerateProduct} leaves a matrix-vector product to GEMM. */
    private static final long DEGENERATE_PRODUCT_LIMIT = 1 << 17;

    /**
     * {@code op(a) @ op(b)} (op transposes the last two axes where the flag is set) when k or n is 1:
     * k = 1 (an outer product) as one broadcast multiply, n = 1 (a matrix-vector product) as a
     * broadcast multiply and a sum over k, a transposed operand read through a reshape (a size-1 axis
     * moves without moving data) or through the axis summed over. m = 1 stays with GEMM, which was as
     * fast as the two elementwise calls there. Null when none applies, an operand
     * or the result is empty, or a matrix-vector product's temporary would exceed
     * {@link #DEGENERATE_PRODUCT_LIMIT} elements. Why: libtorch sends these through batched GEMM, whose
     * fixed cost (packing, scaling C) made MAML's outer products ([25, 10, 1] x [25, 1, 40]: 15-37 us) and
     * its [25, 50, 40]^T x [25, 50, 1] product (73 us) several times the elementwise kernels' cost
     * (13-20 and 31 us)
     * ({@code bench/run.sh KernelProfileMain --workload maml --backend djl --by-shape true}). The sums
     * run in libtorch's order rather than BLAS's, so the values differ from GEMM's in the last bits
     * (TCK KERNEL-MATMUL-1/3 hold them to the float64 reference).
     */
    private static PtNDArray degenerateProduct(PtNDArray a, Shape sa, boolean ta, PtNDArray b, Shape sb, boolean tb, Shape out) {
        int m = ta ? sa.dim(-1) : sa.dim(-2);
        int k = ta ? sa.dim(-2) : sa.dim(-1);
        int n = tb ? sb.dim(-2) : sb.dim(-1);
        if (out.size() == 0 || k == 0 || (k != 1 && n != 1) || sa.size() == 0 || sb.size() == 0) {
            return null;
        }
        if (k != 1 && out.size() * k > DEGENERATE_PRODUCT_LIMIT) {
            return null;
        }
        java.util.ArrayList<PtNDArray> temps = new java.util.ArrayList<>(4);
        try {
            PtNDArray r;
            if (k == 1) {
                // [.., m, 1] * [.., 1, n]
                PtNDArray col = ta ? temp(temps, JniUtils.reshape(a, lastTwo(sa, m, 1))) : a;
                PtNDArray row = tb ? temp(temps, JniUtils.reshape(b, lastTwo(sb, 1, n))) : b;
                r = JniUtils.mul(col, row);
            } else if (n == 1 && !ta) {
                // out[.., i, 0] = sum_p a[.., i, p] * b[.., p, 0]: b as a row [.., 1, k], summed over the last axis
                PtNDArray row = tb ? b : temp(temps, JniUtils.reshape(b, lastTwo(sb, 1, k)));
                PtNDArray t = temp(temps, JniUtils.mul(a, row));
                r = JniUtils.sum(t, new long[] {rankOf(t) - 1}, true);
            } else {
                // n = 1, a lies as [.., k, m]: b as a column [.., k, 1], summed over axis -2 into [.., 1, m]
                PtNDArray col = tb ? temp(temps, JniUtils.reshape(b, lastTwo(sb, k, 1))) : b;
                PtNDArray t = temp(temps, JniUtils.mul(a, col));
                r = JniUtils.sum(t, new long[] {rankOf(t) - 2}, true);
            }
            if (!Arrays.equals(r.getShape().getShape(), longs(out))) {
                // [.., 1, m] for [.., m, 1] and the like: same elements, same order
                temps.add(r);
                r = JniUtils.reshape(r, longs(out));
            }
            return r;
        } finally {
            temps.forEach(PtNDArray::close);
        }
    }

    private static PtNDArray temp(List<PtNDArray> temps, PtNDArray t) {
        temps.add(t);
        return t;
    }

    private static int rankOf(PtNDArray t) {
        return t.getShape().dimension();
    }

    /** {@code s}'s dims with the last two replaced by {@code rows, cols}. */
    private static long[] lastTwo(Shape s, int rows, int cols) {
        long[] d = longs(s);
        d[d.length - 2] = rows;
        d[d.length - 1] = cols;
        return d;
    }

    /** Checks a matmul and gives its output shape: NumPy semantics for rank >= 2, no vectors. */
    private static Shape matmulShape(DjlArray x, DjlArray y) {
        return matmulShape(x.shape(), y.shape(), x.dtype(), y.dtype());
    }

    private static Shape matmulShape(Shape sa, Shape sb, DType ta, DType tb) {
        if (sa.rank() < 2 || sb.rank() < 2) {
            throw new IllegalArgumentException("djl matmul: operands must have rank >= 2 (rank-1 vectors are not accepted;"
                    + " reshape a vector to [1, n] or [n, 1]), got " + sa + " @ " + sb);
        }
        KernelChecks.sameDType("djl " + "matmul", ta, tb);
        requireFloating("matmul", ta);
        if (sb.dim(-2) != sa.dim(-1)) {
            throw new IllegalArgumentException("djl matmul: inner dimensions differ: " + sa + " @ " + sb);
        }
        int[] da = sa.dims();
        int[] db = sb.dims();
        Shape batch;
        try {
            batch = Shape.broadcast(Shape.of(Arrays.copyOf(da, da.length - 2)), Shape.of(Arrays.copyOf(db, db.length - 2)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("djl matmul: batch dimensions do not broadcast: " + sa + " @ " + sb, e);
        }
        int[] out = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        out[batch.rank()] = da[da.length - 2];
        out[batch.rank() + 1] = db[db.length - 1];
        return Shape.of(out);
    }

    /**
     * {@code x @ w}, then the bias added in place into that fresh product: two native calls and no
     * third array (the composed default allocates the sum separately). Same arithmetic as the
     * default, so the results are identical. A bias that would enlarge the product's shape takes
     * the default path. (PyTorch's addmm through DJL needs the weight transposed first, an extra
     * call that made tiny layers slower, not faster.)
     */
    @Override
    public NativeArray linear(NativeArray x, NativeArray w, NativeArray b) {
        DjlArray xa = arg(x, "linear");
        DjlArray wa = arg(w, "linear");
        Shape out = matmulShape(xa, wa);
        DjlArray ba = null;
        if (b != null) {
            ba = arg(b, "linear");
            if (ba.dtype() != xa.dtype() || !broadcastsInto(ba.shape(), out)) {
                return Kernels.super.linear(x, w, b);
            }
        }
        PtNDArray y = null;
        try {
            y = product(xa.nd("linear"), xa.shape(), false, wa.nd("linear"), wa.shape(), false, out, xa.dtype());
            if (ba != null) {
                JniUtils.addi(y, ba.nd("linear"));
            }
            return wrap(y, xa.dtype(), out);
        } catch (RuntimeException e) {
            if (y != null) {
                y.close();
            }
            if (e instanceof EngineException ee) {
                throw failure(ee, "linear", xa, wa, ba);
            }
            throw e;
        }
    }

    /** True when {@code from} broadcasts to {@code to} without enlarging it. */
    private static boolean broadcastsInto(Shape from, Shape to) {
        if (from.rank() > to.rank()) {
            return false;
        }
        for (int i = 1; i <= from.rank(); i++) {
            int d = from.dim(-i);
            if (d != 1 && d != to.dim(-i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The composed default's arithmetic in the same order (so the same bits), with each
     * intermediate updated in place where it is a fresh temporary: 9 arrays allocated instead of
     * 15. DJL's own native Adam was slower than this (it clones and allocates internally too) and
     * takes float hyper-parameters.
     */
    @Override
    public AdamResult adamUpdate(NativeArray param, NativeArray grad, NativeArray m, NativeArray v, AdamStep h) {
        requireNonNull(h, "adamUpdate: step is null");
        DjlArray pa = arg(param, "adamUpdate");
        DjlArray ga = arg(grad, "adamUpdate");
        DjlArray ma = arg(m, "adamUpdate");
        DjlArray va = arg(v, "adamUpdate");
        DType dtype = pa.dtype();
        requireFloating("adamUpdate", dtype);
        Shape shape = pa.shape();
        for (DjlArray o : new DjlArray[] {ga, ma, va}) {
            KernelChecks.sameDType("djl " + "adamUpdate", o.dtype(), dtype);
            if (!o.shape().equals(shape)) {
                throw new IllegalArgumentException("djl adamUpdate: param, grad, m and v must have one shape, got "
                        + shape + ", " + ga.shape() + ", " + ma.shape() + ", " + va.shape());
            }
        }
        try {
            PtNDArray[] onHost = hostAdam(pa.nd("adamUpdate"), ga.nd("adamUpdate"), ma.nd("adamUpdate"), va.nd("adamUpdate"),
                    false, h, dtype, shape);
            if (onHost != null) {
                return new AdamResult(wrap(onHost[0], dtype, shape), wrap(onHost[1], dtype, shape), wrap(onHost[2], dtype, shape));
            }
            return adam(pa.nd("adamUpdate"), ga.nd("adamUpdate"), ma.nd("adamUpdate"), va.nd("adamUpdate"), h, dtype, shape);
        } catch (EngineException e) {
            throw failure(e, "adamUpdate", pa, ga, ma, va);
        }
    }

    private AdamResult adam(PtNDArray param, PtNDArray grad, PtNDArray m, PtNDArray v, AdamStep h, DType dtype, Shape shape) {
        double c1 = 1 - Math.pow(h.beta1(), h.step());
        double c2 = 1 - Math.pow(h.beta2(), h.step());
        boolean coupledDecay = h.weightDecay() != 0 && !h.decoupledWeightDecay();
        PtNDArray newM = null;
        PtNDArray newV = null;
        try (PtNDArray decayed = coupledDecay ? elementwiseScalar(BinaryOp.MUL, param, h.weightDecay(), dtype) : null) {
            if (decayed != null) {
                JniUtils.addi(decayed, grad); // param * wd + grad: the default's grad + scaled param
            }
            PtNDArray g = decayed == null ? grad : decayed;
            newM = elementwiseScalar(BinaryOp.MUL, m, h.beta1(), dtype);
            try (PtNDArray gm = elementwiseScalar(BinaryOp.MUL, g, 1 - h.beta1(), dtype)) {
                JniUtils.addi(newM, gm);
            }
            newV = elementwiseScalar(BinaryOp.MUL, v, h.beta2(), dtype);
            try (PtNDArray gv = JniUtils.square(g)) {
                inPlace(BinaryOp.MUL, gv, 1 - h.beta2(), dtype);
                JniUtils.addi(newV, gv);
            }
            PtNDArray step;
            try (PtNDArray denom = elementwiseScalar(BinaryOp.DIV, newV, c2, dtype)) {
                // sqrt is not in place in DJL's JNI; one more array
                try (PtNDArray root = JniUtils.sqrt(denom)) {
                    inPlace(BinaryOp.ADD, root, h.epsilon(), dtype);
                    step = JniUtils.div(newM, root);
                }
            }
            PtNDArray newParam;
            try (step) {
                inPlace(BinaryOp.MUL, step, h.learningRate() / c1, dtype);
                if (h.weightDecay() != 0 && h.decoupledWeightDecay()) {
                    newParam = elementwiseScalar(BinaryOp.MUL, param, 1 - h.learningRate() * h.weightDecay(), dtype);
                    JniUtils.subi(newParam, step);
                } else {
                    newParam = JniUtils.sub(param, step);
                }
            }
            return new AdamResult(wrap(newParam, dtype, shape), wrap(newM, dtype, shape), wrap(newV, dtype, shape));
        } catch (RuntimeException e) {
            if (newM != null) {
                newM.close();
            }
            if (newV != null) {
                newV.close();
            }
            throw e;
        }
    }

    /**
     * All parameters in one call, the donated moments updated in place with PyTorch's in-place ops:
     * five parameter-sized temporaries per tensor (the composed update makes eight), the last of
     * which becomes the new parameter. Every value is computed by the same operations, in the same
     * order, as {@link #adamUpdate}, so the result is bit for bit the per-tensor kernel's
     * ({@code DjlInPlaceAdamTest}): switching the override on or off cannot move a run.
     *
     * <p>Why bitwise and not "within a few ulps": an earlier version computed the denominator as
     * {@code sqrt(v) / sqrt(c2) + eps} (torch.optim.Adam's order) instead of {@code sqrt(v / c2) + eps}.
     * Nothing was aliased or shared, but a MAML run amplifies rounding differences, and
     * {@code --spark local[2]} then drifted 4.25e-5 from the in-process run instead of 1.19e-7.
     */
    @Override
    public List<AdamResult> adamUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                              List<NativeArray> v, AdamStep h) {
        return foreachAdam("adamUpdateForeach", params, grads, m, v, h, false);
    }

    /**
     * The foreach update writing each new parameter into its old one's memory where the host pass
     * applies to the entry and that memory is read by no other operand of the call
     * ({@link HostBuffers#sharing}, over every operand's host view); other entries get new arrays.
     */
    @Override
    public List<AdamResult> adamUpdateForeachInPlace(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                                     List<NativeArray> v, AdamStep h) {
        return foreachAdam("adamUpdateForeachInPlace", params, grads, m, v, h, true);
    }

    private List<AdamResult> foreachAdam(String name, List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                         List<NativeArray> v, AdamStep h, boolean donateParams) {
        requireNonNull(h, name + ": step is null");
        KernelChecks.foreachUpdate("djl " + name, params, grads, m, v);
        int n = params.size();
        DjlArray[][] args = new DjlArray[n][];
        for (int i = 0; i < n; i++) {
            // every entry checked before any moment is overwritten
            args[i] = new DjlArray[] {arg(params.get(i), name), arg(grads.get(i), name), arg(m.get(i), name), arg(v.get(i), name)};
            for (DjlArray a : args[i]) {
                a.nd(name);
            }
        }
        ByteBuffer[] views = donateParams ? new ByteBuffer[4 * n] : null;
        boolean[] exclusive = donateParams ? exclusiveParams(args, views) : new boolean[n];
        java.util.ArrayList<AdamResult> out = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            DjlArray[] a = args[i];
            try {
                if (exclusive[i]) {
                    hostAdamInto(views, 4 * i, h, a[0].dtype());
                    out.add(new AdamResult(params.get(i), a[2], a[3]));
                    continue;
                }
                PtNDArray[] onHost = hostAdam(a[0].nd(name), a[1].nd(name), a[2].nd(name), a[3].nd(name), true, h, a[0].dtype(),
                        a[0].shape());
                PtNDArray newParam = onHost != null ? onHost[0]
                        : adamInPlace(a[0].nd(name), a[1].nd(name), a[2].nd(name), a[3].nd(name), h, a[0].dtype());
                out.add(new AdamResult(wrap(newParam, a[0].dtype(), a[0].shape()), a[2], a[3]));
            } catch (EngineException e) {
                closeNewParams(out, params);
                throw failure(e, name, a);
            } catch (RuntimeException e) {
                closeNewParams(out, params);
                throw e;
            }
        }
        return List.copyOf(out);
    }

    private static void closeNewParams(List<AdamResult> done, List<NativeArray> params) {
        for (int i = 0; i < done.size(); i++) {
            if (done.get(i).param() != params.get(i)) {
                done.get(i).param().close();
            }
        }
    }

    /**
     * Which entries' parameters may be overwritten: the host pass applies to all four arrays (the
     * same test {@link #hostAdam} makes) and the parameter's memory overlaps no other operand's.
     * An operand without a host view (strided, GPU) shares nothing with a host view only if its
     * memory is elsewhere, which cannot be shown, so then nothing is donated.
     */
    private boolean[] exclusiveParams(DjlArray[][] args, ByteBuffer[] views) {
        int n = args.length;
        boolean[] out = new boolean[n];
        if (device.isGpu()) {
            return out;
        }
        for (int i = 0; i < 4 * n; i++) {
            DjlArray x = args[i / 4][i % 4];
            if (x.shape().size() == 0) {
                continue; // no memory: views[i] stays null
            }
            views[i] = host.view(x.nd("adamUpdateForeachInPlace"));
            if (views[i] == null) {
                return out;
            }
        }
        boolean[] sharing = HostBuffers.sharing(Arrays.asList(views));
        for (int i = 0; i < n; i++) {
            out[i] = !sharing[4 * i] && args[i][0].shape().size() > 0;
        }
        return out;
    }

    /** The host pass over views {@code at..at+3} (param, grad, m, v), writing the new parameter into the param's memory. */
    private static void hostAdamInto(ByteBuffer[] views, int at, AdamStep h, DType dtype) {
        ByteBuffer pb = views[at];
        ByteBuffer gb = views[at + 1];
        ByteBuffer mb = views[at + 2];
        ByteBuffer vb = views[at + 3];
        if (dtype == DType.FLOAT32) {
            FloatBuffer p = pb.asFloatBuffer();
            h.applyFloat32(p, gb.asFloatBuffer(), mb.asFloatBuffer(), vb.asFloatBuffer(), p, mb.asFloatBuffer(), vb.asFloatBuffer());
        } else {
            DoubleBuffer p = pb.asDoubleBuffer();
            h.applyFloat64(p, gb.asDoubleBuffer(), mb.asDoubleBuffer(), vb.asDoubleBuffer(), p, mb.asDoubleBuffer(),
                    vb.asDoubleBuffer());
        }
    }

    /**
     * Adam as one Java pass over the tensors' own memory ({@link AdamStep#applyFloat32}): the
     * composed update's values, without its eleven native calls and five to eight temporaries per
     * tensor. Returns {new param, new m, new v} (the moments are {@code m} and {@code v}
     * themselves when {@code inPlace}), or null, having allocated and written nothing, when the
     * host path does not apply: a GPU device, an empty or non-float32/64 tensor, a strided view, or
     * no contiguity test (see {@link HostMemory}). Both Adam kernels take the same decision for the
     * same arrays, so the per-tensor and foreach updates stay bit for bit equal.
     */
    private PtNDArray[] hostAdam(PtNDArray param, PtNDArray grad, PtNDArray m, PtNDArray v, boolean inPlace, AdamStep h,
                                 DType dtype, Shape shape) {
        if (device.isGpu() || shape.size() == 0 || (dtype != DType.FLOAT32 && dtype != DType.FLOAT64)) {
            return null;
        }
        ByteBuffer pb = host.view(param);
        ByteBuffer gb = pb == null ? null : host.view(grad);
        ByteBuffer mb = gb == null ? null : host.view(m);
        ByteBuffer vb = mb == null ? null : host.view(v);
        if (vb == null) {
            return null;
        }
        PtNDArray[] out = new PtNDArray[3];
        try {
            out[0] = JniUtils.createEmptyNdArray(manager, djlShape(shape), dataType(dtype), device, SparseFormat.DENSE);
            out[1] = inPlace ? m : JniUtils.createEmptyNdArray(manager, djlShape(shape), dataType(dtype), device, SparseFormat.DENSE);
            out[2] = inPlace ? v : JniUtils.createEmptyNdArray(manager, djlShape(shape), dataType(dtype), device, SparseFormat.DENSE);
            // fresh dense tensors: their direct buffers are their memory
            ByteBuffer np = JniUtils.getByteBuffer(out[0], true);
            ByteBuffer nm = inPlace ? mb : JniUtils.getByteBuffer(out[1], true);
            ByteBuffer nv = inPlace ? vb : JniUtils.getByteBuffer(out[2], true);
            if (dtype == DType.FLOAT32) {
                h.applyFloat32(pb.asFloatBuffer(), gb.asFloatBuffer(), mb.asFloatBuffer(), vb.asFloatBuffer(),
                        np.asFloatBuffer(), nm.asFloatBuffer(), nv.asFloatBuffer());
            } else {
                h.applyFloat64(pb.asDoubleBuffer(), gb.asDoubleBuffer(), mb.asDoubleBuffer(), vb.asDoubleBuffer(),
                        np.asDoubleBuffer(), nm.asDoubleBuffer(), nv.asDoubleBuffer());
            }
            return out;
        } catch (RuntimeException e) {
            if (out[0] != null) {
                out[0].close();
            }
            if (!inPlace) {
                for (int i = 1; i < 3; i++) {
                    if (out[i] != null) {
                        out[i].close();
                    }
                }
            }
            throw e;
        }
    }

    /** Updates {@code m} and {@code v} in place and returns the new parameter (PyTorch's order of operations). */
    private PtNDArray adamInPlace(PtNDArray param, PtNDArray grad, PtNDArray m, PtNDArray v, AdamStep h, DType dtype) {
        double c1 = 1 - Math.pow(h.beta1(), h.step());
        double c2 = 1 - Math.pow(h.beta2(), h.step());
        boolean coupledDecay = h.weightDecay() != 0 && !h.decoupledWeightDecay();
        try (PtNDArray decayed = coupledDecay ? elementwiseScalar(BinaryOp.MUL, param, h.weightDecay(), dtype) : null) {
            if (decayed != null) {
                JniUtils.addi(decayed, grad);
            }
            PtNDArray g = decayed == null ? grad : decayed;
            // m = m * b1 + g * (1 - b1)
            inPlace(BinaryOp.MUL, m, h.beta1(), dtype);
            try (PtNDArray gm = elementwiseScalar(BinaryOp.MUL, g, 1 - h.beta1(), dtype)) {
                JniUtils.addi(m, gm);
            }
            // v = v * b2 + g^2 * (1 - b2)
            inPlace(BinaryOp.MUL, v, h.beta2(), dtype);
            try (PtNDArray gv = JniUtils.square(g)) {
                inPlace(BinaryOp.MUL, gv, 1 - h.beta2(), dtype);
                JniUtils.addi(v, gv);
            }
        }
        // step = m / (sqrt(v / c2) + eps) * lr / c1: the operations of adam() above, so the bits agree
        PtNDArray step;
        try (PtNDArray vHat = elementwiseScalar(BinaryOp.DIV, v, c2, dtype); PtNDArray denom = JniUtils.sqrt(vHat)) {
            inPlace(BinaryOp.ADD, denom, h.epsilon(), dtype);
            step = JniUtils.div(m, denom);
        }
        if (h.weightDecay() != 0 && h.decoupledWeightDecay()) {
            try (step) {
                inPlace(BinaryOp.MUL, step, h.learningRate() / c1, dtype);
                PtNDArray newParam = elementwiseScalar(BinaryOp.MUL, param, 1 - h.learningRate() * h.weightDecay(), dtype);
                JniUtils.subi(newParam, step);
                return newParam;
            }
        }
        try {
            // param + step * -(lr / c1) is exactly param - step * (lr / c1), in step's buffer
            inPlace(BinaryOp.MUL, step, -(h.learningRate() / c1), dtype);
            JniUtils.addi(step, param);
            return step;
        } catch (RuntimeException e) {
            step.close();
            throw e;
        }
    }

    /**
     * All parameters in one call, the donated momentum buffers updated in place: one new array per
     * tensor (the new parameter), plus one with weight decay. The operations are the composed
     * default's, so the bits agree: {@code -(x * lr)} is {@code x * -lr} and {@code p + -s} is {@code p - s}.
     */
    @Override
    public List<SgdResult> sgdUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> buffers,
                                            SgdStep h) {
        String name = "sgdUpdateForeach";
        KernelChecks.sgdForeachUpdate("djl " + name, params, grads, buffers, h);
        int n = params.size();
        boolean momentum = h.momentum() != 0;
        DjlArray[][] args = new DjlArray[n][];
        for (int i = 0; i < n; i++) {
            // every entry checked before any buffer is overwritten
            args[i] = momentum ? new DjlArray[] {arg(params.get(i), name), arg(grads.get(i), name), arg(buffers.get(i), name)}
                    : new DjlArray[] {arg(params.get(i), name), arg(grads.get(i), name)};
            for (DjlArray a : args[i]) {
                a.nd(name);
            }
        }
        java.util.ArrayList<SgdResult> out = new java.util.ArrayList<>(n);
        for (DjlArray[] a : args) {
            DType dtype = a[0].dtype();
            PtNDArray param = a[0].nd(name);
            try (PtNDArray decayed = h.weightDecay() != 0 ? elementwiseScalar(BinaryOp.MUL, param, h.weightDecay(), dtype) : null) {
                PtNDArray d = a[1].nd(name);
                if (decayed != null) {
                    JniUtils.addi(decayed, d); // p * wd + g: the default's g + p * wd
                    d = decayed;
                }
                PtNDArray direction = d;
                if (momentum) {
                    PtNDArray buf = a[2].nd(name);
                    inPlace(BinaryOp.MUL, buf, h.momentum(), dtype);
                    JniUtils.addi(buf, d);
                    direction = buf;
                }
                PtNDArray step = elementwiseScalar(BinaryOp.MUL, direction, -h.learningRate(), dtype);
                try {
                    JniUtils.addi(step, param);
                } catch (RuntimeException e) {
                    step.close();
                    throw e;
                }
                out.add(new SgdResult(wrap(step, dtype, a[0].shape()), momentum ? a[2] : null));
            } catch (EngineException e) {
                out.forEach(r -> r.param().close());
                throw failure(e, name, a);
            } catch (RuntimeException e) {
                out.forEach(r -> r.param().close());
                throw e;
            }
        }
        return List.copyOf(out);
    }

    /**
     * {@code g * sign(relu(x))}: relu then sign gives the float mask (x > 0) directly, 1 where x > 0 and 0 elsewhere,
     * NaN included (relu keeps a NaN and PyTorch's sign maps NaN to 0, checked by ReluBackwardTest). DJL's JNI has no
     * threshold_backward, and every boolean route is slow on this libtorch: gt to bool and the cast to float take
     * about 20 us each for [128, 256] float32 (not vectorised), where(mask, g, 0) 123 us, while relu, sign and mul
     * take 4-5 us each. One array is allocated; sign and the product are computed in place in it.
     * 57 us -> about 15 us per [128, 256] call, 19 -> about 7 us per [25, 10, 40] (CPU time, 1 thread).
     */
    @Override
    public NativeArray reluBackward(NativeArray grad, NativeArray input) {
        KernelChecks.sameShapeAndDType("djl reluBackward", grad, input);
        DjlArray g = arg(grad, "reluBackward");
        DjlArray x = arg(input, "reluBackward");
        requireFloating("reluBackward", x.dtype());
        PtNDArray mask = null;
        try {
            mask = JniUtils.relu(x.nd("reluBackward"));
            JniUtils.signi(mask);
            JniUtils.muli(mask, g.nd("reluBackward"));
            return wrap(mask, g.dtype(), g.knownShape());
        } catch (RuntimeException e) {
            if (mask != null) {
                mask.close();
            }
            if (e instanceof EngineException ee) {
                throw failure(ee, "reluBackward", g, x);
            }
            throw e;
        }
    }

    /**
     * One sum straight into the bias's shape when only leading axes are summed (a linear layer's bias), or only
     * axes the bias keeps as size 1 (a per-task bias [T, 1, n] of a batched linear layer, summed with kept dims).
     */
    @Override
    public NativeArray biasGradient(NativeArray grad, Shape biasShape) {
        int[] axes = KernelChecks.broadcastAxes("djl biasGradient", grad.shape(), biasShape);
        boolean leading = axes.length == grad.shape().rank() - biasShape.rank();
        boolean kept = biasShape.rank() == grad.shape().rank();
        if (axes.length == 0 || !(leading || kept)) {
            return Kernels.super.biasGradient(grad, biasShape);
        }
        DjlArray g = arg(grad, "biasGradient");
        long[] dims = new long[axes.length];
        for (int i = 0; i < axes.length; i++) {
            dims[i] = axes[i];
        }
        try {
            return wrap(JniUtils.sum(g.nd("biasGradient"), dims, kept), g.dtype(), biasShape);
        } catch (EngineException e) {
            throw failure(e, "biasGradient", g);
        }
    }

    /** {@code target op= value}, in place; only for a temporary this class has just created. */
    private void inPlace(BinaryOp op, PtNDArray target, double value, DType dtype) {
        PtNDArray s = scalar(dtype, value);
        try {
            switch (op) {
                case ADD -> JniUtils.addi(target, s);
                case SUB -> JniUtils.subi(target, s);
                case MUL -> JniUtils.muli(target, s);
                case DIV -> JniUtils.divi(target, s);
                default -> throw new IllegalStateException("no in-place " + op);
            }
        } finally {
            release(s);
        }
    }

    /**
     * A 0-d tensor holding {@code value}: the cached one, or (when its cache slot holds another
     * value) a new one in the backend's manager. Hand it back with {@link #release}.
     */
    private PtNDArray scalar(DType dtype, double value) {
        PtNDArray s = scalars.get(dtype, value);
        return s != null ? s : ScalarCache.create(manager, device, dtype, value);
    }

    /** Frees a scalar from {@link #scalar} unless it is cached (cached ones live in another manager). */
    private void release(PtNDArray scalar) {
        if (scalar.getManager() == manager) {
            scalar.close();
        }
    }

    // ---- reductions -----------------------------------------------------------------------

    @Override
    public NativeArray reduce(ReduceOp op, NativeArray x, int[] axes, boolean keepDims) {
        requireNonNull(op, "reduce: op is null");
        requireNonNull(axes, "reduce: axes is null (use an empty array for all axes)");
        DjlArray a = arg(x, op);
        DType dtype = a.dtype();
        if (op == ReduceOp.MEAN) {
            requireFloating("reduce MEAN", dtype);
        }
        Shape shape = a.shape();
        int rank = shape.rank();
        int[] dims = shape.dims();
        boolean[] reduced = new boolean[rank];
        int reducedCount = 0;
        if (axes.length == 0) {
            Arrays.fill(reduced, true);
            reducedCount = rank;
        } else {
            for (int ax : KernelChecks.axes("djl reduce " + op, shape, axes)) {
                reduced[ax] = true;
                reducedCount++;
            }
        }
        long count = 1;
        long[] reducedAxes = new long[reducedCount];
        int[] outDims = new int[keepDims ? rank : rank - reducedCount];
        for (int i = 0, r = 0, o = 0; i < rank; i++) {
            if (reduced[i]) {
                reducedAxes[r++] = i;
                count *= dims[i];
                if (dims[i] == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN)) {
                    throw new IllegalArgumentException("djl reduce " + op + ": cannot reduce over empty axis " + i
                            + " of shape " + shape + "; " + op + " has no identity");
                }
                if (keepDims) {
                    outDims[o++] = 1;
                }
            } else {
                outDims[o++] = dims[i];
            }
        }
        Shape out = Shape.of(outDims);
        PtNDArray p = a.nd(op);
        try {
            PtNDArray r;
            if (reducedCount == 0) {
                r = JniUtils.clone(p); // nothing to reduce (a scalar, or explicit axes on nothing)
            } else {
                r = switch (op) {
                    case SUM -> JniUtils.sum(p, reducedAxes, keepDims);
                    case MEAN -> mean(p, reducedAxes, keepDims, count, dtype);
                    case MAX, MIN -> extremum(op == ReduceOp.MAX, p, reducedAxes, reducedCount == rank, keepDims, out);
                };
            }
            return wrap(r, dtype, out);
        } catch (EngineException e) {
            throw failure(e, "reduce " + op, a);
        }
    }

    private PtNDArray mean(PtNDArray p, long[] axes, boolean keepDims, long count, DType dtype) {
        if (axes.length == 1) {
            return JniUtils.mean(p, axes[0], keepDims); // an empty axis gives 0/0 = NaN
        }
        PtNDArray sum = JniUtils.sum(p, axes, keepDims);
        try {
            inPlace(BinaryOp.DIV, sum, count, dtype); // count 0 gives 0/0 = NaN
            return sum;
        } catch (RuntimeException e) {
            sum.close();
            throw e;
        }
    }

    private PtNDArray extremum(boolean max, PtNDArray p, long[] axes, boolean allAxes, boolean keepDims, Shape out) {
        if (allAxes) {
            PtNDArray all = max ? JniUtils.max(p) : JniUtils.min(p);
            if (!keepDims) {
                return all;
            }
            try (all) {
                return JniUtils.reshape(all, longs(out));
            }
        }
        PtNDArray cur = null;
        try {
            for (long axis : axes) { // keepdim keeps the remaining axis numbers valid
                PtNDArray next = max ? JniUtils.max(cur == null ? p : cur, axis, true) : JniUtils.min(cur == null ? p : cur, axis, true);
                if (cur != null) {
                    cur.close();
                }
                cur = next;
            }
            if (keepDims) {
                return cur;
            }
            try (PtNDArray kept = cur) {
                cur = null;
                return JniUtils.reshape(kept, longs(out));
            }
        } catch (RuntimeException e) {
            if (cur != null) {
                cur.close();
            }
            throw e;
        }
    }

    @Override
    public NativeArray softmax(NativeArray x, int axis) {
        DjlArray a = arg(x, "softmax");
        requireFloating("softmax", a.dtype());
        int ax = axis("softmax", a.shape(), axis);
        try {
            return wrap(JniUtils.softmax(a.nd("softmax"), ax, dataType(a.dtype())), a.dtype(), a.shape());
        } catch (EngineException e) {
            throw failure(e, "softmax", a);
        }
    }

    /**
     * {@code max + log(sum(exp(x - max)))}; where the max is infinite the result is that max (all
     * -inf gives -inf, any +inf gives +inf), NaN propagates, and an empty axis gives -inf. DJL has
     * no logsumexp kernel.
     */
    @Override
    public NativeArray logSumExp(NativeArray x, int axis, boolean keepDims) {
        DjlArray a = arg(x, "logSumExp");
        DType dtype = a.dtype();
        requireFloating("logSumExp", dtype);
        Shape shape = a.shape();
        int ax = axis("logSumExp", shape, axis);
        Shape out = keepDims ? shape.with(ax, 1) : shape.without(ax);
        if (shape.dim(ax) == 0) {
            return full(out, Double.NEGATIVE_INFINITY, dtype);
        }
        PtNDArray p = a.nd("logSumExp");
        try (PtNDArray max = JniUtils.max(p, ax, true)) {
            PtNDArray lse;
            try (PtNDArray shifted = JniUtils.sub(p, max);
                 PtNDArray exp = JniUtils.exp(shifted);
                 PtNDArray sum = JniUtils.sum(exp, new long[] {ax}, true)) {
                lse = JniUtils.log(sum);
            }
            PtNDArray r;
            try (lse; PtNDArray infinite = JniUtils.isInf(max)) {
                JniUtils.addi(lse, max);
                r = JniUtils.where(infinite, max, lse);
            }
            if (keepDims) {
                return wrap(r, dtype, out);
            }
            try (r) {
                return wrap(JniUtils.squeeze(r, ax), dtype, out);
            }
        } catch (EngineException e) {
            throw failure(e, "logSumExp", a);
        }
    }

    /**
     * Small float logits and targets of one shape on the CPU take one Java pass over the tensors'
     * memory ({@link HostCrossEntropy}): the composed default is about a dozen native calls, 139 us
     * on the MLP benchmark's [128, 10]. Anything else (a broadcast target, a large input, a GPU
     * tensor, a strided view) takes the composed default.
     */
    @Override
    public NativeArray softmaxCrossEntropy(NativeArray logits, NativeArray target, int axis) {
        DjlArray x = arg(logits, "softmaxCrossEntropy");
        DjlArray t = arg(target, "softmaxCrossEntropy");
        Shape shape = x.shape();
        DType dtype = x.dtype();
        if (device.isGpu() || dtype != t.dtype() || !shape.equals(t.shape()) || shape.rank() == 0 || shape.size() == 0
                || !HostCrossEntropy.applies(dtype, shape.size())) {
            return Kernels.super.softmaxCrossEntropy(logits, target, axis);
        }
        int ax = axis("softmaxCrossEntropy", shape, axis);
        Shape out = shape.without(ax);
        ByteBuffer xb = host.view(x.nd("softmaxCrossEntropy"));
        ByteBuffer tb = xb == null ? null : host.view(t.nd("softmaxCrossEntropy"));
        if (tb == null) {
            return Kernels.super.softmaxCrossEntropy(logits, target, axis);
        }
        HostCrossEntropy.Layout rows = HostCrossEntropy.Layout.of(shape, ax);
        PtNDArray r = null;
        try {
            r = JniUtils.createEmptyNdArray(manager, djlShape(out), dataType(dtype), device, SparseFormat.DENSE);
            ByteBuffer rb = JniUtils.getByteBuffer(r, true);
            if (dtype == DType.FLOAT32) {
                HostCrossEntropy.float32(xb.asFloatBuffer(), tb.asFloatBuffer(), rb.asFloatBuffer(), rows);
            } else {
                HostCrossEntropy.float64(xb.asDoubleBuffer(), tb.asDoubleBuffer(), rb.asDoubleBuffer(), rows);
            }
            return wrap(r, dtype, out);
        } catch (RuntimeException e) {
            if (r != null) {
                r.close();
            }
            if (e instanceof EngineException ee) {
                throw failure(ee, "softmaxCrossEntropy", x, t);
            }
            throw e;
        }
    }

    /**
     * The logits' VJP of {@link #softmaxCrossEntropy} in one Java pass on the same inputs the forward
     * pass takes ({@link HostCrossEntropy#backwardFloat32}); the composed default (reshape, softmax,
     * subtract, multiply) otherwise.
     */
    @Override
    public NativeArray softmaxCrossEntropyBackward(NativeArray grad, NativeArray logits, NativeArray target, int axis) {
        DjlArray g = arg(grad, "softmaxCrossEntropyBackward");
        DjlArray x = arg(logits, "softmaxCrossEntropyBackward");
        DjlArray t = arg(target, "softmaxCrossEntropyBackward");
        Shape shape = x.shape();
        DType dtype = x.dtype();
        if (device.isGpu() || dtype != t.dtype() || dtype != g.dtype() || !shape.equals(t.shape()) || shape.rank() == 0
                || shape.size() == 0 || !HostCrossEntropy.applies(dtype, shape.size())) {
            return Kernels.super.softmaxCrossEntropyBackward(grad, logits, target, axis);
        }
        int ax = axis("softmaxCrossEntropyBackward", shape, axis);
        if (!g.shape().equals(shape.without(ax))) {
            return Kernels.super.softmaxCrossEntropyBackward(grad, logits, target, axis);
        }
        ByteBuffer gb = host.view(g.nd("softmaxCrossEntropyBackward"));
        ByteBuffer xb = gb == null ? null : host.view(x.nd("softmaxCrossEntropyBackward"));
        ByteBuffer tb = xb == null ? null : host.view(t.nd("softmaxCrossEntropyBackward"));
        if (tb == null) {
            return Kernels.super.softmaxCrossEntropyBackward(grad, logits, target, axis);
        }
        HostCrossEntropy.Layout rows = HostCrossEntropy.Layout.of(shape, ax);
        PtNDArray r = null;
        try {
            r = JniUtils.createEmptyNdArray(manager, djlShape(shape), dataType(dtype), device, SparseFormat.DENSE);
            ByteBuffer rb = JniUtils.getByteBuffer(r, true);
            if (dtype == DType.FLOAT32) {
                HostCrossEntropy.backwardFloat32(gb.asFloatBuffer(), xb.asFloatBuffer(), tb.asFloatBuffer(), rb.asFloatBuffer(), rows);
            } else {
                HostCrossEntropy.backwardFloat64(gb.asDoubleBuffer(), xb.asDoubleBuffer(), tb.asDoubleBuffer(), rb.asDoubleBuffer(), rows);
            }
            return wrap(r, dtype, shape);
        } catch (RuntimeException e) {
            if (r != null) {
                r.close();
            }
            if (e instanceof EngineException ee) {
                throw failure(ee, "softmaxCrossEntropyBackward", g, x, t);
            }
            throw e;
        }
    }

    /**
     * PyTorch's sort and topk do not promise an order among equal values, and DJL exposes no
     * stable sort. So each element gets a distinct integer key (see {@link #orderKeys}); sorting
     * the keys ascending orders by value descending, then index ascending; {@code key mod n} is the
     * index. k = 1 uses argmax, which returns the first maximal index.
     */
    @Override
    public TopK topK(NativeArray x, int k, int axis) {
        DjlArray a = arg(x, "topK");
        DType dtype = a.dtype();
        Shape shape = a.shape();
        int ax = axis("topK", shape, axis);
        int n = shape.dim(ax);
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("djl topK: k=" + k + " is out of range [0, " + n + "] for axis " + axis
                    + " of shape " + shape);
        }
        Shape out = shape.with(ax, k);
        if (k == 0) {
            NativeArray values = full(out, 0, dtype);
            return new TopK(values, full(out, 0, DType.INT64));
        }
        PtNDArray p = a.nd("topK");
        PtNDArray indices = null;
        try {
            if (k == 1) {
                indices = JniUtils.argMax(p, ax, true);
            } else {
                indices = stableOrder(p, ax, n, shape.rank(), dtype, true, k);
            }
            PtNDArray values = JniUtils.gather(p, indices, ax);
            return new TopK(wrap(values, dtype, out), wrap(indices, DType.INT64, out));
        } catch (RuntimeException e) {
            if (indices != null) {
                indices.close();
            }
            if (e instanceof EngineException ee) {
                throw failure(ee, "topK", a);
            }
            throw e;
        }
    }

    /**
     * The first {@code k} indices along {@code ax} in stable order: the distinct {@link #orderKeys}
     * sorted ascending, cut to {@code k}, taken modulo {@code n}.
     */
    private PtNDArray stableOrder(PtNDArray p, int ax, int n, int rank, DType dtype, boolean descending, int k) {
        try (PtNDArray keys = orderKeys(p, ax, n, rank, dtype, descending);
             PtNDArray sorted = JniUtils.sort(keys, ax, false);
             PtNDArray first = k == n ? null : JniUtils.slice(sorted, ax, 0, k, 1)) {
            return remainder(first == null ? sorted : first, n);
        }
    }

    /**
     * Distinct INT64 keys along the axis whose ascending order is the wanted stable order:
     * {@code rank(value) * n + index} ascending, {@code index - rank(value) * n} descending, where
     * {@code rank} is the dense rank of the value among all distinct values ({@code torch.unique}'s
     * inverse; every NaN gets one rank above the largest number, so NaN sorts as the largest value,
     * as in PyTorch). Equal values (0.0 and -0.0 included) share a rank and are ordered by index.
     */
    private PtNDArray orderKeys(PtNDArray p, int ax, int n, int rank, DType dtype, boolean descending) {
        NDList unique = JniUtils.unique(p, null, true, true, false); // values, inverse, (no) counts
        try {
            PtNDArray inverse = (PtNDArray) unique.get(1);
            PtNDArray ranks;
            if (dtype.isFloating()) {
                // every NaN is its own unique value: give them all one rank above the largest
                PtNDArray top = scalar(DType.INT64, unique.get(0).getShape().get(0));
                try (PtNDArray notNaN = JniUtils.eq(p, p)) {
                    ranks = JniUtils.where(notNaN, inverse, top);
                } finally {
                    release(top);
                }
            } else {
                ranks = (PtNDArray) unique.remove(1); // ours now; the list closes the rest
            }
            try {
                inPlace(BinaryOp.MUL, ranks, descending ? -n : n, DType.INT64);
                long[] along = new long[rank - ax]; // [n, 1, ..., 1]: broadcasts along the axis
                Arrays.fill(along, 1);
                along[0] = n;
                try (PtNDArray range = indexRange(n);
                     PtNDArray column = along.length == 1 ? null : JniUtils.reshape(range, along)) {
                    JniUtils.addi(ranks, column == null ? range : column);
                }
                return ranks;
            } catch (RuntimeException e) {
                ranks.close();
                throw e;
            }
        } finally {
            unique.close();
        }
    }

    /** INT64 0, 1, ..., n-1. */
    private PtNDArray indexRange(int n) {
        if (n <= 1 << 24) { // DJL's arange takes floats, exact up to 2^24
            return JniUtils.arange(manager, 0, n, 1, DataType.INT64, device, SparseFormat.DENSE);
        }
        long[] range = new long[n];
        Arrays.setAll(range, i -> i);
        return ((DjlArray) fromLongs(range, Shape.of(n))).nd("topK");
    }

    private PtNDArray remainder(PtNDArray keys, int n) {
        PtNDArray s = scalar(DType.INT64, n);
        try {
            return JniUtils.remainder(keys, s); // floor modulo: non-negative for negative keys
        } finally {
            release(s);
        }
    }

    // ---- shape and indexing ---------------------------------------------------------------

    @Override
    public NativeArray reshape(NativeArray x, Shape shape) {
        requireNonNull(shape, "reshape: shape is null");
        DjlArray a = arg(x, "reshape");
        if (a.shape().size() != shape.size()) {
            throw new IllegalArgumentException("djl reshape: cannot reshape " + a.shape() + " (" + a.shape().size()
                    + " elements) to " + shape + " (" + shape.size() + " elements)");
        }
        try {
            return wrap(JniUtils.reshape(a.nd("reshape"), longs(shape)), a.dtype(), shape);
        } catch (EngineException e) {
            throw failure(e, "reshape", a);
        }
    }

    @Override
    public NativeArray transpose(NativeArray x, int[] permutation) {
        requireNonNull(permutation, "transpose: permutation is null");
        DjlArray a = arg(x, "transpose");
        Shape shape = a.shape();
        int rank = shape.rank();
        int[] axes = KernelChecks.permutation("djl transpose", shape, permutation);
        long[] perm = new long[rank];
        int[] outDims = new int[rank];
        for (int i = 0; i < rank; i++) {
            int p = axes[i];
            perm[i] = p;
            outDims[i] = shape.dim(p);
        }
        try {
            return wrap(JniUtils.permute(a.nd("transpose"), perm), a.dtype(), Shape.of(outDims));
        } catch (EngineException e) {
            throw failure(e, "transpose", a);
        }
    }

    @Override
    public NativeArray broadcastTo(NativeArray x, Shape shape) {
        requireNonNull(shape, "broadcastTo: shape is null");
        DjlArray a = arg(x, "broadcastTo");
        Shape from = a.shape();
        boolean ok = from.rank() <= shape.rank();
        for (int i = 1; ok && i <= from.rank(); i++) {
            int d = from.dim(-i);
            ok = d == 1 || d == shape.dim(-i);
        }
        if (!ok) {
            throw new IllegalArgumentException("djl broadcastTo: cannot broadcast " + from + " to " + shape);
        }
        try {
            return wrap(JniUtils.broadcast(a.nd("broadcastTo"), djlShape(shape)), a.dtype(), shape);
        } catch (EngineException e) {
            throw failure(e, "broadcastTo", a);
        }
    }

    @Override
    public NativeArray slice(NativeArray x, int[] begin, int[] end) {
        requireNonNull(begin, "slice: begin is null");
        requireNonNull(end, "slice: end is null");
        DjlArray a = arg(x, "slice");
        Shape shape = a.shape();
        int rank = shape.rank();
        KernelChecks.sliceBounds("djl slice", shape, begin, end);
        long[] from = new long[rank];
        long[] to = new long[rank];
        long[] step = new long[rank];
        int[] outDims = new int[rank];
        for (int i = 0; i < rank; i++) {
            from[i] = begin[i];
            to[i] = end[i];
            step[i] = 1;
            outDims[i] = end[i] - begin[i];
        }
        if (rank == 0) {
            // PyTorch rejects an empty index list; slicing a scalar is a copy of it.
            return cast(x, a.dtype());
        }
        try {
            return wrap(JniUtils.index(a.nd("slice"), from, to, step, manager), a.dtype(), Shape.of(outDims));
        } catch (EngineException e) {
            throw failure(e, "slice", a);
        }
    }

    @Override
    public NativeArray concat(List<NativeArray> parts, int axis) {
        requireNonNull(parts, "concat: parts is null");
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("djl concat: needs at least one array");
        }
        DjlArray first = arg(parts.get(0), "concat");
        Shape s0 = first.shape();
        int ax = axis("concat", s0, axis);
        PtNDArray[] nds = new PtNDArray[parts.size()];
        DjlArray[] arrays = new DjlArray[parts.size()];
        long total = 0;
        for (int i = 0; i < nds.length; i++) {
            DjlArray part = arg(parts.get(i), "concat");
            KernelChecks.sameDType("djl " + "concat", part.dtype(), first.dtype());
            Shape s = part.shape();
            boolean ok = s.rank() == s0.rank();
            for (int d = 0; ok && d < s.rank(); d++) {
                ok = d == ax || s.dim(d) == s0.dim(d);
            }
            if (!ok) {
                throw new IllegalArgumentException("djl concat: part " + i + " has shape " + s + " but part 0 has "
                        + s0 + "; they must agree except on axis " + ax);
            }
            total += s.dim(ax);
            arrays[i] = part;
            nds[i] = part.nd("concat");
        }
        try {
            return wrap(JniUtils.cat(nds, ax), first.dtype(), s0.with(ax, Math.toIntExact(total)));
        } catch (EngineException e) {
            throw failure(e, "concat", arrays);
        }
    }

    /**
     * NumPy take. Axis 0 is one native {@code embedding} (an index_select that keeps the index
     * shape); other axes use {@code torch.gather} on a [before, n, after] view with the indices
     * expanded. Both check every index against [0, n) natively; a failure becomes
     * IndexOutOfBoundsException naming the offending index.
     */
    @Override
    public NativeArray gather(NativeArray x, NativeArray indices, int axis) {
        DjlArray a = arg(x, "gather");
        DjlArray idx = arg(indices, "gather");
        requireIndices("gather", idx);
        Shape shape = a.shape();
        int ax = axis("gather", shape, axis);
        Shape is = idx.shape();
        Shape out = takeShape(shape, ax, is);
        PtNDArray p = a.nd("gather");
        PtNDArray q = idx.nd("gather");
        int n = shape.dim(ax);
        try {
            if (ax == 0) {
                long rest = product(shape, 1, shape.rank());
                if (shape.rank() == 2) {
                    return wrap(JniUtils.embedding(q, p, false), a.dtype(), out);
                }
                try (PtNDArray table = JniUtils.reshape(p, new long[] {n, rest});
                     PtNDArray rows = JniUtils.embedding(q, table, false)) {
                    return wrap(JniUtils.reshape(rows, longs(out)), a.dtype(), out);
                }
            }
            long before = product(shape, 0, ax);
            long after = product(shape, ax + 1, shape.rank());
            long count = is.size();
            try (PtNDArray cube = JniUtils.reshape(p, new long[] {before, n, after});
                 PtNDArray flat = JniUtils.reshape(q, new long[] {1, count, 1});
                 PtNDArray spread = JniUtils.broadcast(flat, new ai.djl.ndarray.types.Shape(before, count, after));
                 PtNDArray picked = JniUtils.gather(cube, spread, 1)) {
                return wrap(JniUtils.reshape(picked, longs(out)), a.dtype(), out);
            }
        } catch (EngineException e) {
            throw indexFailure(e, "gather", idx, n, ax, shape, a);
        }
    }

    /**
     * NumPy {@code add.at} along an axis. DJL exposes no index_add or accumulating index_put, so
     * the updates become an uncoalesced sparse COO tensor whose first (sparse) dimension is the
     * indexed axis, added to the dense target in one native call. PyTorch's dense + uncoalesced
     * sparse kernel splits the target rows among threads and lets each thread walk all updates in
     * order, so repeated indices accumulate in index order, deterministically.
     *
     * <p>Neither the sparse constructor nor the dense + sparse add checks its indices (a bad one
     * would write outside the target), so they are checked first, natively and without copying
     * them to the host: a {@code torch.gather} of the indices from a strided [1, n, 1] view of the
     * target itself (no allocation beyond the [count] result) range-checks every index in the
     * kernel, as a gather does; only when it fails are the indices copied to the host, to name the
     * first bad one. The MoE combine and every gather VJP call this once per step, so the check
     * costs one O(count) native pass instead of a device-to-host copy (a synchronisation on a GPU).
     */
    @Override
    public NativeArray scatterAdd(NativeArray target, NativeArray indices, NativeArray updates, int axis) {
        DjlArray t = arg(target, "scatterAdd");
        DjlArray idx = arg(indices, "scatterAdd");
        DjlArray u = arg(updates, "scatterAdd");
        requireIndices("scatterAdd", idx);
        KernelChecks.sameDType("djl " + "scatterAdd", t.dtype(), u.dtype());
        Shape shape = t.shape();
        int ax = axis("scatterAdd", shape, axis);
        int n = shape.dim(ax);
        Shape expected = takeShape(shape, ax, idx.shape());
        if (!u.shape().equals(expected)) {
            throw new IllegalArgumentException("djl scatterAdd: updates have shape " + u.shape() + " but target " + shape
                    + " with indices " + idx.shape() + " on axis " + ax + " needs " + expected);
        }
        PtNDArray pt = t.nd("scatterAdd");
        PtNDArray pi = idx.nd("scatterAdd");
        PtNDArray pu = u.nd("scatterAdd");
        long count = idx.shape().size();
        checkIndicesNatively("scatterAdd", t, idx, ax);
        try {
            if (count == 0) {
                return wrap(JniUtils.clone(pt), t.dtype(), shape);
            }
            if (ax == 0) {
                long[] rows = longs(shape);
                rows[0] = count;
                try (PtNDArray coordinates = JniUtils.reshape(pi, new long[] {1, count});
                     PtNDArray values = JniUtils.reshape(pu, rows);
                     PtNDArray sparse = JniUtils.createSparseCoo(coordinates, values, djlShape(shape))) {
                    return wrap(JniUtils.add(pt, sparse), t.dtype(), shape);
                }
            }
            long before = product(shape, 0, ax);
            long after = product(shape, ax + 1, shape.rank());
            // move the axis to the front: [before, n, after] -> [n, before * after]
            try (PtNDArray coordinates = JniUtils.reshape(pi, new long[] {1, count});
                 PtNDArray u3 = JniUtils.reshape(pu, new long[] {before, count, after});
                 PtNDArray uFront = JniUtils.transpose(u3, 0, 1);
                 PtNDArray values = JniUtils.reshape(uFront, new long[] {count, before * after});
                 PtNDArray t3 = JniUtils.reshape(pt, new long[] {before, n, after});
                 PtNDArray tFront = JniUtils.transpose(t3, 0, 1);
                 PtNDArray t2 = JniUtils.reshape(tFront, new long[] {n, before * after});
                 PtNDArray sparse = JniUtils.createSparseCoo(coordinates, values,
                         new ai.djl.ndarray.types.Shape(n, before * after));
                 PtNDArray sum = JniUtils.add(t2, sparse);
                 PtNDArray sum3 = JniUtils.reshape(sum, new long[] {n, before, after});
                 PtNDArray back = JniUtils.transpose(sum3, 0, 1)) {
                return wrap(JniUtils.reshape(back, longs(shape)), t.dtype(), shape);
            }
        } catch (EngineException e) {
            throw failure(e, "scatterAdd", t, idx, u);
        }
    }

    /**
     * Range-checks {@code idx} against axis {@code ax} of {@code target} in native code: a gather
     * of the indices from the [1, n, 1] corner view of the target (a view, so nothing is copied or
     * allocated but the [count] result, freed at once). PyTorch's gather checks every index
     * against [0, n) in the kernel; its failure becomes the IndexOutOfBoundsException naming the
     * first bad index (the host copy happens only then). A target without elements has no corner
     * to view, so its indices are checked on the host (nothing is computed for it anyway).
     */
    private void checkIndicesNatively(String op, DjlArray target, DjlArray idx, int ax) {
        Shape shape = target.shape();
        int n = shape.dim(ax);
        long count = idx.shape().size();
        if (count == 0) {
            return;
        }
        if (shape.size() == 0) {
            KernelChecks.indices("djl " + op, toLongs(idx), n, shape, ax);
            return;
        }
        long before = product(shape, 0, ax);
        long after = product(shape, ax + 1, shape.rank());
        try (PtNDArray cube = JniUtils.reshape(target.nd(op), new long[] {before, n, after});
             PtNDArray row = JniUtils.slice(cube, 0, 0, 1, 1);
             PtNDArray corner = JniUtils.slice(row, 2, 0, 1, 1);
             PtNDArray flat = JniUtils.reshape(idx.nd(op), new long[] {1, count, 1});
             PtNDArray picked = JniUtils.gather(corner, flat, 1)) {
            // nothing to read: the gather either passed its range check or threw
        } catch (EngineException e) {
            throw indexFailure(e, op, idx, n, ax, shape, target);
        }
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

    private static void requireIndices(String op, DjlArray idx) {
        if (idx.dtype() != DType.INT64) {
            throw new IllegalArgumentException("djl " + op + ": indices must be INT64, got " + idx.dtype());
        }
    }

    /** A native index failure as IndexOutOfBoundsException naming the first bad index. */
    private RuntimeException indexFailure(EngineException e, String op, DjlArray idx, int n, int ax, Shape shape,
                                          DjlArray... operands) {
        long[] at;
        try {
            at = toLongs(idx);
        } catch (RuntimeException ignored) {
            return failure(e, op, operands);
        }
        try {
            KernelChecks.indices("djl " + op, at, n, shape, ax);
        } catch (IndexOutOfBoundsException bad) {
            bad.initCause(e);
            return bad;
        }
        return failure(e, op, operands);
    }

    // ---- convolution ----------------------------------------------------------------------

    /** Stride and padding only: {@link #conv2d(NativeArray, NativeArray, Conv2dOptions)} with dilation 1, one group. */
    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, int[] stride, int[] padding) {
        requireNonNull(stride, "conv2d: stride is null");
        requireNonNull(padding, "conv2d: padding is null");
        return conv2d(input, weight, Conv2dOptions.of(stride, padding));
    }

    /**
     * PyTorch's {@code conv2d}, which takes dilation and groups itself: one native call. Shapes are
     * checked first by {@link Conv2dOptions#outputShape}; an empty batch or zero channels per group
     * give zeros without calling PyTorch (which returns a tensor of another shape for the latter).
     */
    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, Conv2dOptions options) {
        requireNonNull(options, "conv2d: options is null");
        DjlArray x = arg(input, "conv2d");
        DjlArray w = arg(weight, "conv2d");
        KernelChecks.sameDType("djl conv2d", x.dtype(), w.dtype());
        requireFloating("conv2d", x.dtype());
        Shape out = options.outputShape(x.shape(), w.shape());
        if (out.size() == 0 || w.shape().dim(1) == 0) {
            return full(out, 0, x.dtype());
        }
        try {
            return wrap(JniUtils.convolution(x.nd("conv2d"), w.nd("conv2d"), null, pair(options.stride()),
                    pair(options.padding()), pair(options.dilation()), options.groups()), x.dtype(), out);
        } catch (EngineException e) {
            throw failure(e, "conv2d", x, w);
        }
    }

    private static ai.djl.ndarray.types.Shape pair(int[] values) {
        return new ai.djl.ndarray.types.Shape(values[0], values[1]);
    }

    // conv2dBackwardInput and conv2dBackwardWeight keep the SPI's compositions: DJL exposes no
    // convolution backward or transposed convolution (only autograd, which this backend never uses),
    // and the compositions run on the native conv2d above.

    // ---- index and ordering kernels -------------------------------------------------------

    /** PyTorch's arange (float bounds, exact up to 2^24; beyond, the values are written from Java). */
    @Override
    public NativeArray arange(int n, DType dtype) {
        requireNonNull(dtype, "arange: dtype is null");
        KernelChecks.nonNegative("djl arange", "n", n);
        Shape shape = Shape.of(n);
        if (n == 0) {
            return full(shape, 0, dtype);
        }
        if (n <= 1 << 24) {
            return wrap(JniUtils.arange(manager, 0, n, 1, dataType(dtype), device, SparseFormat.DENSE), dtype, shape);
        }
        double[] values = new double[n];
        Arrays.setAll(values, i -> i);
        return fromDoubles(values, shape, dtype);
    }

    /** PyTorch's cumsum: a running sum in the input's dtype (INT64 stays INT64, exact). */
    @Override
    public NativeArray cumsum(NativeArray x, int axis) {
        DjlArray a = arg(x, "cumsum");
        Shape shape = a.shape();
        int ax = KernelChecks.axis("djl cumsum", shape, axis);
        try {
            return wrap(JniUtils.cumSum(a.nd("cumsum"), ax), a.dtype(), shape);
        } catch (EngineException e) {
            throw failure(e, "cumsum", a);
        }
    }

    /** PyTorch's argmax: the first maximal index, NaN counting as the largest. */
    @Override
    public NativeArray argmax(NativeArray x, int axis, boolean keepDims) {
        DjlArray a = arg(x, "argmax");
        Shape shape = a.shape();
        int ax = KernelChecks.axis("djl argmax", shape, axis);
        if (shape.dim(ax) == 0) {
            throw new IllegalArgumentException("djl argmax: axis " + axis + " of shape " + shape + " is empty");
        }
        Shape out = keepDims ? shape.with(ax, 1) : shape.without(ax);
        if (shape.size() == 0) {
            return full(out, 0, DType.INT64);
        }
        try {
            return wrap(JniUtils.argMax(a.nd("argmax"), ax, keepDims), DType.INT64, out);
        } catch (EngineException e) {
            throw failure(e, "argmax", a);
        }
    }

    /**
     * A stable argsort. DJL's sort reaches {@code torch.sort} without its {@code stable} flag, and
     * PyTorch promises no order among equal values there; so the keys sorted are made distinct
     * first (see {@link #orderKeys}), after which any sort gives the stable order.
     */
    @Override
    public NativeArray argsort(NativeArray x, int axis, boolean descending) {
        DjlArray a = arg(x, "argsort");
        Shape shape = a.shape();
        int ax = KernelChecks.axis("djl argsort", shape, axis);
        int n = shape.dim(ax);
        if (shape.size() == 0 || n == 1) {
            return full(shape, 0, DType.INT64);
        }
        try {
            return wrap(stableOrder(a.nd("argsort"), ax, n, shape.rank(), a.dtype(), descending, n), DType.INT64, shape);
        } catch (EngineException e) {
            throw failure(e, "argsort", a);
        }
    }

    /** The values in {@link #argsort}'s order (so equal values, 0.0 and -0.0 included, keep their order). */
    @Override
    public NativeArray sort(NativeArray x, int axis, boolean descending) {
        DjlArray a = arg(x, "sort");
        Shape shape = a.shape();
        int ax = KernelChecks.axis("djl sort", shape, axis);
        int n = shape.dim(ax);
        PtNDArray p = a.nd("sort");
        try {
            if (shape.size() == 0 || n == 1) {
                return wrap(JniUtils.clone(p), a.dtype(), shape);
            }
            try (PtNDArray order = stableOrder(p, ax, n, shape.rank(), a.dtype(), descending, n)) {
                return wrap(JniUtils.gather(p, order, ax), a.dtype(), shape);
            }
        } catch (EngineException e) {
            throw failure(e, "sort", a);
        }
    }

    // segmentSum keeps the SPI's composition: zeros plus scatterAdd, which here is already one
    // native sparse add. segmentMax keeps it too: DJL exposes no scatter_reduce/index_reduce.

    // ---- helpers --------------------------------------------------------------------------

    private DjlArray wrap(PtNDArray nd, DType dtype, Shape shape) {
        return new DjlArray(nd, dtype, spiDevice, shape);
    }

    /** {@code op} is a String or an op enum, used only in error messages. */
    private static DjlArray arg(NativeArray x, Object op) {
        if (x instanceof DjlArray a) {
            return a;
        }
        if (x == null) {
            throw new NullPointerException("djl " + op + ": array argument is null");
        }
        throw new IllegalArgumentException("djl " + op + ": expected an array of the djl backend, got "
                + x.getClass().getName() + " (" + x.dtype() + " " + x.shape() + ")");
    }

    private static Shape sameShape(Shape a, Shape b) {
        return a != null && a.equals(b) ? a : null;
    }

    private static int axis(String op, Shape shape, int axis) {
        return KernelChecks.axis("djl " + op, shape, axis);
    }

    private static boolean isInt64(double v) {
        return v == Math.rint(v) && Math.abs(v) < INT64_LIMIT;
    }

    private static void checkLength(String op, int length, Shape shape) {
        if (length != shape.size()) {
            throw new IllegalArgumentException("djl " + op + ": " + length + " values do not fill shape " + shape
                    + " (" + shape.size() + " elements)");
        }
    }

    private static void requireFloating(String op, DType dtype) {
        KernelChecks.floating("djl " + op, dtype);
    }

    /** What PyTorch still rejected, naming the kernel and its operands. */
    private static RuntimeException failure(EngineException e, String op, DjlArray... operands) {
        StringBuilder sb = new StringBuilder("djl ").append(op).append(" failed");
        String sep = " on ";
        for (DjlArray a : operands) {
            if (a != null) {
                sb.append(sep).append(a.dtype()).append(' ').append(a.knownShape() == null && a.isClosed() ? "?" : a.shape());
                sep = ", ";
            }
        }
        sb.append(": ").append(e.getMessage());
        String message = String.valueOf(e.getMessage());
        if (message.contains("allocate") || message.contains("out of memory")) {
            return new IllegalStateException(sb.toString(), e);
        }
        return new IllegalArgumentException(sb.toString(), e);
    }

    private static long product(Shape shape, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p *= shape.dim(i);
        }
        return p;
    }

    private static long[] longs(Shape shape) {
        int[] dims = shape.dims();
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = dims[i];
        }
        return out;
    }

    private static ai.djl.ndarray.types.Shape djlShape(Shape shape) {
        return new ai.djl.ndarray.types.Shape(longs(shape));
    }
}
