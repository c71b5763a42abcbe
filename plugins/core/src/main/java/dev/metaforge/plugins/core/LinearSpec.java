package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * {@code {"type": "linear", "in": 3, "out": 8, "bias": true, "init": "torch"}}: {@code y = x W + b}
 * with parameters {@code weight} [in, out] and {@code bias} [out].
 *
 * @param in   input features
 * @param out  output features
 * @param bias whether there is a bias (default true)
 * @param init weight initialisation (default "torch"): torch, kaiming_uniform_fan_in, kaiming_uniform_fan_out, xavier
 */
public record LinearSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "input features") int in,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "output features") int out,
        boolean bias,
        String init) implements ModuleSpec {
    public LinearSpec {
        Fields.positive(in, "in");
        Fields.positive(out, "out");
        init = InitScheme.parse(Fields.required(init, "init", ""), "init").jsonName();
    }

    @JsonCreator
    static LinearSpec fromJson(@JsonProperty("in") Integer in, @JsonProperty("out") Integer out,
                               @JsonProperty("bias") Boolean bias, @JsonProperty("init") String init) {
        return new LinearSpec(Fields.required(in, "in", "the number of input features"),
                Fields.required(out, "out", "the number of output features"),
                Fields.orDefault(bias, true), Fields.orDefault(init, "torch"));
    }

    @Override
    public Module build() {
        return new Linear(in, out, bias, InitScheme.parse(init, "init").initializer());
    }
}
