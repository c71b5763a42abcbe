package dev.metaforge.plugins.meta;

import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.meta.TaskSamplerSpec;
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
public record SinusoidTasksSpec(Integer k, Integer queryK, Double minAmplitude, Double maxAmplitude, Double maxPhase,
        Double minX, Double maxX) implements TaskSamplerSpec {
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
