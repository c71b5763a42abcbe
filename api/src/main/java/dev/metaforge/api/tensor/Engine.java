package dev.metaforge.api.tensor;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.random.Philox;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendDiscovery;
import dev.metaforge.spi.BackendSelection;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;

/**
 * A backend plus a default dtype: where tensors are created.
 *
 * <pre>{@code
 * try (Engine engine = Engine.create()) {               // the selection rule picks the backend
 *     Tensor x = engine.tensor(new double[] {1, 2, 3, 4}, 2, 2);
 * }
 * }</pre>
 */
public final class Engine implements AutoCloseable {
    private final Backend backend;
    private final Kernels kernels;
    private final DType defaultDType;
    private final boolean ownsBackend;

    private Engine(Backend backend, DType defaultDType, boolean ownsBackend) {
        this.backend = requireNonNull(backend, "backend is null");
        this.kernels = requireNonNull(backend.kernels(), "backend.kernels() is null");
        this.defaultDType = requireNonNull(defaultDType, "defaultDType is null");
        this.ownsBackend = ownsBackend;
    }

    /** The backend chosen by the selection rule ({@code -Dmetaforge.backend}, {@code METAFORGE_BACKEND}, else priority), FLOAT32. */
    public static Engine create() {
        return create(null);
    }

    /** The named backend (null: the selection rule), FLOAT32; the engine closes the backend. */
    public static Engine create(String backendName) {
        return create(backendName, Device.CPU);
    }

    /**
     * The named backend (null: the selection rule) on {@code device} (e.g. {@code Device.parse("gpu:0")}),
     * FLOAT32; the engine closes the backend. A backend without that device fails with
     * {@code UnsupportedCapabilityException} naming it.
     */
    public static Engine create(String backendName, Device device) {
        requireNonNull(device, "device is null");
        BackendDiscovery discovery = BackendDiscovery.scan(Engine.class.getClassLoader());
        BackendSelection selection = backendName == null ? discovery.selectFromEnvironment() : discovery.select(backendName);
        return new Engine(selection.chosen().create(new BackendConfig(device, java.util.Map.of())), DType.FLOAT32, true);
    }

    /** An engine over a backend the caller keeps ownership of. */
    public static Engine of(Backend backend, DType defaultDType) {
        return new Engine(backend, defaultDType, false);
    }

    /** The same backend with another default dtype. */
    public Engine withDefaultDType(DType dtype) {
        return new Engine(backend, dtype, false);
    }

    public Backend backend() {
        return backend;
    }

    public Kernels kernels() {
        return kernels;
    }

    public DType defaultDType() {
        return defaultDType;
    }

    // ---- creation ---------------------------------------------------------------------------

    /** Wraps a native array the caller hands over; the new tensor owns it. */
    public Tensor wrap(NativeArray array) {
        requireNonNull(array, "array is null");
        return adopt(array);
    }

    /** Wraps a native array as a tensor owned by no scope: the caller must close it (training state). */
    public Tensor wrapUnscoped(NativeArray array) {
        requireNonNull(array, "array is null");
        return new Tensor(this, array, null, true);
    }

    /** A tensor of the default dtype holding {@code data} row-major in {@code dims}. */
    public Tensor tensor(double[] data, int... dims) {
        return tensor(data, Shape.of(dims), defaultDType);
    }

    public Tensor tensor(double[] data, Shape shape, DType dtype) {
        requireNonNull(data, "data is null");
        if (data.length != shape.size()) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + shape);
        }
        return adopt(kernels.fromDoubles(data, shape, dtype));
    }

    public Tensor tensor(float[] data, int... dims) {
        Shape shape = Shape.of(dims);
        if (data.length != shape.size()) {
            throw new IllegalArgumentException(data.length + " values do not fill shape " + shape);
        }
        Tensor f = adopt(kernels.fromFloats(data, shape));
        return defaultDType == DType.FLOAT32 ? f : f.cast(defaultDType);
    }

    /** An INT64 tensor of indices. */
    public Tensor indices(long[] data, int... dims) {
        Shape shape = Shape.of(dims);
        if (data.length != shape.size()) {
            throw new IllegalArgumentException(data.length + " indices do not fill shape " + shape);
        }
        return adopt(kernels.fromLongs(data, shape));
    }

    public Tensor scalar(double value) {
        return full(Shape.scalar(), value, defaultDType);
    }

    public Tensor zeros(int... dims) {
        return full(Shape.of(dims), 0.0, defaultDType);
    }

    public Tensor zeros(Shape shape, DType dtype) {
        return adopt(kernels.zeros(shape, dtype));
    }

    public Tensor ones(int... dims) {
        return full(Shape.of(dims), 1.0, defaultDType);
    }

    public Tensor full(Shape shape, double value, DType dtype) {
        return adopt(kernels.full(shape, value, dtype));
    }

    /**
     * Uniform samples in [low, high), drawn in Java with {@link Philox} so the same seed gives the
     * same values on every backend (initial weights, data). For large draws inside a training
     * step where cross-backend equality does not matter (dropout masks), {@link #nativeUniform}
     * uses the backend's generator without a copy from the host.
     */
    public Tensor uniform(Shape shape, double low, double high, long seed) {
        if (!kernels.computesValues()) {
            return nativeUniform(shape, low, high, seed);   // a shape-only pass: allocate nothing on the host
        }
        double[] u = Philox.uniform(seed, shape.sizeAsInt());
        double width = high - low;
        for (int i = 0; i < u.length; i++) {
            double v = low + width * u[i];
            // Stay below high after rounding, in the engine's dtype.
            if (v >= high || (defaultDType == DType.FLOAT32 && (float) v >= (float) high)) {
                v = defaultDType == DType.FLOAT32 ? Math.nextDown((float) high) : Math.nextDown(high);
            }
            u[i] = v;
        }
        return adopt(kernels.fromDoubles(u, shape, defaultDType));
    }

    /** Normal samples drawn in Java with {@link Philox}: the same on every backend for a seed. */
    public Tensor normal(Shape shape, double mean, double std, long seed) {
        if (!kernels.computesValues()) {
            return nativeNormal(shape, mean, std, seed);
        }
        double[] z = Philox.normal(seed, shape.sizeAsInt());
        for (int i = 0; i < z.length; i++) {
            z[i] = mean + std * z[i];
        }
        return adopt(kernels.fromDoubles(z, shape, defaultDType));
    }

    /** Uniform samples from the backend's own generator: reproducible on one backend only. */
    public Tensor nativeUniform(Shape shape, double low, double high, long seed) {
        return adopt(kernels.randomUniform(shape, defaultDType, low, high, seed));
    }

    /** Normal samples from the backend's own generator: reproducible on one backend only. */
    public Tensor nativeNormal(Shape shape, double mean, double std, long seed) {
        return adopt(kernels.randomNormal(shape, defaultDType, mean, std, seed));
    }

    /** {@code [0, 1, ..., n-1]} as INT64 indices. */
    public Tensor arange(int n) {
        return adopt(kernels.arange(n, DType.INT64));
    }

    private Tensor adopt(NativeArray array) {
        ThreadContext ctx = ThreadContext.get();
        Tensor t = new Tensor(this, array, null, true);
        Scope.adopt(ctx, t);
        return t;
    }

    /** Closes the backend if this engine created it. */
    @Override
    public void close() {
        if (ownsBackend) {
            backend.close();
        }
    }

    @Override
    public String toString() {
        return "Engine[" + backend.name() + ", " + defaultDType + "]";
    }
}
