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
 * With the look-ahead: {@code {"type": "task-conditioned", "tasks": 5, "lookAhead": true, "lookAheadRate": 0.001}}.
 *
 * @param tasks         number of tasks (required)
 * @param embeddingSize task embedding size (default 8)
 * @param hidden        MLP generator hidden widths when no generator is given (default [32, 32])
 * @param activation    MLP generator activation when no generator is given (default relu)
 * @param generator     optional generator hypernetwork taking the embedding
 * @param lookAhead     von Oswald et al.'s optional look-ahead in the output regularizer (default false): the
 *                      regularizer is evaluated at Θ + ΔΘ, ΔΘ = −lookAheadRate · ∇Θ (task loss), held constant
 * @param lookAheadRate step size of that candidate update (default 0.001, Adam's usual learning rate; unused without lookAhead)
 */
public record TaskConditionedHyperNetworkSpec(
        @Range(min = 1, max = Limits.MAX_COUNT, what = "number of tasks") Integer tasks,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "embedding size") Integer embeddingSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> hidden,
        String activation,
        HyperNetworkSpec generator,
        Boolean lookAhead,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "look-ahead step size") Double lookAheadRate) implements HyperNetworkSpec {
    static final String TYPE = "task-conditioned";

    public TaskConditionedHyperNetworkSpec {
        SpecChecks.required(tasks, TYPE, "tasks");
        embeddingSize = embeddingSize == null ? 8 : SpecChecks.positive(embeddingSize, TYPE, "embeddingSize");
        if (generator != null && (hidden != null || activation != null)) {
            throw new IllegalArgumentException("spec 'task-conditioned': give either 'generator' or 'hidden'/'activation', not both");
        }
        lookAhead = lookAhead != null && lookAhead;
        lookAheadRate = lookAheadRate == null ? 0.001 : lookAheadRate;
        if (lookAhead && !(lookAheadRate > 0)) {
            throw new IllegalArgumentException("spec 'task-conditioned': 'lookAheadRate' must be > 0 with the look-ahead on, got "
                    + lookAheadRate);
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
        return new TaskEmbeddingHyperNetwork(tasks, embeddingSize, g, lookAhead ? lookAheadRate : 0.0);
    }
}
