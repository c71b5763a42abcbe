package dev.metaforge.tck;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.SgdResult;
import dev.metaforge.spi.SgdStep;
import dev.metaforge.spi.Shape;
import java.util.List;

/**
 * Forwards every kernel to a delegate: the primitives (through {@link ComposedKernels}), the fused
 * kernels and every kernel the SPI added later as a default method. Subclass it to change one kernel
 * (the TCK's own tests build deliberately broken backends this way) or to decorate a backend's
 * kernels (rename, count, refuse a dtype).
 *
 * <pre>{@code
 * Kernels renamed = new ForwardingKernels(new ReferenceBackend().kernels()) {
 *     @Override
 *     public String backendName() {
 *         return "fake";
 *     }
 * };
 * }</pre>
 *
 * A kernel added to {@link Kernels} later must be forwarded here too, or wrappers would silently run
 * its composed default instead of the delegate's kernel (the kit's self-test lists every method).
 */
public class ForwardingKernels extends ComposedKernels {
    public ForwardingKernels(Kernels delegate) {
        super(delegate);
    }

    @Override
    public boolean computesValues() {
        return delegate.computesValues();
    }

    // ---- fused kernels --------------------------------------------------------------------

    @Override
    public NativeArray linear(NativeArray x, NativeArray w, NativeArray b) {
        return delegate.linear(x, w, b);
    }

    @Override
    public NativeArray matmul(NativeArray a, NativeArray b, boolean transposeA, boolean transposeB) {
        return delegate.matmul(a, b, transposeA, transposeB);
    }

    @Override
    public AdamResult adamUpdate(NativeArray param, NativeArray grad, NativeArray m, NativeArray v, AdamStep h) {
        return delegate.adamUpdate(param, grad, m, v, h);
    }

    @Override
    public List<AdamResult> adamUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                              List<NativeArray> v, AdamStep h) {
        return delegate.adamUpdateForeach(params, grads, m, v, h);
    }

    @Override
    public List<AdamResult> adamUpdateForeachInPlace(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> m,
                                                     List<NativeArray> v, AdamStep h) {
        return delegate.adamUpdateForeachInPlace(params, grads, m, v, h);
    }

    @Override
    public List<SgdResult> sgdUpdateForeach(List<NativeArray> params, List<NativeArray> grads, List<NativeArray> buffers,
                                            SgdStep h) {
        return delegate.sgdUpdateForeach(params, grads, buffers, h);
    }

    @Override
    public NativeArray reluBackward(NativeArray grad, NativeArray input) {
        return delegate.reluBackward(grad, input);
    }

    @Override
    public NativeArray softmaxCrossEntropyBackward(NativeArray grad, NativeArray logits, NativeArray target, int axis) {
        return delegate.softmaxCrossEntropyBackward(grad, logits, target, axis);
    }

    @Override
    public NativeArray biasGradient(NativeArray grad, Shape biasShape) {
        return delegate.biasGradient(grad, biasShape);
    }

    @Override
    public NativeArray softmaxCrossEntropy(NativeArray logits, NativeArray target, int axis) {
        return delegate.softmaxCrossEntropy(logits, target, axis);
    }

    // ---- kernels added to the SPI as default methods --------------------------------------

    @Override
    public NativeArray conv2d(NativeArray input, NativeArray weight, Conv2dOptions options) {
        return delegate.conv2d(input, weight, options);
    }

    @Override
    public NativeArray conv2dBackwardInput(NativeArray gradOutput, NativeArray weight, Shape inputShape,
                                           Conv2dOptions options) {
        return delegate.conv2dBackwardInput(gradOutput, weight, inputShape, options);
    }

    @Override
    public NativeArray conv2dBackwardWeight(NativeArray input, NativeArray gradOutput, Shape weightShape,
                                            Conv2dOptions options) {
        return delegate.conv2dBackwardWeight(input, gradOutput, weightShape, options);
    }

    @Override
    public NativeArray arange(int n, DType dtype) {
        return delegate.arange(n, dtype);
    }

    @Override
    public NativeArray cumsum(NativeArray x, int axis) {
        return delegate.cumsum(x, axis);
    }

    @Override
    public NativeArray argmax(NativeArray x, int axis, boolean keepDims) {
        return delegate.argmax(x, axis, keepDims);
    }

    @Override
    public NativeArray argsort(NativeArray x, int axis, boolean descending) {
        return delegate.argsort(x, axis, descending);
    }

    @Override
    public NativeArray sort(NativeArray x, int axis, boolean descending) {
        return delegate.sort(x, axis, descending);
    }

    @Override
    public NativeArray segmentSum(NativeArray data, NativeArray segmentIds, int numSegments) {
        return delegate.segmentSum(data, segmentIds, numSegments);
    }

    @Override
    public NativeArray segmentMax(NativeArray data, NativeArray segmentIds, int numSegments) {
        return delegate.segmentMax(data, segmentIds, numSegments);
    }
}
