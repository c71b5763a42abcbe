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
 * @param replayedSteps steps of this run (this process, a resumed run's part only) that replayed a captured
 *                  program ({@link dev.metaforge.api.capture.StepCapture}); 0 when every step ran eagerly
 */
public record TrainResult(long steps, double finalLoss, Map<String, Double> eval, Path outDir, Map<String, String> metricDescriptions,
                          long replayedSteps) {
    public TrainResult {
        eval = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(eval, "eval is null")));
        requireNonNull(outDir, "outDir is null");
        metricDescriptions = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(metricDescriptions, "metricDescriptions is null")));
        if (replayedSteps < 0) {
            throw new IllegalArgumentException("replayedSteps must be >= 0, got " + replayedSteps);
        }
    }

    /** A result of eager steps. */
    public TrainResult(long steps, double finalLoss, Map<String, Double> eval, Path outDir, Map<String, String> metricDescriptions) {
        this(steps, finalLoss, eval, outDir, metricDescriptions, 0);
    }

    /** A result of eager steps without metric descriptions. */
    public TrainResult(long steps, double finalLoss, Map<String, Double> eval, Path outDir) {
        this(steps, finalLoss, eval, outDir, Map.of());
    }

    /** The checkpoint file of the run. */
    public Path checkpoint() {
        return outDir.resolve(Trainer.CHECKPOINT_FILE);
    }
}
