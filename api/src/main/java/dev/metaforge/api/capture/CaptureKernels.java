package dev.metaforge.api.capture;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.SgdResult;
import dev.metaforge.spi.SgdStep;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnaryOp;
import java.util.List;

/**
 * A backend's kernels that can record: every call is forwarded to the delegate, and while a
 * {@link StepCapture} traces a step on this thread it is also written to the step's tape with its
 * operands and results. Every SPI method is forwarded, the default ones included: a wrapper that let
 * a default run would record (and replay) a composition where the eager step runs the backend's own
 * kernel. {@code CaptureKernelsTest} lists the SPI's methods and fails when one is not forwarded here.
 *
 * <p>Host reads ({@code toDoubles}, ...) and the in-place {@code adamUpdateForeach} are forwarded but
 * make the traced step unreplayable (the tape records why).
 */
public final class CaptureKernels implements Kernels {
    private final Kernels delegate;
    // The tape of the step being traced, or null; read by the tracing thread only (other threads pass through).
    private volatile Tape tape;

    CaptureKernels(Kernels delegate) {
        this.delegate = requireNonNull(delegate, "delegate is null");
    }

    /** The backend's own kernels, which replay runs on. */
    public Kernels delegate() {
        return delegate;
    }

    void arm(Tape t) {
        if (tape != null) {
            throw new IllegalStateException("a step is already being traced on these kernels");
        }
        tape = t;
    }

    Tape disarm() {
        Tape t = tape;
        tape = null;
        return t;
    }

    private Tape armed() {
        Tape t = tape;
        return t != null && t.thread == Thread.currentThread() ? t : null;
    }

    private static NativeArray[] one(NativeArray a) {
        return new NativeArray[] {a};
    }

    private NativeArray rec(Tape t, String kernel, Object[] args, NativeArray[] operands, CapturedCall.Runner runner) {
        return t.record(delegate, kernel, args, operands, runner)[0];
    }

    private void hostRead(String kernel) {
        Tape t = armed();
        if (t != null) {
            t.refuse("the step reads an array back to the host (" + kernel + "), so later steps may depend on values"
                    + " replay cannot see");
        }
    }

    // ---- creation: no operands, so a replayed program computes them once ----------------------

    @Override
    public NativeArray fromDoubles(double[] data, Shape shape, DType dtype) {
        Tape t = armed();
        if (t == null) {
            return delegate.fromDoubles(data, shape, dtype);
        }
        double[] copy = data.clone();
        return rec(t, "fromDoubles", new Object[] {copy, shape, dtype}, new NativeArray[0], (k, a) -> one(k.fromDoubles(copy, shape, dtype)));
    }

    @Override
    public NativeArray fromFloats(float[] data, Shape shape) {
        Tape t = armed();
        if (t == null) {
            return delegate.fromFloats(data, shape);
        }
        float[] copy = data.clone();
        return rec(t, "fromFloats", new Object[] {copy, shape}, new NativeArray[0], (k, a) -> one(k.fromFloats(copy, shape)));
    }

    @Override
    public NativeArray fromLongs(long[] data, Shape shape) {
        Tape t = armed();
        if (t == null) {
            return delegate.fromLongs(data, shape);
        }
        long[] copy = data.clone();
        return rec(t, "fromLongs", new Object[] {copy, shape}, new NativeArray[0], (k, a) -> one(k.fromLongs(copy, shape)));
    }

    @Override
    public NativeArray full(Shape shape, double value, DType dtype) {
        Tape t = armed();
        if (t == null) {
            return delegate.full(shape, value, dtype);
        }
        return rec(t, "full", new Object[] {shape, value, dtype}, new NativeArray[0], (k, a) -> one(k.full(shape, value, dtype)));
    }

    @Override
    public NativeArray zeros(Shape shape, DType dtype) {
        Tape t = armed();
        if (t == null) {
            return delegate.zeros(shape, dtype);
        }
        return rec(t, "zeros", new Object[] {shape, dtype}, new NativeArray[0], (k, a) -> one(k.zeros(shape, dtype)));
    }

    @Override
    public NativeArray randomUniform(Shape shape, DType dtype, double low, double high, long seed) {
        Tape t = armed();
        if (t == null) {
            return delegate.randomUniform(shape, dtype, low, high, seed);
        }
        return rec(t, "randomUniform", new Object[] {shape, dtype, low, high, seed}, new NativeArray[0],
                (k, a) -> one(k.randomUniform(shape, dtype, low, high, seed)));
    }

    @Override
    public NativeArray randomNormal(Shape shape, DType dtype, double mean, double std, long seed) {
        Tape t = armed();
        if (t == null) {
            return delegate.randomNormal(shape, dtype, mean, std, seed);
        }
        return rec(t, "randomNormal", new Object[] {shape, dtype, mean, std, seed}, new NativeArray[0],
                (k, a) -> one(k.randomNormal(shape, dtype, mean, std, seed)));
    }

    @Override
    public NativeArray arange(int n, DType dtype) {
        Tape t = armed();
        if (t == null) {
            return delegate.arange(n, dtype);
        }
        return rec(t, "arange", new Object[] {n, dtype}, new NativeArray[0], (k, a) -> one(k.arange(n, dtype)));
    }

    // ---- host reads -------------------------------------------------------------------------

    @Override
    public double[] toDoubles(NativeArray x) {
        hostRead("toDoubles");
        return delegate.toDoubles(x);
    }

    @Override
    public float[] toFloats(NativeArray x) {
        hostRead("toFloats");
        return delegate.toFloats(x);
    }

    @Override
    public long[] toLongs(NativeArray x) {
        hostRead("toLongs");
        return delegate.toLongs(x);
    }

    // ---- elementwise ------------------------------------------------------------------------

    @Override
    public NativeArray unary(UnaryOp op, NativeArray x) {
        Tape t = armed();
        if (t == null) {
            return delegate.unary(op, x);
        }
        return rec(t, "unary", new Object[] {op}, new NativeArray[] {x}, (k, a) -> one(k.unary(op, a[0])));
    }

    @Override
    public NativeArray binary(BinaryOp op, NativeArray a, NativeArray b) {
        Tape t = armed();
        if (t == null) {
            return delegate.binary(op, a, b);
        }
        return rec(t, "binary", new Object[] {op}, new NativeArray[] {a, b}, (k, o) -> one(k.binary(op, o[0], o[1])));
    }

    @Override
    public NativeArray binaryScalar(BinaryOp op, NativeArray a, double scalar) {
        Tape t = armed();
        if (t == null) {
            return delegate.binaryScalar(op, a, scalar);
        }
        return rec(t, "binaryScalar", new Object[] {op, scalar}, new NativeArray[] {a}, (k, o) -> one(k.binaryScalar(op, o[0], scalar)));
    }

    @Override
    public NativeArray where(NativeArray condition, NativeArray onTrue, NativeArray onFalse) {
        Tape t = armed();
        if (t == null) {
            return delegate.where(condition, onTrue, onFalse);
        }
        return rec(t, "where", new Object[0], new NativeArray[] {condition, onTrue, onFalse}, (k, o) -> one(k.where(o[0], o[1], o[2])));
    }

    @Override
    public NativeArray cast(NativeArray x, DType dtype) {
        Tape t = armed();
        if (t == null) {
            return delegate.cast(x, dtype);
        }
        return rec(t, "cast", new Object[] {dtype}, new NativeArray[] {x}, (k, o) -> one(k.cast(o[0], dtype)));
    }

    // ---- linear algebra and reductions ------------------------------------------------------

    @Override
    public NativeArray matmul(NativeArray a, NativeArray b) {
        Tape t = armed();
        if (t == null) {
            return delegate.matmul(a, b);
        }
        return rec(t, "matmul", new Object[0], new NativeArray[] {a, b}, (k, o) -> one(k.matmul(o[0], o[1])));
    }

    @Override
    public NativeArray matmul(NativeArray a, NativeArray b, boolean transposeA, boolean transposeB) {
        Tape t = armed();
        if (t == null) {
            return delegate.matmul(a, b, transposeA, transposeB);
        }
        return rec(t, "matmulT", new Object[] {transposeA, transposeB}, new NativeArray[] {a, b},
                (k, o) -> one(k.matmul(o[0], o[1], transposeA, transposeB)));
    }

    @Override
    public NativeArray reduce(ReduceOp op, NativeArray x, int[] axes, boolean keepDims) {
        Tape t = armed();
        if (t == null) {
            return delegate.reduce(op, x, axes, keepDims);
        }
        int[] copy = axes.clone();
        return rec(t, "reduce", new Object[] {op, copy, keepDims}, new NativeArray[] {x}, (k, o) -> one(k.reduce(op, o[0], copy, keepDims)));
    }

    @Override
    public NativeArray softmax(NativeArray x, int axis) {
        Tape t = armed();
        if (t == null) {
            return delegate.softmax(x, axis);
        }
        return rec(t, "softmax", new Object[] {axis}, new NativeArray[] {x}, (k, o) -> one(k.softmax(o[0], axis)));
    }

    @Override
    public NativeArray logSumExp(NativeArray x, int axis, boolean keepDims) {
        Tape t = armed();
        if (t == null) {
            return delegate.logSumExp(x, axis, keepDims);
        }
        return rec(t, "logSumExp", new Object[] {axis, keepDims}, new NativeArray[] {x}, (k, o) -> one(k.logSumExp(o[0], axis, keepDims)));
    }

    @Override
    public TopK topK(NativeArray x, int kk, int axis) {
        Tape t = armed();
        if (t == null) {
            return delegate.topK(x, kk, axis);
        }
        NativeArray[] out = t.record(delegate, "topK", new Object[] {kk, axis}, new NativeArray[] {x}, (k, o) -> {
            TopK r = k.topK(o[0], kk, axis);
            return new NativeArray[] {r.values(), r.indices()};
        });
        return new TopK(out[0], out[1]);
    }

    // ---- shape and indexing -----------------------------------------------------------------

    @Override
    public NativeArray reshape(NativeArray x, Shape shape) {
        Tape t = armed();
        if (t == null) {
            return delegate.reshape(x, shape);
        }
        return rec(t, "reshape", new Object[] {shape}, new NativeArray[] {x}, (k, o) -> one(k.reshape(o[0], shape)));
    }

    @Override
    public NativeArray transpose(NativeArray x, int[] permutation) {
        Tape t = armed();
        if (t == null) {
            return delegate.transpose(x, permutation);
        }
        int[] copy = permutation.clone();
        return rec(t, "transpose", new Object[] {copy}, new NativeArray[] {x}, (k, o) -> one(k.transpose(o[0], copy)));
    }

    @Override
    public NativeArray broadcastTo(NativeArray x, Shape shape) {
        Tape t = armed();
        if (t == null) {
            return delegate.broadcastTo(x, shape);
        }
        return rec(t, "broadcastTo", new Object[] {shape}, new NativeArray[] {x}, (k, o) -> one(k.broadcastTo(o[0], shape)));
    }

    @Override
    public NativeArray slice(NativeArray x, int[] begin, int[] end) {
        Tape t = armed();
        if (t == null) {
            return delegate.slice(x, begin, end);
        }
        int[] b = begin.clone();
        int[] e = end.clone();
        return rec(t, "slice", new Object[] {b, e}, new NativeArray[] {x}, (k, o) -> one(k.slice(o[0], b, e)));
    }

    @Override
    public NativeArray concat(List<NativeArray> parts, int axis) {
        Tape t = armed();
        if (t == null) {
            return delegate.concat(parts, axis);
        }
        return rec(t, "concat", new Object[] {axis}, parts.toArray(new NativeArray[0]), (k, o) -> one(k.concat(List.of(o), axis)));
    }

    @Override
    public NativeArray gather(NativeArray x, NativeArray indices, int axis) {
        Tape t = armed();
        if (t == null) {
            return delegate.gather(x, indices, axis);
        }
        return rec(t, "gather", new Object[] {axis}, new NativeArray[] {x, indices}, (k, o) -> one(k.gather(o[0], o[1], axis)));
    }

    @Override
    public NativeArray scatterAdd(NativeArray target, NativeArray indices, NativeArray updates, int axis) {
        Tape t = armed();
        if (t == null) {
            return delegate.scatterAdd(target, indices, updates, axis);
        }
        return rec(t, "scatterAdd", new Object[] {axis}, new NativeArray[] {target, indices, updates},
                (k, o) -> one(k.scatterAdd(o[0], o[1], o[2], axis)));
    }

    // ---- convolution ------------------------------------------------------------------------

    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, int[] stride, int[] padding) {
        Tape t = armed();
        if (t == null) {
            return delegate.conv2d(input, weight, stride, padding);
        }
        int[] s = stride.clone();
        int[] p = padding.clone();
        return rec(t, "conv2d", new Object[] {s, p}, new NativeArray[] {input, weight}, (k, o) -> one(k.conv2d(o[0], o[1], s, p)));
    }

    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, Conv2dOptions options) {
        Tape t = armed();
        if (t == null) {
            return delegate.conv2d(input, weight, options);
        }
        return rec(t, "conv2dOptions", new Object[] {options}, new NativeArray[] {input, weight}, (k, o) -> one(k.conv2d(o[0], o[1], options)));
    }

    @Override
    public NativeArray conv2dBackwardInput(NativeArray gradOutput, NativeArray weight, Shape inputShape, Conv2dOptions options) {
        Tape t = armed();
        if (t == null) {
            return delegate.conv2dBackwardInput(gradOutput, weight, inputShape, options);
        }
        return rec(t, "conv2dBackwardInput", new Object[] {inputShape, options}, new NativeArray[] {gradOutput, weight},
                (k, o) -> one(k.conv2dBackwardInput(o[0], o[1], inputShape, options)));
    }

    @Override
    public NativeArray conv2dBackwardWeight(NativeArray input, NativeArray gradOutput, Shape weightShape, Conv2dOptions options) {
        Tape t = armed();
        if (t == null) {
            return delegate.conv2dBackwardWeight(input, gradOutput, weightShape, options);
        }
        return rec(t, "conv2dBackwardWeight", new Object[] {weightShape, options}, new NativeArray[] {input, gradOutput},
                (k, o) -> one(k.conv2dBackwardWeight(o[0], o[1], weightShape, options)));
    }

    // ---- index and ordering kernels -----------------------------------------------------------

    @Override
    public NativeArray cumsum(NativeArray x, int axis) {
        Tape t = armed();
        if (t == null) {
            return delegate.cumsum(x, axis);
        }
        return rec(t, "cumsum", new Object[] {axis}, new NativeArray[] {x}, (k, o) -> one(k.cumsum(o[0], axis)));
    }

    @Override
    public NativeArray argmax(NativeArray x, int axis, boolean keepDims) {
        Tape t = armed();
        if (t == null) {
            return delegate.argmax(x, axis, keepDims);
        }
        return rec(t, "argmax", new Object[] {axis, keepDims}, new NativeArray[] {x}, (k, o) -> one(k.argmax(o[0], axis, keepDims)));
    }

    @Override
    public NativeArray argsort(NativeArray x, int axis, boolean descending) {
        Tape t = armed();
        if (t == null) {
            return delegate.argsort(x, axis, descending);
        }
        return rec(t, "argsort", new Object[] {axis, descending}, new NativeArray[] {x}, (k, o) -> one(k.argsort(o[0], axis, descending)));
    }

    @Override
    public NativeArray sort(NativeArray x, int axis, boolean descending) {
        Tape t = armed();
        if (t == null) {
            return delegate.sort(x, axis, descending);
        }
        return rec(t, "sort", new Object[] {axis, descending}, new NativeArray[] {x}, (k, o) -> one(k.sort(o[0], axis, descending)));
    }

    @Override
    public NativeArray segmentSum(NativeArray data, NativeArray segmentIds, int numSegments) {
        Tape t = armed();
        if (t == null) {
            return delegate.segmentSum(data, segmentIds, numSegments);
        }
        return rec(t, "segmentSum", new Object[] {numSegments}, new NativeArray[] {data, segmentIds},
                (k, o) -> one(k.segmentSum(o[0], o[1], numSegments)));
    }

    @Override
    public NativeArray segmentMax(NativeArray data, NativeArray segmentIds, int numSegments) {
        Tape t = armed();
        if (t == null) {
            return delegate.segmentMax(data, segmentIds, numSegments);
        }
        return rec(t, "segmentMax", new Object[] {numSegments}, new NativeArray[] {data, segmentIds},
                (k, o) -> one(k.segmentMax(o[0], o[1], numSegments)));
    }

    // ---- fused kernels ----------------------------------------------------------------------

    @Override
    public NativeArray linear(NativeArray x, NativeArray w, NativeArray b) {
        Tape t = armed();
        if (t == null) {
            return delegate.linear(x, w, b);
        }
        return rec(t, "linear", new Object[0], new NativeArray[] {x, w, b}, (k, o) -> one(k.linear(o[0], o[1], o[2])));
    }

    @Override
    public AdamResult adamUpdate(NativeArray param, NativeArray grad, NativeArray m, NativeArray v, AdamStep h) {
        Tape t = armed();
        if (t == null) {
            return delegate.adamUpdate(param, grad, m, v, h);
        }
        NativeArray[] out = t.record(delegate, "adamUpdate", new Object[] {h}, new NativeArray[] {param, grad, m, v}, (k, o) -> {
            AdamResult r = k.adamUpdate(o[0], o[1], o[2], o[3], h);
            return new NativeArray[] {r.param(), r.m(), r.v()};
        });
        return new AdamResult(out[0], out[1], out[2]);
    }

    @Override
    public List<AdamResult> adamUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                              List<NativeArray> v, AdamStep h) {
        Tape t = armed();
        if (t != null) {
            t.refuse("the step runs adamUpdateForeach, which may overwrite its moments in place; replay needs kernels"
                    + " that leave their operands unchanged");
        }
        return delegate.adamUpdateForeach(params, grads, m, v, h);
    }

    @Override
    public List<AdamResult> adamUpdateForeachInPlace(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                                     List<NativeArray> v, AdamStep h) {
        Tape t = armed();
        if (t != null) {
            t.refuse("the step runs adamUpdateForeachInPlace, which may overwrite its parameters and moments; replay needs"
                    + " kernels that leave their operands unchanged");
        }
        return delegate.adamUpdateForeachInPlace(params, grads, m, v, h);
    }

    @Override
    public List<SgdResult> sgdUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> buffers,
                                            SgdStep h) {
        Tape t = armed();
        if (t != null) {
            t.refuse("the step runs sgdUpdateForeach, which may overwrite its momentum buffers in place; replay needs kernels"
                    + " that leave their operands unchanged");
        }
        return delegate.sgdUpdateForeach(params, grads, buffers, h);
    }

    @Override
    public NativeArray reluBackward(NativeArray grad, NativeArray input) {
        Tape t = armed();
        if (t == null) {
            return delegate.reluBackward(grad, input);
        }
        return rec(t, "reluBackward", new Object[0], new NativeArray[] {grad, input}, (k, o) -> one(k.reluBackward(o[0], o[1])));
    }

    @Override
    public NativeArray softmaxCrossEntropyBackward(NativeArray grad, NativeArray logits, NativeArray target, int axis) {
        Tape t = armed();
        if (t == null) {
            return delegate.softmaxCrossEntropyBackward(grad, logits, target, axis);
        }
        return rec(t, "softmaxCrossEntropyBackward", new Object[] {axis}, new NativeArray[] {grad, logits, target},
                (k, o) -> one(k.softmaxCrossEntropyBackward(o[0], o[1], o[2], axis)));
    }

    @Override
    public NativeArray biasGradient(NativeArray grad, Shape biasShape) {
        Tape t = armed();
        if (t == null) {
            return delegate.biasGradient(grad, biasShape);
        }
        return rec(t, "biasGradient", new Object[] {biasShape}, new NativeArray[] {grad},
                (k, o) -> one(k.biasGradient(o[0], biasShape)));
    }

    @Override
    public NativeArray softmaxCrossEntropy(NativeArray logits, NativeArray target, int axis) {
        Tape t = armed();
        if (t == null) {
            return delegate.softmaxCrossEntropy(logits, target, axis);
        }
        return rec(t, "softmaxCrossEntropy", new Object[] {axis}, new NativeArray[] {logits, target},
                (k, o) -> one(k.softmaxCrossEntropy(o[0], o[1], axis)));
    }

    // ---- identity ---------------------------------------------------------------------------

    @Override
    public boolean computesValues() {
        return delegate.computesValues();
    }

    @Override
    public String backendName() {
        return delegate.backendName();
    }
}
