package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Dropout;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;

/**
 * {@code {"type": "dropout", "p": 0.1}}: inverted dropout in training calls (entries dropped with probability p, the
 * rest scaled by 1 / (1 - p), the mask drawn from the call's random stream); the identity otherwise.
 *
 * @param p drop probability in [0, 1) (default 0.5, as PyTorch)
 */
public record DropoutSpec(
        @Range(min = 0, max = 1, maxExclusive = true, what = "drop probability") double p) implements ModuleSpec {
    public DropoutSpec {
        Fields.inUnitInterval(p, "p");
    }

    @JsonCreator
    static DropoutSpec fromJson(@JsonProperty("p") Double p) {
        return new DropoutSpec(Fields.orDefault(p, 0.5));
    }

    @Override
    public Module build() {
        return new Dropout(p);
    }
}
