package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.LayerNorm;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;

/**
 * {@code {"type": "layernorm", "features": 64, "eps": 1e-5, "affine": true}}: layer normalisation over the last axis,
 * with parameters {@code weight} and {@code bias} [features].
 *
 * @param features size of the last axis
 * @param eps      added to the variance (default 1e-5)
 * @param affine   whether there are {@code weight} and {@code bias} (default true)
 */
public record LayerNormSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "normalised features") int features,
        @Range(min = 0, max = 1, minExclusive = true, what = "epsilon") double eps,
        boolean affine) implements ModuleSpec {
    public LayerNormSpec {
        Fields.positive(features, "features");
        Fields.positive(eps, "eps");
    }

    @JsonCreator
    static LayerNormSpec fromJson(@JsonProperty("features") Integer features, @JsonProperty("eps") Double eps,
                                  @JsonProperty("affine") Boolean affine) {
        return new LayerNormSpec(Fields.required(features, "features", "the size of the last axis"), Fields.orDefault(eps, 1e-5),
                Fields.orDefault(affine, true));
    }

    @Override
    public Module build() {
        return new LayerNorm(features, eps, affine);
    }
}
