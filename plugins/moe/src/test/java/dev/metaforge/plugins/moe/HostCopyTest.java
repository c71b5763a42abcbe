package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Routing stays on the backend: a training step through an MoE layer (forward in train mode,
 * backward through router and experts, an Adam update) makes no {@code toDoubles}, {@code toFloats}
 * or {@code toLongs} call on the backend's kernels, for every router. The kernels are wrapped in a
 * counting proxy (every Kernels method, defaults included, goes through it).
 */
class HostCopyTest {
    private static final Set<String> HOST_COPIES = Set.of("toDoubles", "toFloats", "toLongs");

    @Test
    void aTrainingStepCopiesNothingToTheHost() {
        ReferenceBackend inner = new ReferenceBackend();
        AtomicInteger copies = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        Kernels counting = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (proxy, method, args) -> {
                    calls.incrementAndGet();
                    if (HOST_COPIES.contains(method.getName())) {
                        copies.incrementAndGet();
                    }
                    try {
                        return method.invoke(inner.kernels(), args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Engine engine = Engine.of(new Wrapped(inner, counting), DType.FLOAT32);
        MoeGradientTest.routers().forEach((name, router) -> {
            MixtureOfExperts moe = MoeFixtures.layer(router, 6);
            Optimizer adam = Adam.adam(1e-3);
            try (Scope s = Scope.open()) {
                Params params = moe.init(engine, RandomStream.of(1));
                Params state = moe.initState(engine, 0);
                Tensor x = engine.uniform(dev.metaforge.spi.Shape.of(32, 5), -1, 1, 3);
                Tensor target = engine.uniform(dev.metaforge.spi.Shape.of(32, 5), -1, 1, 4);
                copies.set(0);
                calls.set(0);
                for (int step = 0; step < 2; step++) {
                    Params tracked = params.requiringGrad();
                    ModuleOutput out = moe.forward(tracked, x, ModuleCall.train(state, RandomStream.of(step)));
                    Tensor loss = out.output().sub(target).square().mean();
                    if (out.auxLoss() != null) {
                        loss = loss.add(out.auxLoss());
                    }
                    Params grads = Grad.of(loss).wrt(tracked);
                    params = adam.step(params, grads);
                    state = out.state().isEmpty() ? state : out.state().stopGradient();
                }
                assertTrue(calls.get() > 50, name + ": the proxy saw the step's kernels (" + calls.get() + ")");
                assertEquals(0, copies.get(), name + ": host copies in a training step");
                x.sum().item();
                assertEquals(1, copies.get(), "the proxy counts host copies (a check that cannot fail is no check)");
            } finally {
                adam.close();
            }
        });
    }

    /** The reference backend with its kernels replaced. */
    private record Wrapped(ReferenceBackend delegate, Kernels kernels) implements Backend {
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
        public void close() {
            delegate.close();
        }
    }
}
