package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Kernels;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend seen through a proxy that counts copies from native arrays to the host ({@code toDoubles},
 * {@code toFloats}, {@code toLongs}). A training step that copies nothing to the host can run on a device
 * without synchronising on every step; the TCK's host-copy rules use this to prove it, and a plugin author
 * can use it the same way for their own component:
 *
 * <pre>{@code
 * HostCopyCounter counter = new HostCopyCounter(backend);
 * Engine engine = Engine.of(counter.backend(), DType.FLOAT32);
 * ... build, then counter.reset(); run a step; assertEquals(0, counter.count());
 * }</pre>
 *
 * <p>Closing the counting backend does not close the one it wraps.
 */
public final class HostCopyCounter {
    /** The {@link Kernels} methods that copy native data to the host. */
    public static final Set<String> HOST_COPIES = Set.of("toDoubles", "toFloats", "toLongs");

    private final AtomicInteger copies = new AtomicInteger();
    private final Backend backend;

    /** Wraps {@code delegate}; every host copy through {@link #backend()} is counted. */
    public HostCopyCounter(Backend delegate) {
        requireNonNull(delegate, "delegate is null");
        Kernels inner = delegate.kernels();
        Kernels counting = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (proxy, method, args) -> {
                    if (HOST_COPIES.contains(method.getName())) {
                        copies.incrementAndGet();
                    }
                    try {
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        this.backend = new ForwardingBackend(delegate) {
            @Override
            public Kernels kernels() {
                return counting;
            }

            @Override
            public void close() {
                // the owner of the wrapped backend closes it
            }
        };
    }

    /** The counting backend. */
    public Backend backend() {
        return backend;
    }

    /** Host copies since construction or the last {@link #reset()}. */
    public int count() {
        return copies.get();
    }

    /** Starts counting from zero. */
    public void reset() {
        copies.set(0);
    }
}
