package dev.metaforge.api.wiring;

import static java.util.Objects.requireNonNull;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Provides;
import com.google.inject.multibindings.Multibinder;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingListener;
import dev.metaforge.spi.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The one injector a Metaforge program (the {@code metaforge} command included) is wired with: the chosen
 * {@link Backend}, its {@link Engine}, the {@link SpecRegistry} of the loaded plugins, and a {@link Trainer}
 * that reports to every {@link TrainingListener} in the injector's set. Plugins contribute bindings through
 * {@link MetaforgePlugin#guiceModule()}: today the extension point is that set (a metric sink, a run
 * logger), added with
 *
 * <pre>{@code
 * public com.google.inject.Module guiceModule() {
 *     return binder -> Multibinder.newSetBinder(binder, TrainingListener.class).addBinding().toInstance(new MySink());
 * }
 * }</pre>
 *
 * The injector uses {@code requireExplicitBindings}: nothing is made just in time, so every binding is
 * visible in a module (bind with {@code toInstance} or a {@code @Provides} method, not {@code to(Impl.class)}
 * alone).
 *
 * <pre>{@code
 * try (Engine engine = Engine.create()) {
 *     Injector injector = MetaforgeModule.injector(engine, SpecRegistry.loadPlugins(getClass().getClassLoader()));
 *     Trainer trainer = injector.getInstance(Trainer.class);
 * }
 * }</pre>
 */
public final class MetaforgeModule extends AbstractModule {
    private final Engine engine;
    private final SpecRegistry specs;

    /** Binds {@code engine} and {@code specs}, which should be made from the same plugins as the injector's modules. */
    public MetaforgeModule(Engine engine, SpecRegistry specs) {
        this.engine = requireNonNull(engine, "engine is null");
        this.specs = requireNonNull(specs, "specs is null");
    }

    /** An injector with this module and every plugin's module found by {@code loader}. */
    public static Injector injector(Engine engine, ClassLoader loader) {
        return injector(engine, SpecRegistry.loadPlugins(loader));
    }

    /** An injector with this module (its registry made from {@code plugins}) and each plugin's module. */
    public static Injector injector(Engine engine, List<MetaforgePlugin> plugins) {
        return injector(engine, SpecRegistry.of(plugins), plugins);
    }

    /** An injector binding {@code specs} (already made from {@code plugins}) with each plugin's module. */
    public static Injector injector(Engine engine, SpecRegistry specs, List<MetaforgePlugin> plugins) {
        requireNonNull(plugins, "plugins is null");
        List<String> names = plugins.stream().map(MetaforgePlugin::name).toList();
        if (!names.equals(specs.pluginNames())) {
            throw new IllegalArgumentException("the registry was made from plugins " + specs.pluginNames()
                    + ", not from " + names);
        }
        List<com.google.inject.Module> modules = new ArrayList<>();
        modules.add(new MetaforgeModule(engine, specs));
        for (MetaforgePlugin p : plugins) {
            modules.add(requireNonNull(p.guiceModule(), () -> "plugin '" + p.name() + "' returned a null Guice module"));
        }
        return Guice.createInjector(modules);
    }

    @Override
    protected void configure() {
        binder().requireExplicitBindings();
        bind(Engine.class).toInstance(engine);
        bind(Backend.class).toInstance(engine.backend());
        bind(SpecRegistry.class).toInstance(specs);
        // Declared here so the set exists, empty, when no plugin adds to it.
        Multibinder.newSetBinder(binder(), TrainingListener.class);
    }

    /** A trainer reporting to the injector's listeners, in the order the modules bound them. */
    @Provides
    Trainer trainer(Engine engine, SpecRegistry specs, Set<TrainingListener> listeners) {
        Trainer trainer = new Trainer(engine, specs);
        for (TrainingListener listener : listeners) {
            trainer = trainer.withListener(listener);
        }
        return trainer;
    }
}
