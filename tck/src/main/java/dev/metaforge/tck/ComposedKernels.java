package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnaryOp;
import java.util.List;

/**
 * A backend's primitive kernels with the SPI's <em>default</em> compositions for everything else:
 * every abstract {@link Kernels} method (and the original {@code conv2d(input, weight, stride,
 * padding)}) is forwarded to the delegate, while the fused kernels ({@link #linear},
 * {@link #adamUpdate}, {@link #softmaxCrossEntropy}, {@link #softmaxCrossEntropyBackward}) and the kernels added later as default methods
 * (conv2d with options and its backward kernels, arange, cumsum, argmax, argsort, sort, segmentSum,
 * segmentMax) are deliberately not overridden, so they run the compositions the interface defines
 * on top of the backend's own primitives. FUSED-* and COMPOSED-* rules compare a backend's own
 * kernels with this ({@link TckContext#agreeWithComposition}); {@link ForwardingKernels} extends it
 * to forward everything.
 *
 * <pre>{@code
 * Kernels composed = new ComposedKernels(backend.kernels());
 * NativeArray expected = composed.cumsum(x, 1); // the SPI's scan over backend.kernels()' primitives
 * }</pre>
 */
public class ComposedKernels implements Kernels {
    protected final Kernels delegate;

    public ComposedKernels(Kernels delegate) {
        this.delegate = requireNonNull(delegate, "delegate is null");
    }

    @Override
    public NativeArray fromDoubles(double[] data, Shape shape, DType dtype) {
        return delegate.fromDoubles(data, shape, dtype);
    }

    @Override
    public NativeArray fromFloats(float[] data, Shape shape) {
        return delegate.fromFloats(data, shape);
    }

    @Override
    public NativeArray fromLongs(long[] data, Shape shape) {
        return delegate.fromLongs(data, shape);
    }

    @Override
    public NativeArray full(Shape shape, double value, DType dtype) {
        return delegate.full(shape, value, dtype);
    }

    @Override
    public NativeArray zeros(Shape shape, DType dtype) {
        return delegate.zeros(shape, dtype);
    }

    @Override
    public NativeArray randomUniform(Shape shape, DType dtype, double low, double high, long seed) {
        return delegate.randomUniform(shape, dtype, low, high, seed);
    }

    @Override
    public NativeArray randomNormal(Shape shape, DType dtype, double mean, double std, long seed) {
        return delegate.randomNormal(shape, dtype, mean, std, seed);
    }

    @Override
    public double[] toDoubles(NativeArray x) {
        return delegate.toDoubles(x);
    }

    @Override
    public float[] toFloats(NativeArray x) {
        return delegate.toFloats(x);
    }

    @Override
    public long[] toLongs(NativeArray x) {
        return delegate.toLongs(x);
    }

    @Override
    public NativeArray unary(UnaryOp op, NativeArray x) {
        return delegate.unary(op, x);
    }

    @Override
    public NativeArray binary(BinaryOp op, NativeArray a, NativeArray b) {
        return delegate.binary(op, a, b);
    }

    @Override
    public NativeArray binaryScalar(BinaryOp op, NativeArray a, double scalar) {
        return delegate.binaryScalar(op, a, scalar);
    }

    @Override
    public NativeArray where(NativeArray condition, NativeArray onTrue, NativeArray onFalse) {
        return delegate.where(condition, onTrue, onFalse);
    }

    @Override
    public NativeArray cast(NativeArray x, DType dtype) {
        return delegate.cast(x, dtype);
    }

    @Override
    public NativeArray matmul(NativeArray a, NativeArray b) {
        return delegate.matmul(a, b);
    }

    @Override
    public NativeArray reduce(ReduceOp op, NativeArray x, int[] axes, boolean keepDims) {
        return delegate.reduce(op, x, axes, keepDims);
    }

    @Override
    public NativeArray softmax(NativeArray x, int axis) {
        return delegate.softmax(x, axis);
    }

    @Override
    public NativeArray logSumExp(NativeArray x, int axis, boolean keepDims) {
        return delegate.logSumExp(x, axis, keepDims);
    }

    @Override
    public TopK topK(NativeArray x, int k, int axis) {
        return delegate.topK(x, k, axis);
    }

    @Override
    public NativeArray reshape(NativeArray x, Shape shape) {
        return delegate.reshape(x, shape);
    }

    @Override
    public NativeArray transpose(NativeArray x, int[] permutation) {
        return delegate.transpose(x, permutation);
    }

    @Override
    public NativeArray broadcastTo(NativeArray x, Shape shape) {
        return delegate.broadcastTo(x, shape);
    }

    @Override
    public NativeArray slice(NativeArray x, int[] begin, int[] end) {
        return delegate.slice(x, begin, end);
    }

    @Override
    public NativeArray concat(List<NativeArray> parts, int axis) {
        return delegate.concat(parts, axis);
    }

    @Override
    public NativeArray gather(NativeArray x, NativeArray indices, int axis) {
        return delegate.gather(x, indices, axis);
    }

    @Override
    public NativeArray scatterAdd(NativeArray target, NativeArray indices, NativeArray updates, int axis) {
        return delegate.scatterAdd(target, indices, updates, axis);
    }

    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, int[] stride, int[] padding) {
        return delegate.conv2d(input, weight, stride, padding);
    }

    @Override
    public String backendName() {
        return delegate.backendName();
    }
}
