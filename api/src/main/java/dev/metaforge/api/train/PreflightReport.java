package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.preflight.MemoryBudget;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.Locale;
import java.util.Map;

/**
 * What the pre-flight pass measured for one spec on a shape-only backend.
 *
 * @param backend             the backend whose capabilities the pass mirrored
 * @param dtype               the run's dtype
 * @param parameters          trainable parameters in all
 * @param parametersByModule  parameters per module (name prefix before the last '.'), in order
 * @param stateBytes          bytes live after initialisation (parameters and what the objective keeps)
 * @param stepBytes           peak bytes of one training step (parameters, optimizer state, activations, gradients)
 * @param evalBytes           peak bytes of one evaluation
 * @param largestShape        the largest single array of the pass (an activation, a parameter or a gradient)
 * @param largestDType        its dtype
 * @param largestBytes        its bytes
 * @param kernelCallsPerStep  kernel calls of one training step
 * @param budget              what the step had to fit
 */
public record PreflightReport(String backend, DType dtype, long parameters, Map<String, Long> parametersByModule,
                              long stateBytes, long stepBytes, long evalBytes, Shape largestShape, DType largestDType,
                              long largestBytes, long kernelCallsPerStep, MemoryBudget budget) {
    public PreflightReport {
        requireNonNull(backend, "backend is null");
        requireNonNull(dtype, "dtype is null");
        parametersByModule = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parametersByModule));
        requireNonNull(budget, "budget is null");
    }

    /** The estimate a run is checked against: the larger of a training step's and an evaluation's peak. */
    public long estimatedBytes() {
        return Math.max(stepBytes, evalBytes);
    }

    /** A readable multi-line summary, as {@code metaforge train --dry-run} prints it. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append("pre-flight (shape-only pass, ").append(backend).append(", ").append(dtype.name().toLowerCase(Locale.ROOT))
                .append("): OK\n");
        sb.append(String.format(Locale.ROOT, "parameters: %,d%n", parameters));
        int width = parametersByModule.keySet().stream().mapToInt(String::length).max().orElse(0);
        parametersByModule.forEach((module, count) -> sb.append(String.format(Locale.ROOT, "  %-" + Math.max(1, width) + "s %,15d%n",
                module, count)));
        sb.append("memory of one training step: ").append(format(stepBytes)).append(" (state after init ")
                .append(format(stateBytes)).append(", evaluation ").append(format(evalBytes)).append(")\n");
        sb.append("largest array: ").append(largestShape).append(' ').append(largestDType == null ? "" : largestDType.name().toLowerCase(Locale.ROOT))
                .append(" (").append(format(largestBytes)).append(")\n");
        sb.append(String.format(Locale.ROOT, "kernel calls per step: %,d%n", kernelCallsPerStep));
        sb.append("memory budget: ").append(budget).append(String.format(Locale.ROOT, "; the estimate uses %.1f%% of it",
                100.0 * estimatedBytes() / budget.bytes()));
        return sb.toString();
    }

    /** One line for the progress output. */
    public String oneLine() {
        return String.format(Locale.ROOT, "pre-flight: %,d parameters, ~%s per step (largest array %s), budget %s",
                parameters, format(estimatedBytes()), largestShape, format(budget.bytes()));
    }

    static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
