package dev.metaforge.backend.reference;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.UnsupportedCapabilityException;
import dev.metaforge.spi.Kernels;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The pure-Java reference backend: float64 storage, straightforward loops, {@code cpu:0} only.
 * It is the TCK's independent oracle and a fast backend for unit tests, not a production backend.
 *
 * <pre>{@code
 * try (Backend b = new ReferenceBackend()) {
 *     Kernels k = b.kernels();
 *     NativeArray x = k.fromDoubles(new double[] {1, 2}, Shape.of(2), DType.FLOAT64);
 * }
 * }</pre>
 */
public final class ReferenceBackend implements Backend {
    /** The backend name. */
    public static final String NAME = "reference";
    /** The version string. */
    public static final String VERSION = "metaforge-reference 1 (pure Java float64)";

    private static final Set<Capability> CAPABILITIES = Collections.unmodifiableSet(
            EnumSet.of(Capability.FLOAT32, Capability.FLOAT64, Capability.INT64, Capability.CONVOLUTION));

    private final ReferenceKernels kernels = new ReferenceKernels();

    /** A backend on {@code cpu:0}. */
    public ReferenceBackend() {
        this(BackendConfig.defaults());
    }

    /**
     * A backend for {@code config}; options are ignored.
     *
     * @throws UnsupportedCapabilityException for a GPU device (it has none)
     * @throws IllegalArgumentException for any other device than {@code cpu:0}
     */
    public ReferenceBackend(BackendConfig config) {
        requireNonNull(config, "config is null");
        if (config.device().isGpu()) {
            throw new UnsupportedCapabilityException("reference", "create on " + config.device(), Capability.GPU);
        }
        if (!config.device().equals(Device.CPU)) {
            throw new IllegalArgumentException("the reference backend runs on cpu:0 only, not " + config.device());
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public List<Device> devices() {
        return List.of(Device.CPU);
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Set<Capability> capabilities() {
        return CAPABILITIES;
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    /** Nothing to free: arrays are plain Java heap memory. Idempotent. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return VERSION;
    }
}
