package dev.metaforge.plugins.meta;

import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;

/**
 * {@code {"type": "sinusoid", "k": 10}}: {@link SinusoidTasks}; omitted fields take the paper's
 * values (queryK = k, amplitude [0.1, 5], phase [0, π], x [-5, 5]).
 *
 * @param k            support points per task
 * @param queryK       query points per task
 * @param minAmplitude lower bound of the amplitude
 * @param maxAmplitude upper bound of the amplitude
 * @param maxPhase     upper bound of the phase
 * @param minX         lower bound of x
 * @param maxX         upper bound of x
 */
public record SinusoidTasksSpec(
        @Range(min = 1, max = 65536, what = "support examples per task") Integer k,
        @Range(min = 1, max = 65536, what = "query examples per task") Integer queryK,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "amplitude bound") Double minAmplitude,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "amplitude bound") Double maxAmplitude,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "largest phase") Double maxPhase,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "input bound") Double minX,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "input bound") Double maxX) implements TaskSamplerSpec {
    public SinusoidTasksSpec {
        k = k == null ? 10 : k;
        queryK = queryK == null ? k : queryK;
        minAmplitude = minAmplitude == null ? 0.1 : minAmplitude;
        maxAmplitude = maxAmplitude == null ? 5.0 : maxAmplitude;
        maxPhase = maxPhase == null ? Math.PI : maxPhase;
        minX = minX == null ? -5.0 : minX;
        maxX = maxX == null ? 5.0 : maxX;
    }

    @Override
    public TaskSampler build(BuildContext context) {
        return new SinusoidTasks(k, queryK, minAmplitude, maxAmplitude, maxPhase, minX, maxX);
    }
}
