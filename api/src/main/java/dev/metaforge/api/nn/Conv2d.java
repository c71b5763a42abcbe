package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * 2-D convolution (cross-correlation, PyTorch's {@code nn.Conv2d}) of an NCHW input with
 * {@code weight} [out, in/groups, kh, kw] and {@code bias} [out].
 *
 * <p>Initialisation is PyTorch's default: weight and bias U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with
 * fanIn = in/groups * kh * kw; fanOut = out * kh * kw, as PyTorch computes it for Kaiming/Xavier
 * fan-out modes.
 *
 * <p>Weight batch: with {@code weight} [B, out, in/groups, kh, kw] and {@code bias} [B, out], an
 * input [N, in, H, W] is shared by the B networks and an input [B, N, in, H, W] gives each its own;
 * the output is [B, N, out, H', W']. Both run as ONE convolution: the B networks become B (times
 * {@code groups}) convolution groups. B = 1 takes the unbatched path, so it equals the unbatched
 * call exactly.
 *
 * <pre>{@code Conv2d conv = Conv2d.of(3, 16, 3).withPadding(1).withStride(2); }</pre>
 *
 * @param inChannels   input channels C
 * @param outChannels  output channels O
 * @param kernelHeight kernel rows
 * @param kernelWidth  kernel columns
 * @param options      stride, padding, dilation and groups
 * @param bias         whether there is a bias
 * @param weightInit   initializer of the weight (the bias uses PyTorch's default)
 */
public record Conv2d(int inChannels, int outChannels, int kernelHeight, int kernelWidth, Conv2dOptions options,
                     boolean bias, Initializer weightInit) implements Module {
    public Conv2d {
        requireNonNull(options, "options is null");
        requireNonNull(weightInit, "weightInit is null");
        if (inChannels <= 0 || outChannels <= 0 || kernelHeight <= 0 || kernelWidth <= 0) {
            throw new IllegalArgumentException("Conv2d needs positive sizes, got inChannels=" + inChannels + " outChannels="
                    + outChannels + " kernel=" + kernelHeight + "x" + kernelWidth);
        }
        int groups = options.groups();
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("Conv2d: groups = " + groups + " must divide inChannels = " + inChannels
                    + " and outChannels = " + outChannels);
        }
    }

    /** A square kernel, stride 1, no padding, one group, a bias, PyTorch's initialisation. */
    public static Conv2d of(int inChannels, int outChannels, int kernel) {
        return new Conv2d(inChannels, outChannels, kernel, kernel, Conv2dOptions.defaults(), true, Initializer.torchDefault());
    }

    public Conv2d withStride(int stride) {
        return withOptions(new Conv2dOptions(new int[] {stride, stride}, options.padding(), options.dilation(), options.groups()));
    }

    public Conv2d withPadding(int padding) {
        return withOptions(new Conv2dOptions(options.stride(), new int[] {padding, padding}, options.dilation(), options.groups()));
    }

    public Conv2d withDilation(int dilation) {
        return withOptions(new Conv2dOptions(options.stride(), options.padding(), new int[] {dilation, dilation}, options.groups()));
    }

    public Conv2d withGroups(int groups) {
        return withOptions(new Conv2dOptions(options.stride(), options.padding(), options.dilation(), groups));
    }

    public Conv2d withBias(boolean withBias) {
        return new Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, options, withBias, weightInit);
    }

    public Conv2d withOptions(Conv2dOptions newOptions) {
        return new Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, newOptions, bias, weightInit);
    }

    /** Input channels per group: axis 1 of the weight. */
    public int channelsPerGroup() {
        return inChannels / options.groups();
    }

    @Override
    public List<ParamSpec> parameters() {
        int receptive = kernelHeight * kernelWidth;
        int fanIn = channelsPerGroup() * receptive;
        int fanOut = outChannels * receptive;
        List<ParamSpec> specs = new ArrayList<>(2);
        specs.add(new ParamSpec("weight", Shape.of(outChannels, channelsPerGroup(), kernelHeight, kernelWidth),
                ParamKind.CONV_WEIGHT, List.of(Axis.OUT, Axis.IN, Axis.KERNEL, Axis.KERNEL), fanIn, fanOut, weightInit));
        if (bias) {
            specs.add(new ParamSpec("bias", Shape.of(outChannels), ParamKind.BIAS, List.of(Axis.OUT), fanIn, fanOut,
                    Initializer.torchDefault()));
        }
        return specs;
    }

    @Override
    public String kind() {
        return "conv2d";
    }

    /**
     * Reads the input channel group and writes a new output channel group; with {@code groups} > 1
     * the output group splits into that many blocks (a block of output channels reads only its
     * block of input channels, so permutations may not mix blocks).
     */
    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup in = b.resolve(input, inChannels);
        NeuronGroup out = b.group(StructureBuilder.join(prefix, "out"), outChannels, options.groups());
        Map<String, String> params = new LinkedHashMap<>();
        params.put("weight", StructureBuilder.join(prefix, "weight"));
        if (bias) {
            params.put("bias", StructureBuilder.join(prefix, "bias"));
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        attributes.put("kernel", kernelHeight + "x" + kernelWidth);
        attributes.put("stride", Arrays.toString(options.stride()));
        attributes.put("padding", Arrays.toString(options.padding()));
        attributes.put("dilation", Arrays.toString(options.dilation()));
        attributes.put("groups", Integer.toString(options.groups()));
        b.layer(prefix, kind(), in, out, params, attributes);
        return out;
    }

    @Override
    public Tensor apply(Params params, Tensor x) {
        Tensor w = params.get("weight");
        Tensor b = bias ? params.get("bias") : null;
        int batch = weightBatch(params);
        if (batch == 0) {
            checkInput(x, 4, "[N, " + inChannels + ", H, W]");
            return unbatched(x, w, b);
        }
        boolean shared = x.rank() == 4;
        if (!shared) {
            checkInput(x, 5, "[N, " + inChannels + ", H, W] (shared) or [" + batch + ", N, " + inChannels + ", H, W]");
            if (x.dim(0) != batch) {
                throw new IllegalArgumentException(this + ": input shape " + x.shape() + " has " + x.dim(0)
                        + " networks on axis 0 but the weight batch is " + batch);
            }
        } else {
            checkInput(x, 4, "[N, " + inChannels + ", H, W]");
        }
        if (batch == 1) {
            // Same kernel as the unbatched call, so B = 1 agrees bit for bit.
            return unbatched(shared ? x : x.squeeze(0), w.squeeze(0), b == null ? null : b.squeeze(0)).expandDims(0);
        }
        Tensor y = shared ? sharedInput(x, w, batch) : perNetworkInput(x, w, batch);
        return b == null ? y : y.add(WeightBatches.alongAxis(b, 5, 2));
    }

    private Tensor unbatched(Tensor x, Tensor w, Tensor b) {
        Tensor y = x.conv2d(w, options);
        return b == null ? y : y.add(WeightBatches.alongAxis(b, 4, 1));
    }

    /**
     * Each network's channels become groups of one convolution: input [N, B*C, H, W] (network-major),
     * weight [B*O, C/g, kh, kw], B*g groups; output channel b*O + o belongs to network b.
     */
    private Tensor perNetworkInput(Tensor x, Tensor w, int batch) {
        int n = x.dim(1);
        Tensor folded = x.transpose(1, 0, 2, 3, 4).reshape(n, batch * inChannels, x.dim(3), x.dim(4));
        Tensor weights = w.reshape(batch * outChannels, channelsPerGroup(), kernelHeight, kernelWidth);
        Tensor y = folded.conv2d(weights, withGroupCount(batch * options.groups()));
        return y.reshape(n, batch, outChannels, y.dim(2), y.dim(3)).transpose(1, 0, 2, 3, 4);
    }

    /**
     * A shared input needs no copy: the B networks' filters of conv group j are stacked into one
     * group of B*O/g output channels, so the convolution keeps {@code groups} groups over the
     * original input; output channels come out as (group, network, channel-in-group).
     */
    private Tensor sharedInput(Tensor x, Tensor w, int batch) {
        int groups = options.groups();
        int perGroup = outChannels / groups;
        Tensor weights = groups == 1
                ? w.reshape(batch * outChannels, inChannels, kernelHeight, kernelWidth)
                : w.reshape(batch, groups, perGroup, channelsPerGroup(), kernelHeight, kernelWidth)
                        .transpose(1, 0, 2, 3, 4, 5)
                        .reshape(batch * outChannels, channelsPerGroup(), kernelHeight, kernelWidth);
        Tensor y = x.conv2d(weights, options);
        int n = x.dim(0);
        if (groups == 1) {
            return y.reshape(n, batch, outChannels, y.dim(2), y.dim(3)).transpose(1, 0, 2, 3, 4);
        }
        return y.reshape(n, groups, batch, perGroup, y.dim(2), y.dim(3))
                .transpose(2, 0, 1, 3, 4, 5)
                .reshape(batch, n, outChannels, y.dim(2), y.dim(3));
    }

    private Conv2dOptions withGroupCount(int groups) {
        return new Conv2dOptions(options.stride(), options.padding(), options.dilation(), groups);
    }

    /** Channels and spatial size, checked here so the error names this layer and both shapes. */
    private void checkInput(Tensor x, int rank, String expected) {
        if (x.rank() != rank || x.dim(-3) != inChannels) {
            throw new IllegalArgumentException(this + ": input shape " + x.shape() + " does not match " + expected
                    + (x.rank() >= 3 && x.dim(-3) != inChannels ? "; it has " + x.dim(-3) + " channels, the layer reads " + inChannels : ""));
        }
        int[] padding = options.padding();
        int paddedHeight = x.dim(-2) + 2 * padding[0];
        int paddedWidth = x.dim(-1) + 2 * padding[1];
        int extentHeight = options.effectiveKernel(kernelHeight, 0);
        int extentWidth = options.effectiveKernel(kernelWidth, 1);
        if (extentHeight > paddedHeight || extentWidth > paddedWidth) {
            throw new IllegalArgumentException(this + ": the kernel spans " + extentHeight + "x" + extentWidth
                    + " (dilation " + Arrays.toString(options.dilation()) + ") but the padded input is only " + paddedHeight + "x"
                    + paddedWidth + " (input shape " + x.shape() + ", padding " + Arrays.toString(padding) + ")");
        }
    }

    @Override
    public String toString() {
        return "Conv2d(" + inChannels + "->" + outChannels + ", kernel " + kernelHeight + "x" + kernelWidth + ", stride "
                + Arrays.toString(options.stride()) + ", padding " + Arrays.toString(options.padding()) + ", dilation "
                + Arrays.toString(options.dilation()) + ", groups " + options.groups() + (bias ? "" : ", no bias") + ")";
    }
}
