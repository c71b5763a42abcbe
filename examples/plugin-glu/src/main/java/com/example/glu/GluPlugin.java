package com.example.glu;

import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.plugin.ComponentExample;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import java.util.List;

/** Registers the {@code "glu"} module type; found by {@link java.util.ServiceLoader} through its service file. */
public final class GluPlugin implements MetaforgePlugin {
    @Override
    public String name() {
        return "glu-example";
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(new SpecType(ModuleSpec.class, "glu", GluSpec.class));
    }

    /**
     * A tiny regression through two glu layers: the conformance kit's MODEL-FAMILY rules build it from this JSON
     * on the backend under test and check loss, gradient (float64 reference, finite differences), determinism
     * and the spec round trip.
     */
    @Override
    public List<ComponentExample> conformanceExamples() {
        return List.of(ComponentExample.of("regression through glu layers",
                "{\"type\": \"regression\", \"model\": {\"type\": \"sequential\", \"layers\": ["
                        + "{\"type\": \"glu\", \"in\": 1, \"out\": 4}, {\"type\": \"glu\", \"in\": 4, \"out\": 3},"
                        + "{\"type\": \"linear\", \"in\": 3, \"out\": 1}]},"
                        + "\"task\": {\"function\": \"sin\", \"batch\": 5, \"evalPoints\": 5}}"));
    }
}
