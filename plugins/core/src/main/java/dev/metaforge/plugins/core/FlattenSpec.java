package dev.metaforge.plugins.core;

import dev.metaforge.api.spec.Range;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Flatten;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;

/**
 * {@code {"type": "flatten", "startAxis": 1, "endAxis": -1}}: merges axes startAxis..endAxis into one. The default
 * flattens everything after the sample axis; use {@code "startAxis": 2} after a weight-batch axis, or count from
 * the end ({@code "startAxis": -3}) to serve both forms.
 *
 * @param startAxis first merged axis, negative from the end (default 1)
 * @param endAxis   last merged axis, negative from the end (default -1)
 */
public record FlattenSpec(
        @Range(min = -64, max = 64, what = "first axis (negative: from the end)") int startAxis,
        @Range(min = -64, max = 64, what = "last axis (negative: from the end)") int endAxis) implements ModuleSpec {
    public FlattenSpec {
        if ((startAxis >= 0) == (endAxis >= 0) && startAxis > endAxis) {
            throw new IllegalArgumentException("field 'endAxis' (" + endAxis + ") must not come before field 'startAxis' (" + startAxis + ")");
        }
    }

    @JsonCreator
    static FlattenSpec fromJson(@JsonProperty("startAxis") Integer startAxis, @JsonProperty("endAxis") Integer endAxis) {
        return new FlattenSpec(Fields.orDefault(startAxis, 1), Fields.orDefault(endAxis, -1));
    }

    @Override
    public Module build() {
        return new Flatten(startAxis, endAxis);
    }
}
