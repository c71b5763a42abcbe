package com.example.glu;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

/**
 * {@code {"type": "glu", "in": 8, "out": 8}}: a {@link Glu} layer. {@link Range} bounds are checked by the
 * spec reader, which names the JSON path; a missing field is reported here, by its name.
 *
 * @param in  input features
 * @param out output features
 */
public record GluSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "input features") int in,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "output features") int out) implements ModuleSpec {

    @JsonCreator
    static GluSpec fromJson(@JsonProperty("in") Integer in, @JsonProperty("out") Integer out) {
        // The spec reader turns this into an error naming the JSON path of the glu object.
        if (in == null || out == null) {
            throw new IllegalArgumentException("field '" + (in == null ? "in" : "out") + "' is required: the number of "
                    + (in == null ? "input" : "output") + " features of the glu layer");
        }
        return new GluSpec(in, out);
    }

    @Override
    public Module build() {
        return new Glu(in, out);
    }
}
