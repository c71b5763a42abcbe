package dev.metaforge.plugins.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code {"type": "sequential", "layers": [{"type": "linear", "in": 2, "out": 8}, {"type": "activation", "function": "tanh"}, ...]}}:
 * modules applied in order; layer i's parameters are named {@code "i." + name}.
 *
 * @param layers the modules, at least one
 */
public record SequentialSpec(List<ModuleSpec> layers) implements ModuleSpec {
    public SequentialSpec {
        Fields.required(layers, "layers", "a list of module specs");
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("field 'layers' must hold at least one module");
        }
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) == null) {
                throw new IllegalArgumentException("field 'layers' has null at index " + i);
            }
        }
        layers = List.copyOf(layers);
    }

    @JsonCreator
    static SequentialSpec fromJson(@JsonProperty("layers") List<ModuleSpec> layers) {
        return new SequentialSpec(layers);
    }

    @Override
    public Module build() {
        List<Module> built = new ArrayList<>();
        for (ModuleSpec layer : layers) {
            built.add(layer.build());
        }
        return new Sequential(built);
    }
}
