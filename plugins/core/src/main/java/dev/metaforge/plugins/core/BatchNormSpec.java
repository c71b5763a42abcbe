package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;

/**
 * {@code {"type": "batchnorm", "features": 16, "eps": 1e-5, "momentum": 0.1, "affine": true}}: batch normalisation of
 * channel axis 1 of [N, C] or [N, C, H, W], with parameters {@code weight} and {@code bias} [C] and state
 * {@code running_mean}, {@code running_var} [C] (PyTorch's semantics; training calls update the state).
 *
 * @param features channels C
 * @param eps      added to the variance (default 1e-5)
 * @param momentum weight of each batch in the running statistics, in [0, 1] (default 0.1)
 * @param affine   whether there are {@code weight} and {@code bias} (default true)
 */
public record BatchNormSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "channels") int features,
        @Range(min = 0, max = 1, minExclusive = true, what = "epsilon") double eps,
        @Range(min = 0, max = 1, what = "running-statistics momentum") double momentum,
        boolean affine) implements ModuleSpec {
    public BatchNormSpec {
        Fields.positive(features, "features");
        Fields.positive(eps, "eps");
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("field 'momentum' must be in [0, 1], got " + momentum);
        }
    }

    @JsonCreator
    static BatchNormSpec fromJson(@JsonProperty("features") Integer features, @JsonProperty("eps") Double eps,
                                  @JsonProperty("momentum") Double momentum, @JsonProperty("affine") Boolean affine) {
        return new BatchNormSpec(Fields.required(features, "features", "the number of channels"), Fields.orDefault(eps, 1e-5),
                Fields.orDefault(momentum, 0.1), Fields.orDefault(affine, true));
    }

    @Override
    public Module build() {
        return new BatchNorm(features, eps, momentum, affine);
    }
}
