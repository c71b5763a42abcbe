package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * JSON type {@code ha-static}: {@link HaStaticHyperNetwork}, Ha et al.'s static hypernetwork (per-block
 * embeddings through one small shared two-layer generator).
 * {@code {"type": "ha-static", "contextSize": 2, "embeddingSize": 8, "chunkIn": 16, "chunkOut": 16}}
 *
 * @param contextSize   size of the context joined to every embedding (required)
 * @param embeddingSize size d of each block embedding z_j (default 8)
 * @param chunkIn       rows of a generated block (default 16)
 * @param chunkOut      columns of a generated block (default 16)
 */
public record HaStaticHyperNetworkSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "context size") Integer contextSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "embedding size") Integer embeddingSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "block rows") Integer chunkIn,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "block columns") Integer chunkOut) implements HyperNetworkSpec {
    static final String TYPE = "ha-static";

    public HaStaticHyperNetworkSpec {
        SpecChecks.required(contextSize, TYPE, "contextSize");
        embeddingSize = embeddingSize == null ? 8 : SpecChecks.positive(embeddingSize, TYPE, "embeddingSize");
        chunkIn = chunkIn == null ? 16 : SpecChecks.positive(chunkIn, TYPE, "chunkIn");
        chunkOut = chunkOut == null ? 16 : SpecChecks.positive(chunkOut, TYPE, "chunkOut");
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        return new HaStaticHyperNetwork(target.generated(), contextSize, embeddingSize, chunkIn, chunkOut);
    }
}
