package dev.metaforge.tckselftest;

import static java.util.Objects.requireNonNull;

import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendProvider;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.ProbeResult;
import dev.metaforge.spi.ReduceOp;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.UnsupportedCapabilityException;
import dev.metaforge.tck.ForwardingBackend;
import dev.metaforge.tck.ForwardingKernels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * Deliberately broken backends built on the reference kernels. A kit that passes these is
 * worthless. They are not registered globally: {@link #loaderFor} shows exactly one of them to
 * {@link java.util.ServiceLoader}, so a run sees only the backend under test (rules that compare
 * against every other backend on the classpath would otherwise compare broken with broken).
 */
final class BrokenBackends {
    private BrokenBackends() {
    }

    static final String SERVICE = "META-INF/services/" + BackendProvider.class.getName();

    /** The test providers by backend name. */
    static final Map<String, Class<? extends BackendProvider>> BY_NAME = Map.ofEntries(
            Map.entry("broken-matmul", BrokenMatmul.class),
            Map.entry("broken-softmax", BrokenSoftmax.class),
            Map.entry("broken-sum", BrokenSum.class),
            Map.entry("broken-linear", BrokenLinear.class),
            Map.entry("stale-adam-foreach", StaleAdamForeach.class),
            Map.entry("stale-sgd-foreach", StaleSgdForeach.class),
            Map.entry("stale-donated-param", StaleDonatedParam.class),
            Map.entry("broken-relu-backward", BrokenReluBackward.class),
            Map.entry("broken-bias-gradient", BrokenBiasGradient.class),
            Map.entry("broken-xent-backward", BrokenXentBackward.class),
            Map.entry("broken-conv-weight", BrokenConvWeight.class),
            Map.entry("unstable-argsort", UnstableArgsort.class),
            Map.entry("lying-float64", LyingFloat64.class),
            Map.entry("no-float64", NoFloat64.class),
            Map.entry("failing-create", FailingCreate.class),
            Map.entry("broken-float64-exp", BrokenFloat64Exp.class),
            Map.entry("cpu-posing-as-gpu", CpuPosingAsGpu.class));

    /**
     * A class loader through which ServiceLoader finds exactly {@code providers} (none: only the
     * reference backend, which the kit always adds, can be tested).
     */
    @SafeVarargs
    static ClassLoader loaderFor(Class<? extends BackendProvider>... providers) {
        ClassLoader parent = BrokenBackends.class.getClassLoader();
        try {
            Path file = Files.createTempFile("tck-providers", ".txt");
            file.toFile().deleteOnExit();
            StringBuilder lines = new StringBuilder();
            for (Class<? extends BackendProvider> p : providers) {
                lines.append(p.getName()).append('\n');
            }
            Files.writeString(file, lines);
            URL url = file.toUri().toURL();
            return new ClassLoader(parent) {
                @Override
                public Enumeration<URL> getResources(String name) throws IOException {
                    return name.equals(SERVICE) ? Collections.enumeration(List.of(url)) : super.getResources(name);
                }

                @Override
                public URL getResource(String name) {
                    return name.equals(SERVICE) ? url : super.getResource(name);
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A class loader showing only the named test backend (or none, for "reference"). */
    static ClassLoader loaderFor(String backend) {
        Class<? extends BackendProvider> p = BY_NAME.get(backend);
        return p == null ? loaderFor() : loaderFor(p);
    }

    /** How often each test backend was created and closed, to prove the kit creates one per run and closes it. */
    static final Map<String, AtomicInteger> CREATED = new ConcurrentHashMap<>();
    static final Map<String, AtomicInteger> CLOSED = new ConcurrentHashMap<>();

    /** The reference backend named {@code name}, with the given kernels and capabilities (subclassed to fake devices). */
    static class TestBackend extends ForwardingBackend {
        private final String name;
        private final Kernels kernels;
        private final Set<Capability> capabilities;

        TestBackend(String name, Kernels kernels, Set<Capability> capabilities) {
            super(new ReferenceBackend());
            this.name = requireNonNull(name);
            this.kernels = requireNonNull(kernels);
            this.capabilities = Set.copyOf(capabilities);
            CREATED.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String version() {
            return "broken test backend over " + ReferenceBackend.VERSION;
        }

        @Override
        public Set<Capability> capabilities() {
            return capabilities;
        }

        @Override
        public Kernels kernels() {
            return kernels;
        }

        @Override
        public void close() {
            CLOSED.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
            super.close();
        }
    }

    /** Forwards to the reference kernels under another name. */
    static class Renamed extends ForwardingKernels {
        private final String name;

        Renamed(String name) {
            super(new ReferenceBackend().kernels());
            this.name = name;
        }

        @Override
        public String backendName() {
            return name;
        }
    }

    /** A provider for a test backend; never chosen by priority. */
    abstract static class TestProvider implements BackendProvider {
        private final String name;
        private final BiFunction<String, BackendConfig, Backend> factory;

        TestProvider(String name, BiFunction<String, BackendConfig, Backend> factory) {
            this.name = name;
            this.factory = factory;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int priority() {
            return -100;
        }

        @Override
        public ProbeResult probe() {
            return ProbeResult.usable("test backend, cpu:0");
        }

        @Override
        public Backend create(BackendConfig config) {
            if (!config.device().equals(Device.CPU)) {
                throw new UnsupportedCapabilityException(name, "create on " + config.device(), Capability.GPU);
            }
            return factory.apply(name, config);
        }
    }

    static final Set<Capability> ALL = EnumSet.of(Capability.FLOAT32, Capability.FLOAT64, Capability.INT64, Capability.CONVOLUTION);

    /** matmul transposes b when b's last two dims are equal. */
    public static final class BrokenMatmul extends TestProvider {
        public BrokenMatmul() {
            super("broken-matmul", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray matmul(NativeArray a, NativeArray b) {
                    Shape s = b.shape();
                    if (s.rank() == 2 && s.dim(0) == s.dim(1) && s.dim(0) > 1) {
                        try (NativeArray bt = transpose(b, new int[] {1, 0})) {
                            return super.matmul(a, bt);
                        }
                    }
                    return super.matmul(a, b);
                }
            }, ALL));
        }
    }

    /** softmax along axis 0 whatever axis is asked for (when the array has more than one). */
    public static final class BrokenSoftmax extends TestProvider {
        public BrokenSoftmax() {
            super("broken-softmax", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray softmax(NativeArray x, int axis) {
                    return super.softmax(x, x.shape().rank() > 1 ? 0 : axis);
                }
            }, ALL));
        }
    }

    /** SUM ignores the last element of the array. */
    public static final class BrokenSum extends TestProvider {
        public BrokenSum() {
            super("broken-sum", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray reduce(ReduceOp op, NativeArray x, int[] axes, boolean keepDims) {
                    if (op != ReduceOp.SUM || x.shape().size() < 2) {
                        return super.reduce(op, x, axes, keepDims);
                    }
                    double[] v = toDoubles(x);
                    v[v.length - 1] = 0;
                    try (NativeArray dropped = fromDoubles(v, x.shape(), x.dtype())) {
                        return super.reduce(op, dropped, axes, keepDims);
                    }
                }
            }, ALL));
        }
    }

    /** A fused linear that adds the bias twice; every primitive is right. */
    public static final class BrokenLinear extends TestProvider {
        public BrokenLinear() {
            super("broken-linear", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray linear(NativeArray x, NativeArray w, NativeArray b) {
                    NativeArray y = super.linear(x, w, b);
                    if (b == null) {
                        return y;
                    }
                    try (y) {
                        return binary(dev.metaforge.spi.BinaryOp.ADD, y, b);
                    }
                }
            }, ALL));
        }
    }

    /**
     * A foreach Adam that claims to update the donated moments in place but hands them back
     * unchanged: each step's parameters are right given the moments it started from, so a single
     * step from zero moments would hide it; the per-tensor adamUpdate is right.
     */
    public static final class StaleAdamForeach extends TestProvider {
        public StaleAdamForeach() {
            super("stale-adam-foreach", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public List<dev.metaforge.spi.AdamResult> adamUpdateForeach(List<NativeArray> params, List<NativeArray> grads,
                        List<NativeArray> m, List<NativeArray> v, dev.metaforge.spi.AdamStep h) {
                    List<dev.metaforge.spi.AdamResult> fresh = super.adamUpdateForeach(params, grads, m, v, h);
                    List<dev.metaforge.spi.AdamResult> stale = new java.util.ArrayList<>();
                    for (int i = 0; i < fresh.size(); i++) {
                        fresh.get(i).m().close();
                        fresh.get(i).v().close();
                        stale.add(new dev.metaforge.spi.AdamResult(fresh.get(i).param(), m.get(i), v.get(i)));
                    }
                    return stale;
                }
            }, ALL));
        }
    }

    /**
     * An in-place foreach Adam that hands every donated parameter back as updated without writing it
     * (the moments are right): only a rule that reads the handed-back parameters sees it.
     */
    public static final class StaleDonatedParam extends TestProvider {
        public StaleDonatedParam() {
            super("stale-donated-param", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public List<dev.metaforge.spi.AdamResult> adamUpdateForeachInPlace(List<NativeArray> params,
                        List<NativeArray> grads, List<NativeArray> m, List<NativeArray> v, dev.metaforge.spi.AdamStep h) {
                    List<dev.metaforge.spi.AdamResult> fresh = super.adamUpdateForeachInPlace(params, grads, m, v, h);
                    List<dev.metaforge.spi.AdamResult> stale = new java.util.ArrayList<>();
                    for (int i = 0; i < fresh.size(); i++) {
                        dev.metaforge.spi.AdamResult r = fresh.get(i);
                        if (r.param() != params.get(i)) {
                            r.param().close();
                        }
                        stale.add(new dev.metaforge.spi.AdamResult(params.get(i), r.m(), r.v()));
                    }
                    return stale;
                }
            }, ALL));
        }
    }

    /**
     * A foreach SGD that hands the donated momentum buffers back unchanged (each step's parameters
     * are right given the buffers it started from): only a chain of steps with momentum shows it.
     */
    public static final class StaleSgdForeach extends TestProvider {
        public StaleSgdForeach() {
            super("stale-sgd-foreach", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public List<dev.metaforge.spi.SgdResult> sgdUpdateForeach(List<NativeArray> params, List<NativeArray> grads,
                        List<NativeArray> buffers, dev.metaforge.spi.SgdStep h) {
                    List<dev.metaforge.spi.SgdResult> fresh = super.sgdUpdateForeach(params, grads, buffers, h);
                    List<dev.metaforge.spi.SgdResult> stale = new java.util.ArrayList<>();
                    for (int i = 0; i < fresh.size(); i++) {
                        NativeArray buffer = fresh.get(i).buffer();
                        if (buffer != null) {
                            buffer.close();
                            buffer = buffers.get(i);
                        }
                        stale.add(new dev.metaforge.spi.SgdResult(fresh.get(i).param(), buffer));
                    }
                    return stale;
                }
            }, ALL));
        }
    }

    /**
     * reluBackward masks with the gradient's sign instead of the input's (swapped arguments): right
     * wherever the two signs agree, so only a rule with independent g and x sees it.
     */
    public static final class BrokenReluBackward extends TestProvider {
        public BrokenReluBackward() {
            super("broken-relu-backward", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray reluBackward(NativeArray grad, NativeArray input) {
                    return super.reluBackward(grad, grad);
                }
            }, ALL));
        }
    }

    /**
     * softmaxCrossEntropyBackward leaves out the loss's cotangent, {@code softmax(x) - t}: right whenever
     * that cotangent is 1 (a summed loss), so only a rule with a random cotangent sees it.
     */
    public static final class BrokenXentBackward extends TestProvider {
        public BrokenXentBackward() {
            super("broken-xent-backward", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray softmaxCrossEntropyBackward(NativeArray grad, NativeArray logits, NativeArray target, int axis) {
                    try (NativeArray s = softmax(logits, axis)) {
                        return binary(dev.metaforge.spi.BinaryOp.SUB, s, target);
                    }
                }
            }, ALL));
        }
    }

    /** biasGradient averages instead of summing: right for a batch of one. */
    public static final class BrokenBiasGradient extends TestProvider {
        public BrokenBiasGradient() {
            super("broken-bias-gradient", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray biasGradient(NativeArray grad, Shape biasShape) {
                    int[] axes = dev.metaforge.spi.KernelChecks.broadcastAxes("biasGradient", grad.shape(), biasShape);
                    if (axes.length == 0) {
                        return super.biasGradient(grad, biasShape);
                    }
                    try (NativeArray mean = reduce(dev.metaforge.spi.ReduceOp.MEAN, grad, axes, true)) {
                        return reshape(mean, biasShape);
                    }
                }
            }, ALL));
        }
    }

    /**
     * conv2dBackwardWeight ignores the dilation (computes the weight gradient of the undilated
     * convolution, cropped to the kernel): right whenever the dilation is 1, so only rules with
     * dilated geometries can catch it.
     */
    public static final class BrokenConvWeight extends TestProvider {
        public BrokenConvWeight() {
            super("broken-conv-weight", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray conv2dBackwardWeight(NativeArray input, NativeArray gradOutput, Shape weightShape,
                                                        Conv2dOptions o) {
                    if (o.dilation()[0] == 1 && o.dilation()[1] == 1) {
                        return super.conv2dBackwardWeight(input, gradOutput, weightShape, o);
                    }
                    // the gradient of an undilated kernel whose taps span the dilated extent, sampled at its corner
                    Conv2dOptions undilated = new Conv2dOptions(o.stride(), o.padding(), new int[] {1, 1}, o.groups());
                    Shape wide = Shape.of(weightShape.dim(0), weightShape.dim(1),
                            o.effectiveKernel(weightShape.dim(2), 0), o.effectiveKernel(weightShape.dim(3), 1));
                    try (NativeArray full = super.conv2dBackwardWeight(input, gradOutput, wide, undilated)) {
                        return slice(full, new int[] {0, 0, 0, 0}, weightShape.dims());
                    }
                }
            }, ALL));
        }
    }

    /** argsort by an unstable order: equal values come out in reverse index order; distinct values are right. */
    public static final class UnstableArgsort extends TestProvider {
        public UnstableArgsort() {
            super("unstable-argsort", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray argsort(NativeArray x, int axis, boolean descending) {
                    // reverse the axis, sort stably, map the indices back: ties now go to the higher index
                    int a = x.shape().normalizeAxis(axis);
                    int n = x.shape().dim(a);
                    long[] backwards = new long[n];
                    for (int i = 0; i < n; i++) {
                        backwards[i] = n - 1 - i;
                    }
                    try (NativeArray order = fromLongs(backwards, Shape.of(n));
                         NativeArray reversed = gather(x, order, a);
                         NativeArray sorted = super.argsort(reversed, a, descending);
                         NativeArray negated = unary(dev.metaforge.spi.UnaryOp.NEG, sorted)) {
                        return binaryScalar(dev.metaforge.spi.BinaryOp.ADD, negated, n - 1);
                    }
                }
            }, ALL));
        }
    }

    /** Does not declare FLOAT64 but silently computes in it: undeclared capabilities must fail cleanly. */
    public static final class LyingFloat64 extends TestProvider {
        public LyingFloat64() {
            super("lying-float64", (name, config) -> new TestBackend(name, new Renamed(name),
                    EnumSet.of(Capability.FLOAT32, Capability.INT64, Capability.CONVOLUTION)));
        }
    }

    /** Does not declare FLOAT64 and rejects it cleanly: conformant, with UNSUPPORTED rules. */
    public static final class NoFloat64 extends TestProvider {
        public NoFloat64() {
            super("no-float64", (name, config) -> new TestBackend(name, new Renamed(name) {
                private NativeArray refuse(DType dtype, String op) {
                    if (dtype == DType.FLOAT64) {
                        throw new UnsupportedCapabilityException(name, op, Capability.FLOAT64);
                    }
                    return null;
                }

                @Override
                public NativeArray fromDoubles(double[] data, Shape shape, DType dtype) {
                    refuse(dtype, "fromDoubles");
                    return super.fromDoubles(data, shape, dtype);
                }

                @Override
                public NativeArray full(Shape shape, double value, DType dtype) {
                    refuse(dtype, "full");
                    return super.full(shape, value, dtype);
                }

                @Override
                public NativeArray zeros(Shape shape, DType dtype) {
                    refuse(dtype, "zeros");
                    return super.zeros(shape, dtype);
                }

                @Override
                public NativeArray randomUniform(Shape shape, DType dtype, double low, double high, long seed) {
                    refuse(dtype, "randomUniform");
                    return super.randomUniform(shape, dtype, low, high, seed);
                }

                @Override
                public NativeArray randomNormal(Shape shape, DType dtype, double mean, double std, long seed) {
                    refuse(dtype, "randomNormal");
                    return super.randomNormal(shape, dtype, mean, std, seed);
                }

                @Override
                public NativeArray cast(NativeArray x, DType dtype) {
                    refuse(dtype, "cast");
                    return super.cast(x, dtype);
                }

                @Override
                public NativeArray arange(int n, DType dtype) {
                    refuse(dtype, "arange");
                    return super.arange(n, dtype);
                }
            }, EnumSet.of(Capability.FLOAT32, Capability.INT64, Capability.CONVOLUTION)));
        }
    }

    /** create() fails: every rule must FAIL with the reason. */
    public static final class FailingCreate extends TestProvider {
        public FailingCreate() {
            super("failing-create", (name, config) -> {
                throw new IllegalStateException("native library libnothing.so not found");
            });
        }
    }

    /** exp is right in FLOAT32 but off by a relative 1e-9 in FLOAT64: only the FLOAT64 rule can see it. */
    public static final class BrokenFloat64Exp extends TestProvider {
        public BrokenFloat64Exp() {
            super("broken-float64-exp", (name, config) -> new TestBackend(name, new Renamed(name) {
                @Override
                public NativeArray unary(dev.metaforge.spi.UnaryOp op, NativeArray x) {
                    NativeArray y = super.unary(op, x);
                    if (op != dev.metaforge.spi.UnaryOp.EXP || x.dtype() != DType.FLOAT64) {
                        return y;
                    }
                    try (y) {
                        return binaryScalar(dev.metaforge.spi.BinaryOp.MUL, y, 1 + 1e-9);
                    }
                }
            }, ALL));
        }
    }

    /**
     * Declares GPU and lists a gpu:0 device, but create() on gpu:0 quietly returns a backend computing
     * on the CPU: CAPABILITY-3 must catch the silent fallback (it passed with an empty body before).
     */
    public static final class CpuPosingAsGpu implements BackendProvider {
        static final Set<Capability> WITH_GPU = EnumSet.of(Capability.FLOAT32, Capability.FLOAT64, Capability.INT64,
                Capability.CONVOLUTION, Capability.GPU);

        @Override
        public String name() {
            return "cpu-posing-as-gpu";
        }

        @Override
        public int priority() {
            return -100;
        }

        @Override
        public ProbeResult probe() {
            return ProbeResult.usable("test backend claiming a GPU");
        }

        @Override
        public Backend create(BackendConfig config) {
            return new TestBackend(name(), new Renamed(name()), WITH_GPU) {
                @Override
                public List<Device> devices() {
                    return List.of(Device.CPU, new Device("gpu", 0));
                }
            };
        }
    }
}
