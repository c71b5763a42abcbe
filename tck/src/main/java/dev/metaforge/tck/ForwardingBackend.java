package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import java.util.List;
import java.util.Set;

/**
 * A {@link Backend} that forwards every method to a delegate: subclass it to rename a backend,
 * change its declared capabilities, decorate its kernels (with {@link ForwardingKernels}) or count
 * what it does, overriding only what differs.
 *
 * <pre>{@code
 * Backend renamed = new ForwardingBackend(new ReferenceBackend()) {
 *     @Override
 *     public String name() {
 *         return "fake";
 *     }
 * };
 * }</pre>
 *
 * {@link #supports} is not forwarded: it follows {@link #capabilities()}, overridden or not.
 * {@link #close()} closes the delegate; override it when the wrapper does not own the delegate.
 */
public class ForwardingBackend implements Backend {
    protected final Backend delegate;

    public ForwardingBackend(Backend delegate) {
        this.delegate = requireNonNull(delegate, "delegate is null");
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public String version() {
        return delegate.version();
    }

    @Override
    public List<Device> devices() {
        return delegate.devices();
    }

    @Override
    public Device device() {
        return delegate.device();
    }

    @Override
    public Set<Capability> capabilities() {
        return delegate.capabilities();
    }

    @Override
    public Kernels kernels() {
        return delegate.kernels();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
