package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.ConditionedTask;
import dev.metaforge.api.hyper.ConditionedTaskSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * {@code "sinusoid"}: {@link SinusoidFamilyTask}, sinusoid regression conditioned on (amplitude, phase).
 *
 * <pre>{@code {"type": "sinusoid", "minAmplitude": 0.1, "maxAmplitude": 5.0, "maxPhase": 3.14159, "inputRange": 5.0}}</pre>
 *
 * @param minAmplitude smallest amplitude (default 0.1)
 * @param maxAmplitude largest amplitude (default 5.0)
 * @param maxPhase     largest phase (default π)
 * @param inputRange   x ∈ [−inputRange, inputRange] (default 5.0)
 */
public record SinusoidFamilySpec(
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "amplitude bound") Double minAmplitude,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "amplitude bound") Double maxAmplitude,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, minExclusive = true, what = "largest phase") Double maxPhase,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, minExclusive = true, what = "input range") Double inputRange)
        implements ConditionedTaskSpec {
    public SinusoidFamilySpec {
        minAmplitude = minAmplitude == null ? 0.1 : minAmplitude;
        maxAmplitude = maxAmplitude == null ? 5.0 : maxAmplitude;
        maxPhase = maxPhase == null ? Math.PI : maxPhase;
        inputRange = inputRange == null ? 5.0 : inputRange;
    }

    @Override
    public ConditionedTask build() {
        return new SinusoidFamilyTask(minAmplitude, maxAmplitude, maxPhase, inputRange);
    }
}
