package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.MultiHeadAttention;

/**
 * {@code {"type": "attention", "d": 64, "heads": 4, "causal": false, "bias": true}}: multi-head self-attention on
 * [N, T, d] with projections {@code q}, {@code k}, {@code v}, {@code out} ({@code weight} [d, d], {@code bias} [d]).
 *
 * @param d      model width
 * @param heads  number of heads, dividing d
 * @param causal whether position t attends only to positions up to t (default false)
 * @param bias   whether the projections have biases (default true)
 */
public record AttentionSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "model width") int d,
        @Range(min = 1, max = 4096, what = "attention heads") int heads,
        boolean causal,
        boolean bias) implements ModuleSpec {
    public AttentionSpec {
        Fields.positive(d, "d");
        Fields.positive(heads, "heads");
        Fields.divides(heads, "heads", d, "d");
    }

    @JsonCreator
    static AttentionSpec fromJson(@JsonProperty("d") Integer d, @JsonProperty("heads") Integer heads,
                                  @JsonProperty("causal") Boolean causal, @JsonProperty("bias") Boolean bias) {
        return new AttentionSpec(Fields.required(d, "d", "the model width"), Fields.required(heads, "heads", "the number of heads"),
                Fields.orDefault(causal, false), Fields.orDefault(bias, true));
    }

    @Override
    public Module build() {
        return new MultiHeadAttention(d, heads, causal, bias);
    }
}
