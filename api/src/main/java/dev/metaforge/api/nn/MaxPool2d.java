package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;

/**
 * Max pooling over the last two axes (PyTorch's {@code nn.MaxPool2d}, without dilation or ceil mode):
 * each output entry is the largest entry of its window; padding never wins (it is -infinity).
 *
 * <p>Gradient at ties: the cotangent of a window is split <em>evenly</em> among its tied maxima
 * (PyTorch routes it all to the first one). The two agree wherever the maximum is unique, which
 * is almost everywhere; even splitting is the symmetric choice and a valid subgradient.
 *
 * <p>Input [..., C, H, W] of any rank >= 3, output [..., C, H', W'] with
 * H' = (H + 2 paddingHeight - kernelHeight) / strideHeight + 1 (rounded down). Having no
 * parameters, it treats a weight-batch input [B, N, C, H, W] like any other leading axis.
 * Composed from differentiable tensor ops: reshape and max when the windows tile the input, else
 * one gather of every window's entries (index offsets computed from the shapes) and the same reduction.
 *
 * @param kernelHeight  window rows
 * @param kernelWidth   window columns
 * @param strideHeight  step between window rows
 * @param strideWidth   step between window columns
 * @param paddingHeight rows added on top and bottom, at most half the kernel
 * @param paddingWidth  columns added left and right, at most half the kernel
 */
public record MaxPool2d(int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight,
                        int paddingWidth) implements Module {
    public MaxPool2d {
        new PoolWindows(kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth);   // checks the geometry
    }

    /** A square window with stride = kernel and no padding (PyTorch's default). */
    public static MaxPool2d of(int kernel) {
        return new MaxPool2d(kernel, kernel, kernel, kernel, 0, 0);
    }

    /** A square window with the given stride and padding. */
    public static MaxPool2d of(int kernel, int stride, int padding) {
        return new MaxPool2d(kernel, kernel, stride, stride, padding, padding);
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of();
    }

    @Override
    public String kind() {
        return "pool";
    }

    /** Each channel maps to itself: the layer reads and writes its input group. */
    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        return windows().describe(b, prefix, kind(), "max", input);
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        return windows().pool(input, PoolWindows.Reduction.MAX, toString());
    }

    /** The window geometry (checked when the layer is made). */
    private PoolWindows windows() {
        return new PoolWindows(kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth);
    }

    @Override
    public String toString() {
        return "MaxPool2d(" + windows().describeWindow() + ")";
    }
}
