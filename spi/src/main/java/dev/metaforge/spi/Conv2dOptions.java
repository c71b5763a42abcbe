package dev.metaforge.spi;

import java.util.Arrays;

/**
 * The geometry of a 2-D convolution (cross-correlation, PyTorch's {@code conv2d}): NCHW input,
 * weight {@code [O, C/groups, kH, kW]}.
 *
 * @param stride   step between windows, {@code [sH, sW]}, each at least 1
 * @param padding  zeros added on both sides, {@code [pH, pW]}, each at least 0
 * @param dilation spacing between kernel taps, {@code [dH, dW]}, each at least 1
 * @param groups   input and output channels are split into this many independent groups
 */
public record Conv2dOptions(int[] stride, int[] padding, int[] dilation, int groups) {
    public Conv2dOptions {
        stride = pair(stride, "stride", 1);
        padding = pair(padding, "padding", 0);
        dilation = pair(dilation, "dilation", 1);
        if (groups < 1) {
            throw new IllegalArgumentException("conv2d: groups must be >= 1, got " + groups);
        }
    }

    /** Stride 1, no padding, no dilation, one group. */
    public static Conv2dOptions defaults() {
        return new Conv2dOptions(new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}, 1);
    }

    /** Stride and padding only (dilation 1, one group). */
    public static Conv2dOptions of(int[] stride, int[] padding) {
        return new Conv2dOptions(stride, padding, new int[] {1, 1}, 1);
    }

    /** True when only stride and padding differ from the defaults (what the original SPI kernel supports). */
    public boolean isPlain() {
        return dilation[0] == 1 && dilation[1] == 1 && groups == 1;
    }

    /** The extent of one kernel tap pattern along axis {@code i} (0: height, 1: width). */
    public int effectiveKernel(int kernel, int i) {
        return dilation[i] * (kernel - 1) + 1;
    }

    /**
     * The output shape for {@code input} [N, C, H, W] and {@code weight} [O, C/groups, kH, kW], after
     * checking that they fit these options.
     *
     * @throws IllegalArgumentException naming the shapes when channels, groups or sizes do not fit
     */
    public Shape outputShape(Shape input, Shape weight) {
        if (input.rank() != 4 || weight.rank() != 4) {
            throw new IllegalArgumentException("conv2d: input must be NCHW and weight OIHW (rank 4), got input "
                    + input + " and weight " + weight);
        }
        int channels = input.dim(1);
        int out = weight.dim(0);
        if (channels % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("conv2d: " + groups + " groups must divide the input channels ("
                    + channels + ") and output channels (" + out + "): input " + input + ", weight " + weight);
        }
        if (weight.dim(1) * groups != channels) {
            throw new IllegalArgumentException("conv2d: input " + input + " has " + channels + " channels but the weight "
                    + weight + " expects " + weight.dim(1) + " per group x " + groups + " groups");
        }
        int[] dims = new int[4];
        dims[0] = input.dim(0);
        dims[1] = out;
        for (int i = 0; i < 2; i++) {
            int padded = input.dim(2 + i) + 2 * padding[i];
            int k = weight.dim(2 + i);
            int extent = effectiveKernel(k, i);
            if (k < 1 || padded < extent) {
                throw new IllegalArgumentException("conv2d: kernel " + weight.dim(2) + "x" + weight.dim(3) + " (dilation "
                        + Arrays.toString(dilation) + ") does not fit the padded input " + (input.dim(2) + 2 * padding[0]) + "x"
                        + (input.dim(3) + 2 * padding[1]) + " (input " + input + ", padding " + Arrays.toString(padding) + ")");
            }
            dims[2 + i] = (padded - extent) / stride[i] + 1;
        }
        return Shape.of(dims);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Conv2dOptions c && Arrays.equals(stride, c.stride) && Arrays.equals(padding, c.padding)
                && Arrays.equals(dilation, c.dilation) && groups == c.groups;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(stride) * 31 * 31 + Arrays.hashCode(padding) * 31 + Arrays.hashCode(dilation) + groups;
    }

    @Override
    public String toString() {
        return "Conv2dOptions[stride=" + Arrays.toString(stride) + ", padding=" + Arrays.toString(padding)
                + ", dilation=" + Arrays.toString(dilation) + ", groups=" + groups + "]";
    }

    private static int[] pair(int[] values, String what, int min) {
        if (values == null || values.length != 2 || values[0] < min || values[1] < min) {
            throw new IllegalArgumentException("conv2d: " + what + " must be two values >= " + min + ", got "
                    + (values == null ? "null" : Arrays.toString(values)));
        }
        return values.clone();
    }
}
