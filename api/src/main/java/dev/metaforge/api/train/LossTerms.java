package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training step's loss: the scalar the trainer differentiates, and the named parts that went
 * into it beyond the task loss (auxiliary losses of modules such as an MoE's load-balancing loss,
 * regularisers) together with logged statistics. The trainer writes every part and statistic to
 * {@code metrics.jsonl} beside the loss.
 *
 * @param total   the one-element loss to minimise (parts already included)
 * @param parts   named scalar parts of {@code total}, for logging
 * @param metrics named scalar statistics, logged only
 */
public record LossTerms(Tensor total, Map<String, Tensor> parts, Map<String, Tensor> metrics) {
    public LossTerms {
        requireNonNull(total, "total is null");
        parts = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(parts, "parts is null")));
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(metrics, "metrics is null")));
    }

    /** A loss with no parts. */
    public static LossTerms of(Tensor total) {
        return new LossTerms(total, Map.of(), Map.of());
    }
}
