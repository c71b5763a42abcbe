package dev.metaforge.plugins.core;

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
public record EmbeddingSpec(int vocab, int dim) implements ModuleSpec {
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
