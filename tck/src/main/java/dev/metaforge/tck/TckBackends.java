package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.backend.reference.ReferenceBackendProvider;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendDiscovery;
import dev.metaforge.spi.BackendProvider;
import dev.metaforge.spi.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;

/**
 * Which backend the kit tests, and the reference backend it compares against.
 *
 * <p>The backend under test is named by the configuration parameter {@value #BACKEND_PARAMETER}
 * (a suite's {@code @ConfigurationParameter}, a {@code -D} system property, or
 * {@code junit-platform.properties}), else by {@code -Dmetaforge.backend} / {@code METAFORGE_BACKEND}.
 * A named backend is looked up among the {@link java.util.ServiceLoader} providers plus the
 * {@code reference} provider (which is deliberately not registered, so it is never picked
 * automatically). With no name at all the normal selection rule picks among the registered
 * providers only.
 */
public final class TckBackends {
    /** Configuration parameter naming the backend under test. */
    public static final String BACKEND_PARAMETER = "metaforge.tck.backend";
    /** Configuration parameter naming the device ({@code cpu}, {@code gpu:0}); default cpu. */
    public static final String DEVICE_PARAMETER = "metaforge.tck.device";
    /**
     * Configuration parameter with the backend's options ({@link BackendConfig#options()}) as comma-separated
     * {@code key=value} pairs, e.g. {@code gemm=onednn}: a backend whose options choose between kernels runs the
     * kit once per choice. Default none.
     */
    public static final String OPTIONS_PARAMETER = "metaforge.tck.options";

    private TckBackends() {
    }

    /** The registered providers visible to {@code loader}, plus the reference provider. */
    public static BackendDiscovery discoveryWithReference(ClassLoader loader) {
        requireNonNull(loader, "loader is null");
        BackendDiscovery scanned = BackendDiscovery.scan(loader);
        List<BackendProvider> providers = new ArrayList<>(scanned.providers());
        if (providers.stream().noneMatch(p -> p.name().equals(ReferenceBackend.NAME))) {
            providers.add(new ReferenceBackendProvider());
        }
        return BackendDiscovery.of(providers);
    }

    /**
     * The provider the kit will test.
     *
     * @param name a backend name, or null for -Dmetaforge.backend / METAFORGE_BACKEND / the selection rule
     * @throws dev.metaforge.spi.BackendNotFoundException naming the known backends when nothing fits
     */
    public static BackendProvider resolve(String name, ClassLoader loader) {
        return resolve(name, loader, System.getenv(), System.getProperties());
    }

    /** As {@link #resolve(String, ClassLoader)}, reading the explicit name from the given environment and properties. */
    public static BackendProvider resolve(String name, ClassLoader loader, Map<String, String> env, Properties system) {
        requireNonNull(loader, "loader is null");
        String explicit = name != null && !name.isBlank() ? name.trim() : BackendDiscovery.explicitName(env, system);
        if (explicit != null) {
            return discoveryWithReference(loader).select(explicit).chosen();
        }
        return BackendDiscovery.scan(loader).select(null).chosen();
    }

    /** The backend configuration for a device name (null or blank = cpu). */
    public static BackendConfig config(String device) {
        return config(device, null);
    }

    /**
     * The backend configuration for a device name (null or blank = cpu) and the {@value #OPTIONS_PARAMETER}
     * text (null or blank = no options).
     *
     * @throws IllegalArgumentException for a pair without '=' or with an empty key, or a key given twice
     */
    public static BackendConfig config(String device, String options) {
        Device d = device == null || device.isBlank() ? Device.CPU : Device.parse(device);
        Map<String, String> parsed = new java.util.LinkedHashMap<>();
        if (options != null && !options.isBlank()) {
            for (String pair : options.split(",")) {
                int eq = pair.indexOf('=');
                String key = eq < 0 ? "" : pair.substring(0, eq).trim();
                if (key.isEmpty()) {
                    throw new IllegalArgumentException(OPTIONS_PARAMETER + ": '" + pair.trim() + "' is not key=value;"
                            + " write the options as key=value pairs separated by commas, e.g. gemm=onednn");
                }
                if (parsed.put(key, pair.substring(eq + 1).trim()) != null) {
                    throw new IllegalArgumentException(OPTIONS_PARAMETER + ": option '" + key + "' is given twice in '"
                            + options + "'");
                }
            }
        }
        return new BackendConfig(d, parsed);
    }

    /**
     * The backends of one kit run: created once, shared by every rule class, closed at the end.
     * A failure to create them is kept and re-thrown to every rule, so it is reported once per rule
     * rather than retried.
     */
    static final class Session implements AutoCloseable {
        private final String requestedName;
        private final BackendProvider provider;
        private final BackendConfig config;
        private final Backend backend;
        private final Backend reference;
        private final RuntimeException failure;
        private boolean closed;

        private Session(String requestedName, BackendProvider provider, BackendConfig config, Backend backend,
                        Backend reference, RuntimeException failure) {
            this.requestedName = requestedName;
            this.provider = provider;
            this.config = config;
            this.backend = backend;
            this.reference = reference;
            this.failure = failure;
        }

        static Session open(String name, String device, String options, ClassLoader loader) {
            BackendProvider provider = null;
            Backend backend = null;
            BackendConfig config = null;
            try {
                config = config(device, options);
                provider = resolve(name, loader);
                backend = requireNonNull(provider.create(config), "provider " + provider.name() + " created null");
                return new Session(name, provider, config, backend, new ReferenceBackend(), null);
            } catch (RuntimeException | LinkageError e) {
                if (backend != null) {
                    backend.close();
                }
                String what = provider == null ? "no backend to test" : "backend '" + provider.name() + "' could not be created";
                return new Session(name, provider, config, null, null,
                        new IllegalStateException("metaforge tck: " + what + ": " + e, e));
            }
        }

        String displayName() {
            if (backend != null) {
                return backend.name();
            }
            if (provider != null) {
                return provider.name();
            }
            return requestedName == null ? "(selection rule)" : requestedName;
        }

        RuntimeException failure() {
            return failure;
        }

        TckContext context(Function<String, Optional<String>> parameters) {
            if (failure != null) {
                throw failure;
            }
            return new TckContext(provider, config, backend, reference, parameters);
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (backend != null) {
                    backend.close();
                }
            } finally {
                if (reference != null) {
                    reference.close();
                }
            }
        }
    }
}
