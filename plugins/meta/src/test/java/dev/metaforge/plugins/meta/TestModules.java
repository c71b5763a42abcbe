package dev.metaforge.plugins.meta;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecType;
import java.util.List;

/** A test-only module spec, so these tests use ModuleSpec polymorphically without depending on another plugin. */
final class TestModules implements MetaforgePlugin {
    /** {@code {"type": "test-mlp", "sizes": [...], "activation": "relu"}}. */
    record TestMlpSpec(List<Integer> sizes, String activation) implements ModuleSpec {
        @Override
        public Module build() {
            return Mlp.of(sizes, Activation.parse(activation));
        }
    }

    @Override
    public String name() {
        return "meta-tests";
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(new SpecType(ModuleSpec.class, "test-mlp", TestMlpSpec.class));
    }
}
