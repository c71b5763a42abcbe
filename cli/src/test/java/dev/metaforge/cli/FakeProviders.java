package dev.metaforge.cli;

import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendProvider;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.ProbeResult;
import dev.metaforge.tck.ForwardingBackend;
import dev.metaforge.tck.ForwardingKernels;
import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;

/** Fast stand-ins for real backends, and a class loader that shows only them to ServiceLoader. */
final class FakeProviders {
    private FakeProviders() {
    }

    static final String SERVICE = "META-INF/services/dev.metaforge.spi.BackendProvider";

    /** Hides the real backends (DJL, ND4J load natives) and offers the fakes in test resources instead. */
    static ClassLoader isolatedLoader() {
        ClassLoader parent = FakeProviders.class.getClassLoader();
        URL fakes = parent.getResource("fake-providers/" + SERVICE);
        if (fakes == null) {
            throw new IllegalStateException("test resource fake-providers/" + SERVICE + " is missing");
        }
        return new ClassLoader(parent) {
            @Override
            public Enumeration<URL> getResources(String name) throws IOException {
                return name.equals(SERVICE) ? Collections.enumeration(List.of(fakes)) : super.getResources(name);
            }

            @Override
            public URL getResource(String name) {
                return name.equals(SERVICE) ? fakes : super.getResource(name);
            }
        };
    }

    /** A working backend: the reference kernels under the name "fake". */
    public static final class Fake implements BackendProvider {
        @Override
        public String name() {
            return "fake";
        }

        @Override
        public int priority() {
            return 10;
        }

        @Override
        public ProbeResult probe() {
            return ProbeResult.usable("fake 1.0, cpu:0");
        }

        @Override
        public Backend create(BackendConfig config) {
            Kernels kernels = new ForwardingKernels(new ReferenceBackend().kernels()) {
                @Override
                public String backendName() {
                    return "fake";
                }
            };
            return new ForwardingBackend(new ReferenceBackend()) {
                @Override
                public String name() {
                    return "fake";
                }

                @Override
                public String version() {
                    return "fake 1.0";
                }

                @Override
                public Set<Capability> capabilities() {
                    return Set.of(Capability.FLOAT32, Capability.INT64);
                }

                @Override
                public Kernels kernels() {
                    return kernels;
                }
            };
        }
    }

    /** A backend whose natives are missing: higher priority, but its probe fails. */
    public static final class MissingNatives implements BackendProvider {
        @Override
        public String name() {
            return "missing-natives";
        }

        @Override
        public int priority() {
            return 20;
        }

        @Override
        public ProbeResult probe() {
            return ProbeResult.unusable("libmissing.so not found; add dev.example:missing-natives:linux-x86_64");
        }

        @Override
        public Backend create(BackendConfig config) {
            throw new IllegalStateException("not usable");
        }
    }
}
