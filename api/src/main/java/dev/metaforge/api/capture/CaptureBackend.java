package dev.metaforge.api.capture;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import java.util.List;
import java.util.Set;

/**
 * A backend whose {@link #kernels()} can record ({@link CaptureKernels}); everything else is the
 * wrapped backend's. Closing it does not close the wrapped backend (its owner does).
 */
public final class CaptureBackend implements Backend {
    private final Backend backend;
    private final CaptureKernels kernels;

    CaptureBackend(Backend backend) {
        this.backend = requireNonNull(backend, "backend is null");
        this.kernels = new CaptureKernels(backend.kernels());
    }

    /** The wrapped backend. */
    public Backend wrapped() {
        return backend;
    }

    @Override
    public String name() {
        return backend.name();
    }

    @Override
    public String version() {
        return backend.version();
    }

    @Override
    public List<Device> devices() {
        return backend.devices();
    }

    @Override
    public Device device() {
        return backend.device();
    }

    @Override
    public Set<Capability> capabilities() {
        return backend.capabilities();
    }

    @Override
    public CaptureKernels kernels() {
        return kernels;
    }

    @Override
    public void close() {
        // The wrapped backend belongs to whoever created it.
    }

    @Override
    public String toString() {
        return backend.toString();
    }
}
