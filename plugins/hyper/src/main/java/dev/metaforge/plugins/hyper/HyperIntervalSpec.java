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
 * or, with the paper's ε schedule (ε grows linearly from 0 over the first half of each task):
 *
 * <pre>{@code {"type": "hyperinterval", "tasks": 5, "perturbation": {"epsilon": 1.0, "warmup": 0.5}}}</pre>
 *
 * @param tasks         number of tasks (required)
 * @param embeddingSize embedding size (default 8)
 * @param hidden        hidden widths (default [32, 32])
 * @param activation    a monotone activation (default relu)
 * @param perturbation  ε, the total radius of every embedding interval: a number (constant; default 1.0) or
 *                      {@code {"epsilon": ε, "warmup": fraction}} ({@link PerturbationSchedule})
 */
public record HyperIntervalSpec(
        @Range(min = 1, max = Limits.MAX_COUNT, what = "number of tasks") Integer tasks,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "embedding size") Integer embeddingSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> hidden,
        String activation,
        PerturbationSchedule perturbation)
        implements HyperNetworkSpec {
    static final String TYPE = "hyperinterval";

    public HyperIntervalSpec {
        SpecChecks.required(tasks, TYPE, "tasks");
        embeddingSize = embeddingSize == null ? 8 : SpecChecks.positive(embeddingSize, TYPE, "embeddingSize");
        hidden = Initializers.hidden(hidden, List.of(32, 32));
        activation = activation == null ? "relu" : activation;
        Initializers.activation(activation);
        perturbation = perturbation == null ? PerturbationSchedule.constant(1.0) : perturbation;
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        return new HyperIntervalNetwork(target.generated(), tasks, embeddingSize, hidden, Initializers.activation(activation), perturbation);
    }
}
