package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.List;

/**
 * {@code "task-conditioned"}: {@link TaskEmbeddingHyperNetwork} (von Oswald et al., ICLR 2020):
 * one learned embedding per task into a standard MLP generator, or into any {@code generator}
 * whose contextSize equals embeddingSize (e.g. chunked).
 *
 * <pre>{@code {"type": "task-conditioned", "tasks": 5, "embeddingSize": 8, "hidden": [32, 32]}}</pre>
 *
 * @param tasks         number of tasks (required)
 * @param embeddingSize task embedding size (default 8)
 * @param hidden        MLP generator hidden widths when no generator is given (default [32, 32])
 * @param activation    MLP generator activation when no generator is given (default relu)
 * @param generator     optional generator hypernetwork taking the embedding
 */
public record TaskConditionedHyperNetworkSpec(
        @Range(min = 1, max = Limits.MAX_COUNT, what = "number of tasks") Integer tasks,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "embedding size") Integer embeddingSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> hidden,
        String activation,
        HyperNetworkSpec generator) implements HyperNetworkSpec {
    static final String TYPE = "task-conditioned";

    public TaskConditionedHyperNetworkSpec {
        SpecChecks.required(tasks, TYPE, "tasks");
        embeddingSize = embeddingSize == null ? 8 : SpecChecks.positive(embeddingSize, TYPE, "embeddingSize");
        if (generator != null && (hidden != null || activation != null)) {
            throw new IllegalArgumentException("spec 'task-conditioned': give either 'generator' or 'hidden'/'activation', not both");
        }
        if (generator == null) {
            hidden = Initializers.hidden(hidden, List.of(32, 32));
            activation = activation == null ? "relu" : activation;
            Initializers.activation(activation);
        }
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        HyperNetwork g = generator != null ? generator.build(target)
                : new HmlpHyperNetwork(target.generated(), embeddingSize, hidden, Initializers.activation(activation),
                        Initializers.parse("torch-default"));
        return new TaskEmbeddingHyperNetwork(tasks, embeddingSize, g);
    }
}
