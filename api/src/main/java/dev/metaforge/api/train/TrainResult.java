package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a finished {@link Trainer} run reports.
 *
 * @param steps     completed training steps
 * @param finalLoss the training loss of the last step
 * @param eval      the final evaluation metrics
 * @param outDir    where metrics.jsonl, checkpoint.safetensors and spec.json are
 * @param metricDescriptions what each metric measures ({@link Objective#metricDescriptions()}; may be empty)
 */
public record TrainResult(long steps, double finalLoss, Map<String, Double> eval, Path outDir, Map<String, String> metricDescriptions) {
    public TrainResult {
        eval = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(eval, "eval is null")));
        requireNonNull(outDir, "outDir is null");
        metricDescriptions = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(metricDescriptions, "metricDescriptions is null")));
    }

    /** A result without metric descriptions. */
    public TrainResult(long steps, double finalLoss, Map<String, Double> eval, Path outDir) {
        this(steps, finalLoss, eval, outDir, Map.of());
    }

    /** The checkpoint file of the run. */
    public Path checkpoint() {
        return outDir.resolve(Trainer.CHECKPOINT_FILE);
    }
}
