package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.TransformerBlock;

/**
 * {@code {"type": "transformer-block", "d": 64, "heads": 4, "hidden": 256, "dropout": 0.1, "causal": true}}: a pre-LN
 * transformer block on [N, T, d]: {@code x + attn(ln1(x))}, then {@code x + fc2(gelu(fc1(ln2(x))))}, dropout on both
 * branches in training calls. Parameters under {@code ln1.}, {@code attn.}, {@code ln2.}, {@code fc1.}, {@code fc2.}.
 *
 * @param d       model width
 * @param heads   attention heads, dividing d
 * @param hidden  feed-forward width (default 4 d)
 * @param dropout dropout probability in [0, 1) (default 0)
 * @param causal  whether attention is causal (default false)
 */
public record TransformerBlockSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "model width") int d,
        @Range(min = 1, max = 4096, what = "attention heads") int heads,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "MLP hidden width") int hidden,
        @Range(min = 0, max = 1, maxExclusive = true, what = "dropout probability") double dropout,
        boolean causal) implements ModuleSpec {
    public TransformerBlockSpec {
        Fields.positive(d, "d");
        Fields.positive(heads, "heads");
        Fields.divides(heads, "heads", d, "d");
        Fields.positive(hidden, "hidden");
        Fields.inUnitInterval(dropout, "dropout");
    }

    @JsonCreator
    static TransformerBlockSpec fromJson(@JsonProperty("d") Integer d, @JsonProperty("heads") Integer heads,
                                         @JsonProperty("hidden") Integer hidden, @JsonProperty("dropout") Double dropout,
                                         @JsonProperty("causal") Boolean causal) {
        int width = Fields.required(d, "d", "the model width");
        return new TransformerBlockSpec(width, Fields.required(heads, "heads", "the number of heads"),
                Fields.orDefault(hidden, 4 * width), Fields.orDefault(dropout, 0.0), Fields.orDefault(causal, false));
    }

    @Override
    public Module build() {
        return new TransformerBlock(d, heads, hidden, dropout, causal);
    }
}
