package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.AvgPool2d;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import java.util.List;

/**
 * {@code {"type": "avgpool2d", "kernel": 2, "stride": 2, "padding": 0}}: 2-D average pooling: the mean of each window, padding counted as zeros,
 * over the last two axes; no parameters. Each size may be one number (square) or [height, width].
 *
 * @param kernel  window size
 * @param stride  step between windows (default: the kernel)
 * @param padding added on each side, at most half the kernel (default 0)
 */
public record AvgPool2dSpec(
        @Range(min = 1, max = 4096, what = "window size") List<Integer> kernel,
        @Range(min = 1, max = 4096, what = "stride") List<Integer> stride,
        @Range(min = 0, max = 4096, what = "padding") List<Integer> padding) implements ModuleSpec {
    public AvgPool2dSpec {
        kernel = Fields.pair(Fields.required(kernel, "kernel", "the window size, e.g. 2 or [2, 2]"), "kernel", 1);
        stride = Fields.pair(stride, "stride", 1);
        padding = Fields.pair(padding, "padding", 0);
        PoolFields.checkPadding(kernel, padding);
    }

    @JsonCreator
    static AvgPool2dSpec fromJson(
            @JsonProperty("kernel") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> kernel,
            @JsonProperty("stride") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> stride,
            @JsonProperty("padding") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) List<Integer> padding) {
        return new AvgPool2dSpec(kernel, Fields.orDefault(stride, kernel), Fields.orDefault(padding, List.of(0)));
    }

    @Override
    public Module build() {
        return new AvgPool2d(kernel.get(0), kernel.get(1), stride.get(0), stride.get(1), padding.get(0), padding.get(1));
    }
}
