package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.Residual;

/**
 * {@code {"type": "residual", "inner": {"type": "sequential", "layers": [...]}}}: {@code x + inner(x)}; the inner
 * module must keep the shape. Its parameters and state are named {@code inner.*}.
 *
 * @param inner the branch
 */
public record ResidualSpec(ModuleSpec inner) implements ModuleSpec {
    public ResidualSpec {
        Fields.required(inner, "inner", "the module spec of the branch added to the input");
    }

    @JsonCreator
    static ResidualSpec fromJson(@JsonProperty("inner") ModuleSpec inner) {
        return new ResidualSpec(inner);
    }

    @Override
    public Module build() {
        return new Residual(inner.build());
    }
}
