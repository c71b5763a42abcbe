package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * {@code "recurrent"}: {@link RecurrentHyperNetwork}, Chandra et al.'s dependency-preserving
 * hypernetwork: an LSTM generates the target chunk by chunk through one shared output head, each
 * chunk conditioned on those before it. The generator's size does not depend on the target's; only
 * the chunk embeddings (one per chunk) do.
 *
 * <pre>{@code {"type": "recurrent", "contextSize": 2, "hiddenSize": 64, "chunkSize": 256, "chunkEmbeddingSize": 8}}</pre>
 *
 * @param contextSize        scalars per context (required)
 * @param hiddenSize         LSTM state size (default 64)
 * @param chunkSize          values per generated chunk; the last chunk is truncated (default 256)
 * @param chunkEmbeddingSize size of each chunk's learned embedding (default 8)
 * @param headInit           init of the shared output head's weight (default kaiming-fan-out; zero bias)
 */
public record RecurrentHyperNetworkSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "context size") Integer contextSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "LSTM state size") Integer hiddenSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "chunk size") Integer chunkSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "chunk embedding size") Integer chunkEmbeddingSize,
        String headInit)
        implements HyperNetworkSpec {
    static final String TYPE = "recurrent";

    public RecurrentHyperNetworkSpec {
        SpecChecks.required(contextSize, TYPE, "contextSize");
        hiddenSize = hiddenSize == null ? 64 : SpecChecks.positive(hiddenSize, TYPE, "hiddenSize");
        chunkSize = chunkSize == null ? 256 : SpecChecks.positive(chunkSize, TYPE, "chunkSize");
        chunkEmbeddingSize = chunkEmbeddingSize == null ? 8 : SpecChecks.positive(chunkEmbeddingSize, TYPE, "chunkEmbeddingSize");
        headInit = headInit == null ? "kaiming-fan-out" : headInit;
        Initializers.parse(headInit);
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        return new RecurrentHyperNetwork(target.generated(), contextSize, hiddenSize, chunkSize, chunkEmbeddingSize,
                Initializers.parse(headInit));
    }
}
