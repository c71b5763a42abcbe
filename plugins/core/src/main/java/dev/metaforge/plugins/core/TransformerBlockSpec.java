package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.TransformerBlock;

/**
 * {@code {"type": "transformer-block", "d": 64, "heads": 4, "hidden": 256, "dropout": 0.1, "causal": true}}: a pre-LN
 * transformer block on [N, T, d]: {@code x + attn(ln1(x))}, then {@code x + fc2(gelu(fc1(ln2(x))))}, dropout on both
 * branches in training calls. Parameters under {@code ln1.}, {@code attn.}, {@code ln2.}, {@code fc1.}, {@code fc2.}.
 * With {@code "ffn": {...}} instead of {@code hidden}, that module (e.g. {@code {"type": "moe", ...}}) is the
 * feed-forward branch, {@code x + ffn(ln2(x))}, with its parameters, state and auxiliary losses under {@code ffn.}.
 *
 * @param d       model width
 * @param heads   attention heads, dividing d
 * @param hidden  feed-forward width (default 4 d); absent (null) when {@code ffn} is given
 * @param dropout dropout probability in [0, 1) (default 0)
 * @param causal  whether attention is causal (default false)
 * @param ffn     the feed-forward module, mapping d features to d, or null for the GPT-2 MLP
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TransformerBlockSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "model width") int d,
        @Range(min = 1, max = 4096, what = "attention heads") int heads,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "MLP hidden width") Integer hidden,
        @Range(min = 0, max = 1, maxExclusive = true, what = "dropout probability") double dropout,
        boolean causal,
        ModuleSpec ffn) implements ModuleSpec {
    public TransformerBlockSpec {
        Fields.positive(d, "d");
        Fields.positive(heads, "heads");
        Fields.divides(heads, "heads", d, "d");
        if (ffn != null && hidden != null) {
            throw new IllegalArgumentException("give either 'hidden' (the width of the block's own MLP) or 'ffn' (a module"
                    + " replacing it), not both");
        }
        if (ffn == null) {
            Fields.positive(Fields.required(hidden, "hidden", "the MLP hidden width"), "hidden");
        }
        Fields.inUnitInterval(dropout, "dropout");
    }

    /** The GPT-2 block with its own MLP of width {@code hidden}. */
    public TransformerBlockSpec(int d, int heads, int hidden, double dropout, boolean causal) {
        this(d, heads, Integer.valueOf(hidden), dropout, causal, null);
    }

    @JsonCreator
    static TransformerBlockSpec fromJson(@JsonProperty("d") Integer d, @JsonProperty("heads") Integer heads,
                                         @JsonProperty("hidden") Integer hidden, @JsonProperty("dropout") Double dropout,
                                         @JsonProperty("causal") Boolean causal, @JsonProperty("ffn") ModuleSpec ffn) {
        int width = Fields.required(d, "d", "the model width");
        return new TransformerBlockSpec(width, Fields.required(heads, "heads", "the number of heads"),
                ffn == null ? Fields.orDefault(hidden, 4 * width) : hidden, Fields.orDefault(dropout, 0.0),
                Fields.orDefault(causal, false), ffn);
    }

    @Override
    public Module build() {
        return ffn == null ? new TransformerBlock(d, heads, hidden, dropout, causal)
                : TransformerBlock.withFeedForward(d, heads, dropout, causal, ffn.build());
    }
}
