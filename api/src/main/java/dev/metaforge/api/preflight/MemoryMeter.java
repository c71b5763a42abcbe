package dev.metaforge.api.preflight;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;

/**
 * What a shape-only pass would have allocated: live and peak bytes of backend arrays, the largest
 * array, and the number of kernel calls, checked against limits as they grow so that a spec asking
 * for terabytes, or for a step of billions of kernel calls, is stopped early (the pass itself
 * allocates nothing but the shapes).
 *
 * <p>Not thread-safe: one pass, one thread.
 */
public final class MemoryMeter {
    /**
     * Bytes charged per live array on top of its elements: the tensor and autodiff bookkeeping on the
     * Java heap and the native array header. It keeps a step of millions of tiny arrays (an
     * absurd inner-loop count) from looking free.
     */
    public static final long ARRAY_OVERHEAD_BYTES = 256;

    private final long budgetBytes;
    private final long maxKernelCalls;
    private long liveBytes;
    private long peakBytes;
    private long largestBytes;
    private Shape largestShape;
    private DType largestDType;
    private long liveArrays;
    private long kernelCalls;

    /**
     * @param budgetBytes    the pass stops with {@link LimitExceededException} when live bytes would exceed it
     * @param maxKernelCalls the pass stops when it issues more kernel calls than this
     */
    public MemoryMeter(long budgetBytes, long maxKernelCalls) {
        if (budgetBytes <= 0 || maxKernelCalls <= 0) {
            throw new IllegalArgumentException("budget and kernel-call limit must be positive, got " + budgetBytes + " and "
                    + maxKernelCalls);
        }
        this.budgetBytes = budgetBytes;
        this.maxKernelCalls = maxKernelCalls;
    }

    /** Elements times bytes per element, saturating at {@link Long#MAX_VALUE} instead of overflowing. */
    public static long bytesOf(Shape shape, DType dtype) {
        long bytes = dtype.byteSize();
        for (int d : shape.dims()) {
            if (d == 0) {
                return 0;
            }
            if (bytes > Long.MAX_VALUE / d) {
                return Long.MAX_VALUE;
            }
            bytes *= d;
        }
        return bytes;
    }

    /** Counts one kernel call. */
    void call(String op) {
        kernelCalls++;
        if (kernelCalls > maxKernelCalls) {
            throw new LimitExceededException("it issues more than " + maxKernelCalls + " kernel calls (the last was " + op
                    + "): an inner loop, an evaluation or a sequence is far longer than a step can run", this, null, null);
        }
    }

    /** Charges a new array; throws when the budget would be exceeded. Returns the bytes charged. */
    long allocate(String op, Shape shape, DType dtype) {
        long bytes = bytesOf(shape, dtype);
        long charged = bytes >= Long.MAX_VALUE - ARRAY_OVERHEAD_BYTES ? Long.MAX_VALUE : bytes + ARRAY_OVERHEAD_BYTES;
        if (bytes > largestBytes || largestShape == null) {
            largestBytes = bytes;
            largestShape = shape;
            largestDType = dtype;
        }
        if (charged > budgetBytes - liveBytes) {
            throw new LimitExceededException(op + " would allocate " + shape + " " + dtype + " (" + Budgets.format(bytes)
                    + ") with " + Budgets.format(liveBytes) + " already live, more than the memory budget of "
                    + Budgets.format(budgetBytes), this, shape, dtype);
        }
        liveBytes += charged;
        liveArrays++;
        peakBytes = Math.max(peakBytes, liveBytes);
        return charged;
    }

    /** Charges a transient copy to the Java heap (values read back), checked against the budget. */
    void readBack(String op, Shape shape, long bytes) {
        if (bytes > budgetBytes - liveBytes) {
            throw new LimitExceededException(op + " would copy " + shape + " (" + Budgets.format(bytes)
                    + ") to the Java heap with " + Budgets.format(liveBytes) + " live, more than the memory budget of "
                    + Budgets.format(budgetBytes), this, shape, null);
        }
        peakBytes = Math.max(peakBytes, liveBytes + bytes);
    }

    void free(long charged) {
        liveBytes -= charged;
        liveArrays--;
    }

    /** Bytes of arrays not yet closed, including {@link #ARRAY_OVERHEAD_BYTES} each. */
    public long liveBytes() {
        return liveBytes;
    }

    /** The most bytes live at once since creation or the last {@link #resetPeak()}. */
    public long peakBytes() {
        return peakBytes;
    }

    /** Starts a new peak measurement from the current live bytes (e.g. at the start of a step). */
    public void resetPeak() {
        peakBytes = liveBytes;
    }

    /** Bytes of the largest array allocated so far (without overhead). */
    public long largestBytes() {
        return largestBytes;
    }

    /** Shape of the largest array allocated so far, or null when none was. */
    public Shape largestShape() {
        return largestShape;
    }

    /** Dtype of the largest array allocated so far, or null when none was. */
    public DType largestDType() {
        return largestDType;
    }

    public long liveArrays() {
        return liveArrays;
    }

    public long kernelCalls() {
        return kernelCalls;
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    /** A shape-only pass went past the memory budget or the kernel-call limit. */
    public static final class LimitExceededException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        private final transient Shape shape;
        private final transient DType dtype;
        private final long liveBytes;

        LimitExceededException(String message, MemoryMeter meter, Shape shape, DType dtype) {
            super(message);
            this.shape = shape;
            this.dtype = dtype;
            this.liveBytes = meter.liveBytes;
        }

        /** True when the limit on kernel calls was hit, false for the memory budget. */
        public boolean kernelCalls() {
            return shape == null && dtype == null && getMessage().startsWith("it issues more than");
        }

        /** The array that did not fit, or null when the limit was on kernel calls. */
        public Shape shape() {
            return shape;
        }

        public DType dtype() {
            return dtype;
        }

        /** Bytes live when the limit was hit. */
        public long liveBytes() {
            return liveBytes;
        }
    }
}
