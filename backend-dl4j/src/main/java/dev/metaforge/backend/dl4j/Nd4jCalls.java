package dev.metaforge.backend.dl4j;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarAdd;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarDivision;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMax;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMin;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarSubtraction;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.scalar.comparison.ScalarEquals;
import org.nd4j.linalg.api.ops.impl.scalar.comparison.ScalarGreaterThanOrEqual;
import org.nd4j.linalg.api.ops.impl.scalar.comparison.ScalarLessThan;
import org.nd4j.linalg.api.ops.impl.scalar.comparison.ScalarLessThanOrEqual;
import org.nd4j.linalg.api.ops.impl.scalar.comparison.ScalarNotEquals;
import org.nd4j.linalg.cpu.nativecpu.NDArray;
import org.nd4j.linalg.cpu.nativecpu.buffer.LongBuffer;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The few ways the dl4j kernels call ND4J: allocating row-major outputs, running legacy ops and
 * running custom (libnd4j "declarable") ops into outputs we allocated.
 *
 * <p>Allocation is where ND4J spends most of a tiny op's time: {@code Nd4j.createUninitialized}
 * builds a fresh native shape descriptor ("shape info" buffer) for every array, which costs more
 * than the data buffer itself. Shape descriptors are immutable and ND4J shares them between
 * arrays itself, so this class keeps one per (dtype, shape) and builds arrays from a new data
 * buffer plus the shared descriptor. The cache is bounded; shapes beyond the bound take ND4J's
 * ordinary path.
 */
final class Nd4jCalls {
    /** Distinct (dtype, shape) pairs remembered; a training loop sees a few dozen. */
    static final int MAX_CACHED_SHAPES = 4096;

    private final ConcurrentHashMap<ShapeKey, Pair<DataBuffer, long[]>> shapeInfos = new ConcurrentHashMap<>();
    /** Per thread and dtype, the buffer behind {@link #temp}: it grows to the largest temporary asked for. */
    private final ThreadLocal<EnumMap<DType, DataBuffer>> scratch = ThreadLocal.withInitial(() -> new EnumMap<>(DType.class));
    private final ThreadLocal<ThreadContexts> contexts = ThreadLocal.withInitial(ThreadContexts::new);

    static DataType nd4jType(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> DataType.FLOAT;
            case FLOAT64 -> DataType.DOUBLE;
            case INT64 -> DataType.LONG;
        };
    }

    static long[] longDims(Shape shape) {
        int[] d = shape.dims();
        long[] l = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            l[i] = d[i];
        }
        return l;
    }

    /** An uninitialised row-major array; an ND4J "empty" array when the shape has no elements. */
    INDArray allocate(DType dtype, Shape shape) {
        return allocate(nd4jType(dtype), shape);
    }

    /** As {@link #allocate(DType, Shape)} for any ND4J type (BOOL masks). */
    INDArray allocate(DataType type, Shape shape) {
        long[] dims = longDims(shape);
        long size = shape.size();
        if (size == 0) {
            return Nd4j.create(type, dims);
        }
        Pair<DataBuffer, long[]> info = shapeInfo(type, dims);
        DataBuffer data = Nd4j.getDataBufferFactory().create(type, size, false);
        return new NDArray(data, (LongBuffer) info.getFirst(), info.getSecond());
    }

    /**
     * {@code src} (dense, row-major, non-empty) seen with another shape of the same size, sharing
     * its buffer. Cheaper than {@code INDArray.reshape}, which builds a new shape descriptor. The
     * view must not be closed or handed out; closing {@code src} invalidates it.
     */
    INDArray view(INDArray src, Shape shape) {
        Pair<DataBuffer, long[]> info = shapeInfo(src.dataType(), longDims(shape));
        return new NDArray(src.data(), (LongBuffer) info.getFirst(), info.getSecond());
    }

    /** Elements of a temporary kept for reuse between calls (256 MiB of FLOAT32); larger ones are allocated each time. */
    static final long MAX_SCRATCH = 1L << 26;

    /**
     * A kernel-internal temporary (convolution columns): a dense row-major array over this thread's
     * reusable buffer when it fits under {@link #MAX_SCRATCH}, else a fresh array. Reusing the buffer
     * saves the page faults of a fresh multi-megabyte allocation on every call. The contents are
     * undefined; it is valid until the next {@code temp} call on this thread, so a kernel holds at
     * most one at a time and never hands it out. Close it (which frees only a fresh array).
     */
    Temp temp(DType dtype, Shape shape) {
        long size = shape.size();
        if (size == 0 || size > MAX_SCRATCH) {
            return new Temp(allocate(dtype, shape), true);
        }
        DataType type = nd4jType(dtype);
        EnumMap<DType, DataBuffer> mine = scratch.get();
        DataBuffer buffer = mine.get(dtype);
        if (buffer == null || buffer.length() < size) {
            if (buffer != null) {
                buffer.close();
            }
            buffer = Nd4j.getDataBufferFactory().create(type, size, false);
            mine.put(dtype, buffer);
        }
        DataBuffer data = buffer.length() == size ? buffer : Nd4j.getDataBufferFactory().create(buffer, 0, size);
        Pair<DataBuffer, long[]> info = shapeInfo(type, longDims(shape));
        return new Temp(new NDArray(data, (LongBuffer) info.getFirst(), info.getSecond()), false);
    }

    /** A temporary from {@link #temp}; closing it frees the array only when it was freshly allocated. */
    record Temp(INDArray array, boolean owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned) {
                array.close();
            }
        }
    }

    /**
     * At least {@code n} (> 0) ones of {@code dtype} (FLOAT32 or FLOAT64) in a dense array kept by this thread for
     * reuse (it grows to the longest asked for): read it, never write or close it.
     */
    INDArray ones(DType dtype, int n) {
        EnumMap<DType, INDArray> mine = contexts.get().ones;
        INDArray ones = mine.get(dtype);
        if (ones == null || ones.length() < n) {
            if (ones != null) {
                ones.close();
            }
            ones = allocate(dtype, Shape.of(n));
            double[] values = new double[n];
            Arrays.fill(values, 1.0);
            write(ones, dtype, values);
            mine.put(dtype, ones);
        }
        return ones;
    }

    /**
     * Re-labels a temporary we own, and will not use again, with another shape of the same size:
     * the result takes over its buffer (no copy), so only the result may be closed.
     */
    INDArray adopt(INDArray owned, Shape shape) {
        return view(owned, shape);
    }

    /** A row-major array holding a copy of {@code src}'s buffer under {@code shape} (same size). */
    INDArray copy(INDArray src, DType dtype, Shape shape) {
        INDArray out = allocate(dtype, shape);
        if (shape.size() > 0) {
            // src is dense row-major from offset 0 (the Dl4jArray invariant): one memcpy.
            org.bytedeco.javacpp.Pointer.memcpy(out.data().addressPointer(), src.data().addressPointer(),
                    shape.size() * dtype.byteSize());
        }
        return out;
    }

    /**
     * Copies {@code n} elements of {@code byteSize} bytes from {@code src}, starting at element {@code srcIndex},
     * into {@code dst} at element {@code dstIndex}: one memory copy between dense row-major buffers.
     */
    static void copyElements(INDArray src, long srcIndex, INDArray dst, long dstIndex, long n, int byteSize) {
        bytes(dst).put(Math.toIntExact(dstIndex * byteSize), bytes(src), Math.toIntExact(srcIndex * byteSize),
                Math.toIntExact(n * byteSize));
    }

    // ---- bulk copies between Java arrays and our dense row-major buffers ----------------------

    /** The memory of {@code a} itself (dense row-major from offset 0, the Dl4jArray invariant), native order. */
    static ByteBuffer bytes(INDArray a) {
        return a.data().asNio().order(ByteOrder.nativeOrder());
    }

    /** The FLOAT32 values of a dense row-major array, in place (absolute indices from 0). */
    static java.nio.FloatBuffer floats(INDArray a) {
        return bytes(a).asFloatBuffer();
    }

    /** Writes all of {@code src} into a fresh array of {@code dtype} (INT64 truncates toward zero). */
    static void write(INDArray a, DType dtype, double[] src) {
        if (src.length == 0) {
            return;
        }
        switch (dtype) {
            case FLOAT64 -> bytes(a).asDoubleBuffer().put(src);
            case FLOAT32 -> {
                float[] f = new float[src.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) src[i];
                }
                write(a, f);
            }
            case INT64 -> {
                long[] l = new long[src.length];
                for (int i = 0; i < l.length; i++) {
                    l[i] = (long) src[i];
                }
                write(a, l);
            }
        }
    }

    static void write(INDArray a, float[] src) {
        bytes(a).asFloatBuffer().put(src);
    }

    static void write(INDArray a, long[] src) {
        bytes(a).asLongBuffer().put(src);
    }

    /** All values of a dense row-major array of {@code dtype}, converted to double. */
    static double[] readDoubles(INDArray a, DType dtype, int n) {
        double[] out = new double[n];
        if (n == 0) {
            return out;
        }
        switch (dtype) {
            case FLOAT64 -> bytes(a).asDoubleBuffer().get(out);
            case FLOAT32 -> {
                float[] f = new float[n];
                bytes(a).asFloatBuffer().get(f);
                for (int i = 0; i < n; i++) {
                    out[i] = f[i];
                }
            }
            case INT64 -> {
                long[] l = new long[n];
                bytes(a).asLongBuffer().get(l);
                for (int i = 0; i < n; i++) {
                    out[i] = l[i];
                }
            }
        }
        return out;
    }

    static float[] readFloats(INDArray a, DType dtype, int n) {
        if (dtype == DType.FLOAT32) {
            float[] out = new float[n];
            if (n > 0) {
                bytes(a).asFloatBuffer().get(out);
            }
            return out;
        }
        double[] d = dtype == DType.FLOAT64 ? readDoubles(a, dtype, n) : null;
        long[] l = dtype == DType.INT64 ? readLongs(a, dtype, n) : null;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = d != null ? (float) d[i] : (float) l[i];
        }
        return out;
    }

    /** All values as long; floating values are truncated toward zero like a Java cast. */
    static long[] readLongs(INDArray a, DType dtype, int n) {
        long[] out = new long[n];
        if (n == 0) {
            return out;
        }
        if (dtype == DType.INT64) {
            bytes(a).asLongBuffer().get(out);
            return out;
        }
        double[] d = readDoubles(a, dtype, n);
        for (int i = 0; i < n; i++) {
            out[i] = (long) d[i];
        }
        return out;
    }

    private Pair<DataBuffer, long[]> shapeInfo(DataType type, long[] dims) {
        ShapeKey key = new ShapeKey(type, dims);
        Pair<DataBuffer, long[]> info = shapeInfos.get(key);
        if (info == null) {
            info = Nd4j.getShapeInfoProvider().createShapeInformation(dims, Nd4j.getStrides(dims, 'c'), 1, 'c', type, false);
            if (shapeInfos.size() < MAX_CACHED_SHAPES) {
                Pair<DataBuffer, long[]> raced = shapeInfos.putIfAbsent(key, info);
                if (raced != null) {
                    info = raced;
                }
            }
        }
        return info;
    }

    /**
     * Runs a legacy (transform, scalar, reduce, random) op; its output must already be set. A
     * scalar op's constructor made a rank-0 array for its scalar: it is freed now rather than
     * whenever the garbage collector finds it.
     */
    static void exec(Op op) {
        try {
            Nd4j.getExecutioner().exec(op);
        } catch (RuntimeException e) {
            throw failed(op.opName(), e);
        } finally {
            if (op instanceof ScalarOp s && s.y() == null && s.scalar() != null) {
                s.scalar().close();
            }
        }
    }

    /** Starts a custom libnd4j op by name; finish with {@link CustomCall#run()}. */
    CustomCall custom(String name) {
        return new CustomCall(name);
    }

    static IllegalStateException failed(String op, RuntimeException e) {
        return new IllegalStateException("dl4j: ND4J op '" + op + "' failed: " + e.getMessage()
                + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"), e);
    }

    /**
     * A custom op call being assembled: inputs, outputs (always ours) and arguments.
     *
     * <p>{@code Nd4j.exec(customOp)} builds a native op context for every call and leaves it to
     * the garbage collector, so native memory held by dead contexts grows with the Java heap
     * between collections. Instead each thread keeps one context per op name and clears it after
     * every call (a given op name is always called with the same kinds of arguments, so no stale
     * argument survives into a later call).
     */
    final class CustomCall {
        private final String name;
        private final List<INDArray> inputs = new ArrayList<>(4);
        private final List<INDArray> outputs = new ArrayList<>(1);
        private long[] ints;
        private boolean[] bools;
        private double[] doubles;

        private CustomCall(String name) {
            this.name = name;
        }

        CustomCall in(INDArray... arrays) {
            inputs.addAll(Arrays.asList(arrays));
            return this;
        }

        CustomCall out(INDArray... arrays) {
            outputs.addAll(Arrays.asList(arrays));
            return this;
        }

        CustomCall ints(int... args) {
            ints = new long[args.length];
            for (int i = 0; i < args.length; i++) {
                ints[i] = args[i];
            }
            return this;
        }

        CustomCall bools(boolean... args) {
            bools = args;
            return this;
        }

        CustomCall doubles(double... args) {
            doubles = args;
            return this;
        }

        void run() {
            ThreadContexts mine = contexts.get();
            // One context per op and argument arity: libnd4j keeps a context's arguments, and setting an empty list
            // does not clear them, so a call without arguments must never reuse a context that had some
            // (matmul with and without transpose flags).
            String key = ints == null && bools == null && doubles == null ? name
                    : name + "/" + (ints == null ? 0 : ints.length) + "/" + (bools == null ? 0 : bools.length)
                    + "/" + (doubles == null ? 0 : doubles.length);
            CachedContext cached = mine.contexts.computeIfAbsent(key, k -> new CachedContext(name));
            OpContext context = cached.context;
            try {
                context.setInputArrays(inputs);
                context.setOutputArrays(outputs);
                // setting arguments allocates a small native buffer each time: skip when unchanged
                if (ints != null && !Arrays.equals(ints, cached.ints)) {
                    context.setIArguments(ints);
                    cached.ints = ints;
                }
                if (bools != null && !Arrays.equals(bools, cached.bools)) {
                    context.setBArguments(bools);
                    cached.bools = bools;
                }
                if (doubles != null && !Arrays.equals(doubles, cached.doubles)) {
                    context.setTArguments(doubles);
                    cached.doubles = doubles;
                }
                Nd4j.getExecutioner().exec(cached.op, context);
            } catch (RuntimeException e) {
                throw failed(name, e);
            } finally {
                // drops the native handles of this call's arrays
                context.purge();
            }
        }
    }

    /** A reusable custom op and its native context, with the arguments last set on it. */
    private static final class CachedContext {
        final CustomOp op;
        final OpContext context;
        long[] ints;
        boolean[] bools;
        double[] doubles;

        CachedContext(String name) {
            this.op = DynamicCustomOp.builder(name).build();
            this.context = Nd4j.getExecutioner().buildContext();
        }
    }

    /** One thread's reusable ops: custom ops with their contexts by name, legacy scalar ops, scalars. */
    private final class ThreadContexts {
        final Map<String, CachedContext> contexts = new HashMap<>();
        final Map<ScalarKind, ScalarOp> scalarOps = new EnumMap<>(ScalarKind.class);
        final Map<DataType, INDArray> scalars = new EnumMap<>(DataType.class);
        final EnumMap<DType, INDArray> ones = new EnumMap<>(DType.class);

        INDArray scalar(DataType type) {
            return scalars.computeIfAbsent(type, t -> allocate(t, Shape.scalar()));
        }
    }

    /** The legacy scalar ops run through {@link #scalar}: x op s elementwise, s a number. */
    enum ScalarKind {
        ADD(ScalarAdd::new),
        SUB(ScalarSubtraction::new),
        MUL(ScalarMultiplication::new),
        DIV(ScalarDivision::new),
        MAX(ScalarMax::new),
        MIN(ScalarMin::new),
        /** 1 where x > s, else 0, in x's dtype. */
        STEP(Step::new),
        /** x where x >= s, else s (ReLU for s = 0). */
        RELU(RectifiedLinear::new),
        /** The comparisons write BOOL masks. */
        EQ(ScalarEquals::new),
        NE(ScalarNotEquals::new),
        LT(ScalarLessThan::new),
        LE(ScalarLessThanOrEqual::new),
        GE(ScalarGreaterThanOrEqual::new);

        private final Supplier<ScalarOp> make;

        ScalarKind(Supplier<ScalarOp> make) {
            this.make = make;
        }
    }

    /**
     * {@code z = x op s} with a legacy scalar op, allocating nothing: ND4J's scalar op
     * constructors build a rank-0 array (and its native shape descriptor) for the scalar on every
     * call and leave both to the garbage collector. Each thread keeps one op object per kind and one
     * rank-0 array per dtype, and only rewrites the scalar's value.
     */
    void scalar(ScalarKind kind, INDArray x, INDArray z, double s) {
        ThreadContexts mine = contexts.get();
        ScalarOp op = mine.scalarOps.computeIfAbsent(kind, k -> k.make.get());
        INDArray scalar = mine.scalar(x.dataType());
        scalar.data().put(0L, s);
        op.setX(x);
        op.setZ(z);
        op.setScalar(scalar);
        try {
            Nd4j.getExecutioner().exec(op);
        } catch (RuntimeException e) {
            throw failed(op.opName(), e);
        } finally {
            op.setX(null);
            op.setZ(null);
        }
    }

    /** (dtype, dims) with value equality, for the shape-descriptor cache. */
    private static final class ShapeKey {
        private final DataType type;
        private final long[] dims;
        private final int hash;

        ShapeKey(DataType type, long[] dims) {
            this.type = type;
            this.dims = dims;
            this.hash = 31 * type.hashCode() + Arrays.hashCode(dims);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ShapeKey k && k.type == type && Arrays.equals(k.dims, dims);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
