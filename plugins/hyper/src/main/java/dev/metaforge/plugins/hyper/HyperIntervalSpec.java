package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.List;

/**
 * {@code "hyperinterval"}: {@link HyperIntervalNetwork} (Krukowski et al. 2024,
 * arXiv:2405.15444): interval task embeddings propagated with interval arithmetic to interval
 * weights.
 *
 * <pre>{@code {"type": "hyperinterval", "tasks": 5, "embeddingSize": 8, "hidden": [32, 32], "perturbation": 1.0}}</pre>
 *
 * @param tasks         number of tasks (required)
 * @param embeddingSize embedding size (default 8)
 * @param hidden        hidden widths (default [32, 32])
 * @param activation    a monotone activation (default relu)
 * @param perturbation  ε, the total radius of every embedding interval (default 1.0)
 */
public record HyperIntervalSpec(
        @Range(min = 1, max = Limits.MAX_COUNT, what = "number of tasks") Integer tasks,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "embedding size") Integer embeddingSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> hidden,
        String activation,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "perturbation radius") Double perturbation)
        implements HyperNetworkSpec {
    static final String TYPE = "hyperinterval";

    public HyperIntervalSpec {
        SpecChecks.required(tasks, TYPE, "tasks");
        embeddingSize = embeddingSize == null ? 8 : SpecChecks.positive(embeddingSize, TYPE, "embeddingSize");
        hidden = Initializers.hidden(hidden, List.of(32, 32));
        activation = activation == null ? "relu" : activation;
        Initializers.activation(activation);
        perturbation = perturbation == null ? 1.0 : perturbation;
        if (!(perturbation >= 0)) {
            throw new IllegalArgumentException("spec 'hyperinterval': field 'perturbation' must be >= 0, got " + perturbation);
        }
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        return new HyperIntervalNetwork(target.generated(), tasks, embeddingSize, hidden, Initializers.activation(activation), perturbation);
    }
}
