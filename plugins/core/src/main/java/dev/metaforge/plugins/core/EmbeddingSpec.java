package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Embedding;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;

/**
 * {@code {"type": "embedding", "vocab": 1000, "dim": 64}}: a lookup table from INT64 indices to rows of
 * {@code weight} [vocab, dim] (initialised N(0, 1)).
 *
 * @param vocab number of rows
 * @param dim   size of each row
 */
public record EmbeddingSpec(
        @Range(min = 1, max = Limits.MAX_COUNT, what = "vocabulary size") int vocab,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "embedding width") int dim) implements ModuleSpec {
    public EmbeddingSpec {
        Fields.positive(vocab, "vocab");
        Fields.positive(dim, "dim");
    }

    @JsonCreator
    static EmbeddingSpec fromJson(@JsonProperty("vocab") Integer vocab, @JsonProperty("dim") Integer dim) {
        return new EmbeddingSpec(Fields.required(vocab, "vocab", "the number of rows"), Fields.required(dim, "dim", "the row size"));
    }

    @Override
    public Module build() {
        return new Embedding(vocab, dim);
    }
}
