package dev.metaforge.api.plugin;

import dev.metaforge.api.spec.SpecType;
import java.util.List;

/**
 * A bundle of components, found with {@link java.util.ServiceLoader} (file
 * {@code META-INF/services/dev.metaforge.api.plugin.MetaforgePlugin}). Built-in components are
 * registered exactly like a third party's.
 *
 * <pre>{@code
 * public final class MyPlugin implements MetaforgePlugin {
 *     public String name() { return "my-plugin"; }
 *     public List<SpecType> specTypes() {
 *         return List.of(new SpecType(ModuleSpec.class, "my-layer", MyLayerSpec.class));
 *     }
 * }
 * }</pre>
 */
public interface MetaforgePlugin {
    /** A short unique name, shown in errors. */
    String name();

    /** JSON type names this plugin contributes; none by default. */
    default List<SpecType> specTypes() {
        return List.of();
    }

    /**
     * Tiny experiments exercising this plugin's components, for the conformance kit: its
     * {@code MODEL-FAMILY-*} rules build each from JSON on the backend under test and check loss and
     * gradient against the float64 reference and finite differences, determinism and the spec round
     * trip ({@code metaforge tck --plugins my.jar}). The experiments may use other plugins' types
     * (the kit loads every plugin). None by default.
     */
    default List<ComponentExample> conformanceExamples() {
        return List.of();
    }

    /**
     * A side-effect-free Guice module contributing component bindings (Multibinder/MapBinder);
     * empty by default. The injector uses {@code requireExplicitBindings}.
     */
    default com.google.inject.Module guiceModule() {
        return binder -> { };
    }
}
