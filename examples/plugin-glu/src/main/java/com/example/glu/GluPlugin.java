package com.example.glu;

import dev.metaforge.api.nn.ModuleSpec;
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
}
