package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * {@code "recurrent"}: {@link RecurrentHyperNetwork}, a GRU that generates the target parameter
 * by parameter, each conditioned on those before it.
 *
 * <pre>{@code {"type": "recurrent", "contextSize": 2, "hiddenSize": 64, "layerEmbeddingSize": 8}}</pre>
 *
 * @param contextSize        scalars per context (required)
 * @param hiddenSize         GRU state size (default 64)
 * @param layerEmbeddingSize size of each parameter's step embedding (default 8)
 * @param headInit           init of the output heads (default kaiming-fan-out; zero biases)
 */
public record RecurrentHyperNetworkSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "context size") Integer contextSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "GRU state size") Integer hiddenSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "step embedding size") Integer layerEmbeddingSize,
        String headInit)
        implements HyperNetworkSpec {
    static final String TYPE = "recurrent";

    public RecurrentHyperNetworkSpec {
        SpecChecks.required(contextSize, TYPE, "contextSize");
        hiddenSize = hiddenSize == null ? 64 : SpecChecks.positive(hiddenSize, TYPE, "hiddenSize");
        layerEmbeddingSize = layerEmbeddingSize == null ? 8 : SpecChecks.positive(layerEmbeddingSize, TYPE, "layerEmbeddingSize");
        headInit = headInit == null ? "kaiming-fan-out" : headInit;
        Initializers.parse(headInit);
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        return new RecurrentHyperNetwork(target.generated(), contextSize, hiddenSize, layerEmbeddingSize, Initializers.parse(headInit));
    }
}
