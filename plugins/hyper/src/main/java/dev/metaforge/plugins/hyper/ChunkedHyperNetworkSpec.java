package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.List;

/**
 * {@code "chunked"}: {@link ChunkedHyperNetwork} (von Oswald et al., ICLR 2020; hypnettorch's
 * chunked MLP): a shared generator emits fixed-size chunks selected by learned chunk embeddings.
 *
 * <pre>{@code {"type": "chunked", "contextSize": 8, "chunkSize": 4096, "chunkEmbeddingSize": 8, "hidden": [32, 32]}}</pre>
 *
 * @param contextSize        scalars per context (required)
 * @param chunkSize          scalars per chunk (required)
 * @param chunkEmbeddingSize size of each chunk embedding (default 8)
 * @param hidden             generator hidden widths (default [64, 64])
 * @param activation         generator activation (default relu)
 * @param init               generator weight init (default kaiming-fan-out; zero biases)
 */
public record ChunkedHyperNetworkSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "context size") Integer contextSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "chunk size") Integer chunkSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "chunk embedding size") Integer chunkEmbeddingSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> hidden,
        String activation,
        String init) implements HyperNetworkSpec {
    static final String TYPE = "chunked";

    public ChunkedHyperNetworkSpec {
        SpecChecks.required(contextSize, TYPE, "contextSize");
        SpecChecks.required(chunkSize, TYPE, "chunkSize");
        chunkEmbeddingSize = chunkEmbeddingSize == null ? 8 : SpecChecks.positive(chunkEmbeddingSize, TYPE, "chunkEmbeddingSize");
        hidden = Initializers.hidden(hidden, List.of(64, 64));
        activation = activation == null ? "relu" : activation;
        init = init == null ? "kaiming-fan-out" : init;
        Initializers.activation(activation);
        Initializers.parse(init);
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        return new ChunkedHyperNetwork(target.generated(), contextSize, chunkSize, chunkEmbeddingSize, hidden,
                Initializers.activation(activation), Initializers.parse(init));
    }
}
