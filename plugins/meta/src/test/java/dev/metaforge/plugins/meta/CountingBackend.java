package dev.metaforge.plugins.meta;

import dev.metaforge.backend.reference.ReferenceArray;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.TopK;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A decorator of the reference backend that records every array its kernels create, so a test
 * can count the arrays still open (the native memory a real backend would hold) independently of the
 * Scope bookkeeping under test.
 */
final class CountingBackend implements Backend {
    private final ReferenceBackend delegate;
    private final Kernels kernels;
    private final List<NativeArray> created = new ArrayList<>();

    CountingBackend(ReferenceBackend delegate) {
        this.delegate = delegate;
        Kernels inner = delegate.kernels();
        this.kernels = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    record(result);
                    return result;
                });
    }

    private void record(Object result) {
        if (result instanceof NativeArray a) {
            created.add(a);
        } else if (result instanceof AdamResult r) {
            created.add(r.param());
            created.add(r.m());
            created.add(r.v());
        } else if (result instanceof dev.metaforge.spi.SgdResult r) {
            created.add(r.param());
            if (r.buffer() != null) {
                created.add(r.buffer());
            }
        } else if (result instanceof List<?> list) {
            // adamUpdateForeach/sgdUpdateForeach: one result per parameter
            list.forEach(this::record);
        } else if (result instanceof TopK t) {
            created.add(t.values());
            created.add(t.indices());
        }
    }

    /** Arrays created and not yet closed (forgets closed ones, so the bookkeeping itself stays small). */
    int openArrays() {
        created.removeIf(a -> ((ReferenceArray) a).isClosed());
        return created.size();
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
        return kernels;
    }

    @Override
    public void close() {
        delegate.close();
    }
}
