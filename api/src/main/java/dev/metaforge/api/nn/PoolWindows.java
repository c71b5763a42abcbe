package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * 2-D pooling over the last two axes, composed from differentiable tensor ops (so gradients of any
 * order come from the op table). Shared by {@link MaxPool2d} and {@link AvgPool2d}.
 *
 * <p>Fast path, when windows tile the input (stride = kernel, no padding): crop the rows and
 * columns no window covers, reshape to [..., H', kh, W', kw] and reduce the two kernel axes.
 * General path: pad, gather every window's entries with one precomputed index tensor
 * ([..., H'*W'*kh*kw]) and reduce the last axis. Either way a max shares its cotangent evenly
 * among tied entries of a window (the {@code max} VJP).
 *
 * @param kernelHeight  window rows
 * @param kernelWidth   window columns
 * @param strideHeight  step between window rows
 * @param strideWidth   step between window columns
 * @param paddingHeight rows of padding on top and bottom
 * @param paddingWidth  columns of padding left and right
 */
record PoolWindows(int kernelHeight, int kernelWidth, int strideHeight, int strideWidth, int paddingHeight, int paddingWidth) {
    PoolWindows {
        if (kernelHeight <= 0 || kernelWidth <= 0 || strideHeight <= 0 || strideWidth <= 0) {
            throw new IllegalArgumentException("pooling needs a positive kernel and stride, got kernel " + kernelHeight + "x"
                    + kernelWidth + ", stride " + strideHeight + "x" + strideWidth);
        }
        // As in PyTorch: every window must hold at least one real entry.
        if (paddingHeight < 0 || paddingWidth < 0 || 2 * paddingHeight > kernelHeight || 2 * paddingWidth > kernelWidth) {
            throw new IllegalArgumentException("pooling padding must be between 0 and half the kernel, got padding "
                    + paddingHeight + "x" + paddingWidth + " for kernel " + kernelHeight + "x" + kernelWidth);
        }
    }

    /** How a window is reduced, and what padding holds. */
    enum Reduction {
        /** Padding is -infinity, so it never wins. */
        MAX,
        /** Padding is 0 and counts in the divisor (PyTorch's {@code count_include_pad=True}). */
        MEAN
    }

    Tensor pool(Tensor x, Reduction reduction, String layer) {
        if (x.rank() < 3) {
            throw new IllegalArgumentException(layer + ": input shape " + x.shape()
                    + " needs at least [C, H, W]; pooling runs over the last two axes");
        }
        int height = x.dim(-2);
        int width = x.dim(-1);
        int paddedHeight = height + 2 * paddingHeight;
        int paddedWidth = width + 2 * paddingWidth;
        if (kernelHeight > paddedHeight || kernelWidth > paddedWidth) {
            throw new IllegalArgumentException(layer + ": kernel " + kernelHeight + "x" + kernelWidth
                    + " is larger than the padded input " + paddedHeight + "x" + paddedWidth + " (input shape " + x.shape()
                    + ", padding " + paddingHeight + "x" + paddingWidth + ")");
        }
        int outHeight = (paddedHeight - kernelHeight) / strideHeight + 1;
        int outWidth = (paddedWidth - kernelWidth) / strideWidth + 1;
        int rank = x.rank();
        int[] lead = new int[rank - 2];
        for (int i = 0; i < lead.length; i++) {
            lead[i] = x.dim(i);
        }
        if (paddingHeight == 0 && paddingWidth == 0 && strideHeight == kernelHeight && strideWidth == kernelWidth) {
            Tensor cropped = x;
            if (outHeight * kernelHeight != height || outWidth * kernelWidth != width) {
                int[] begin = new int[rank];
                int[] end = x.shape().dims();
                end[rank - 2] = outHeight * kernelHeight;
                end[rank - 1] = outWidth * kernelWidth;
                cropped = x.slice(begin, end);
            }
            Tensor tiles = cropped.reshape(dims(lead, outHeight, kernelHeight, outWidth, kernelWidth));
            int[] kernelAxes = {rank - 1, rank + 1};
            return reduction == Reduction.MAX ? tiles.max(kernelAxes, false) : tiles.mean(kernelAxes, false);
        }
        Tensor padded = pad(x, reduction == Reduction.MAX ? Double.NEGATIVE_INFINITY : 0.0);
        int rows = Math.toIntExact(x.size() / ((long) height * width));
        Tensor flat = padded.reshape(rows, paddedHeight * paddedWidth);
        Tensor windows = flat.gather(windowOffsets(x, outHeight, outWidth, paddedWidth), 1)
                .reshape(rows, outHeight, outWidth, kernelHeight * kernelWidth);
        Tensor reduced = reduction == Reduction.MAX ? windows.max(3, false) : windows.mean(3, false);
        return reduced.reshape(dims(lead, outHeight, outWidth));
    }

    /** Flat offsets into the padded [H_p * W_p] plane, window by window, tap by tap. */
    private Tensor windowOffsets(Tensor like, int outHeight, int outWidth, int paddedWidth) {
        long[] offsets = new long[outHeight * outWidth * kernelHeight * kernelWidth];
        int k = 0;
        for (int i = 0; i < outHeight; i++) {
            for (int j = 0; j < outWidth; j++) {
                for (int a = 0; a < kernelHeight; a++) {
                    for (int c = 0; c < kernelWidth; c++) {
                        offsets[k++] = (long) (i * strideHeight + a) * paddedWidth + (j * strideWidth + c);
                    }
                }
            }
        }
        return like.engine().indices(offsets, offsets.length);
    }

    private Tensor pad(Tensor x, double value) {
        Tensor out = x;
        int rank = x.rank();
        if (paddingHeight > 0) {
            out = surround(out, rank - 2, paddingHeight, value);
        }
        if (paddingWidth > 0) {
            out = surround(out, rank - 1, paddingWidth, value);
        }
        return out;
    }

    private static Tensor surround(Tensor x, int axis, int amount, double value) {
        Shape side = x.shape().with(axis, amount);
        Tensor fill = x.engine().full(side, value, x.dtype());
        List<Tensor> parts = new ArrayList<>(List.of(fill, x, fill));
        return Tensor.concat(parts, axis);
    }

    private static int[] dims(int[] lead, int... tail) {
        int[] out = new int[lead.length + tail.length];
        System.arraycopy(lead, 0, out, 0, lead.length);
        System.arraycopy(tail, 0, out, lead.length, tail.length);
        return out;
    }

    /** Records a pooling layer that maps each channel to itself ({@code op}: "max" or "avg"). */
    NeuronGroup describe(StructureBuilder b, String prefix, String kind, String op, NeuronGroup input) {
        b.layer(prefix, kind, input, input, java.util.Map.of(), java.util.Map.of("op", op, "kernel", kernelHeight + "x" + kernelWidth,
                "stride", strideHeight + "x" + strideWidth, "padding", paddingHeight + "x" + paddingWidth));
        return input;
    }

    String describeWindow() {
        return kernelHeight + "x" + kernelWidth + ", stride " + strideHeight + "x" + strideWidth + ", padding "
                + paddingHeight + "x" + paddingWidth;
    }
}
