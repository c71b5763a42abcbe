package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.spi.Conv2dOptions;
import java.util.List;

/**
 * {@code {"type": "conv2d", "inChannels": 3, "outChannels": 16, "kernel": 3, "stride": 1, "padding": 1, "dilation": 1,
 * "groups": 1, "bias": true, "init": "torch"}}: a 2-D convolution over NCHW inputs with parameters {@code weight}
 * [outChannels, inChannels / groups, kh, kw] and {@code bias} [outChannels]. Each size may be one number (square) or
 * [height, width].
 *
 * @param inChannels  input channels
 * @param outChannels output channels
 * @param kernel      kernel size, [kh, kw]
 * @param stride      step between windows (default 1)
 * @param padding     zeros added on each side (default 0)
 * @param dilation    spacing between kernel taps (default 1)
 * @param groups      channel groups, dividing both channel counts (default 1)
 * @param bias        whether there is a bias (default true)
 * @param init        weight initialisation (default "torch"): torch, kaiming_uniform_fan_in, kaiming_uniform_fan_out, xavier
 */
public record Conv2dSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "input channels") int inChannels,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "output channels") int outChannels,
        @Range(min = 1, max = 4096, what = "kernel size") List<Integer> kernel,
        @Range(min = 1, max = 4096, what = "stride") List<Integer> stride,
        @Range(min = 0, max = 4096, what = "padding") List<Integer> padding,
        @Range(min = 1, max = 4096, what = "dilation") List<Integer> dilation,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "groups") int groups,
        boolean bias,
        String init) implements ModuleSpec {
    public Conv2dSpec {
        Fields.positive(inChannels, "inChannels");
        Fields.positive(outChannels, "outChannels");
        kernel = Fields.pair(Fields.required(kernel, "kernel", "the kernel size, e.g. 3 or [3, 3]"), "kernel", 1);
        stride = Fields.pair(stride, "stride", 1);
        padding = Fields.pair(padding, "padding", 0);
        dilation = Fields.pair(dilation, "dilation", 1);
        Fields.positive(groups, "groups");
        Fields.divides(groups, "groups", inChannels, "inChannels");
        Fields.divides(groups, "groups", outChannels, "outChannels");
        init = InitScheme.parse(Fields.required(init, "init", ""), "init").jsonName();
    }

    @JsonCreator
    static Conv2dSpec fromJson(@JsonProperty("inChannels") Integer inChannels, @JsonProperty("outChannels") Integer outChannels,
                               @JsonProperty("kernel") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> kernel,
                               @JsonProperty("stride") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> stride,
                               @JsonProperty("padding") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> padding,
                               @JsonProperty("dilation") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> dilation,
                               @JsonProperty("groups") Integer groups, @JsonProperty("bias") Boolean bias,
                               @JsonProperty("init") String init) {
        return new Conv2dSpec(Fields.required(inChannels, "inChannels", "the number of input channels"),
                Fields.required(outChannels, "outChannels", "the number of output channels"), kernel,
                Fields.orDefault(stride, List.of(1)), Fields.orDefault(padding, List.of(0)), Fields.orDefault(dilation, List.of(1)),
                Fields.orDefault(groups, 1), Fields.orDefault(bias, true), Fields.orDefault(init, "torch"));
    }

    @Override
    public Module build() {
        Conv2dOptions options = new Conv2dOptions(array(stride), array(padding), array(dilation), groups);
        return new Conv2d(inChannels, outChannels, kernel.get(0), kernel.get(1), options, bias,
                InitScheme.parse(init, "init").initializer());
    }

    private static int[] array(List<Integer> pair) {
        return new int[] {pair.get(0), pair.get(1)};
    }
}
