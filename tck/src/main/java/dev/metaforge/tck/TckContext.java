package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.BackendProvider;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import dev.metaforge.spi.TopK;
import dev.metaforge.spi.UnsupportedCapabilityException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * What a rule works with: the backend under test, the float64 reference backend, and the checks
 * that compare them. Injected by {@link TckExtension} into any rule method or constructor that
 * declares a {@code TckContext} parameter. One backend instance serves the whole run.
 *
 * <pre>{@code
 * tck.agree("matmul [2,3]@[3,4]", DType.FLOAT32, (k, dt, in) -> k.matmul(in[0], in[1]),
 *         Operand.random(Shape.of(2, 3), 1), Operand.random(Shape.of(3, 4), 2));
 * }</pre>
 */
public final class TckContext {
    private final BackendProvider provider;
    private final BackendConfig config;
    private final Backend backend;
    private final Backend reference;
    private final Function<String, Optional<String>> parameters;

    TckContext(BackendProvider provider, BackendConfig config, Backend backend, Backend reference,
               Function<String, Optional<String>> parameters) {
        this.provider = requireNonNull(provider, "provider is null");
        this.config = requireNonNull(config, "config is null");
        this.backend = requireNonNull(backend, "backend is null");
        this.reference = requireNonNull(reference, "reference is null");
        this.parameters = requireNonNull(parameters, "parameters is null");
    }

    /**
     * A JUnit configuration parameter of the run: a suite's {@code @ConfigurationParameter},
     * {@code metaforge tck --param KEY=VALUE}, {@code junit-platform.properties}, or a {@code -D}
     * system property (JUnit falls back to those). Use it for a rule's tunables, e.g. step counts.
     */
    public Optional<String> parameter(String key) {
        return parameters.apply(requireNonNull(key, "key is null"));
    }

    /** An integer parameter, or {@code defaultValue} when absent; a malformed value is an error naming the key. */
    public int intParameter(String key, int defaultValue) {
        Optional<String> value = parameter(key);
        if (value.isEmpty()) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(value.get().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("configuration parameter " + key + " must be an integer, got '" + value.get() + "'", e);
        }
    }

    /** The backend under test. */
    public Backend backend() {
        return backend;
    }

    /** The kernels of the backend under test. */
    public Kernels kernels() {
        return backend.kernels();
    }

    /** The provider that created {@link #backend()}. */
    public BackendProvider provider() {
        return provider;
    }

    /** The configuration {@link #backend()} was created with. */
    public BackendConfig config() {
        return config;
    }

    /** The pure-Java float64 oracle. */
    public Backend reference() {
        return reference;
    }

    public Kernels referenceKernels() {
        return reference.kernels();
    }

    /** The backend's primitives with the SPI's default (composed) fused kernels. */
    public Kernels composedKernels() {
        return new ComposedKernels(kernels());
    }

    public boolean supports(Capability capability) {
        return backend.supports(capability);
    }

    /** FLOAT32, plus FLOAT64 when the backend declares it. */
    public List<DType> floatingDTypes() {
        return supports(Capability.FLOAT64) ? List.of(DType.FLOAT32, DType.FLOAT64) : List.of(DType.FLOAT32);
    }

    // ---- comparing with the reference -------------------------------------------------------

    /**
     * Runs {@code call} on the backend in {@code dtype} and on the reference in FLOAT64 (on the
     * same, dtype-rounded inputs) and asserts equal output count, shapes, dtypes and values within
     * {@link Tolerance#of(DType)}.
     */
    public void agree(String what, DType dtype, KernelCall call, Operand... operands) {
        agree(what, dtype, Tolerance.of(dtype), call, operands);
    }

    /** As {@link #agree(String, DType, KernelCall, Operand...)} with an explicit tolerance. */
    public void agree(String what, DType dtype, Tolerance tolerance, KernelCall call, Operand... operands) {
        if (isOracle() && dtype == DType.FLOAT64) {
            // The float64 oracle compared with itself in FLOAT64 would pass whatever it computes.
            throw new TestAbortedException(SELF_COMPARISON);
        }
        compare(what, referenceKernels(), DType.FLOAT64, kernels(), dtype, tolerance, call, operands);
    }

    /** Why FLOAT64 comparisons are skipped when the backend under test is the oracle itself. */
    public static final String SELF_COMPARISON = "the backend under test is the float64 reference oracle itself: a FLOAT64"
            + " result compared with the oracle's own FLOAT64 result proves nothing, so the case is skipped (the oracle is"
            + " checked against closed-form values in backend-reference's tests; FLOAT32 cases still compare its float32"
            + " rounding with float64)";

    /** True when the backend under test is the float64 reference itself (the kit's own self-test). */
    public boolean isOracle() {
        return backend.getClass() == reference.getClass();
    }

    /**
     * Runs {@code call} on the backend's own kernels and on the SPI's compositions over the same
     * backend's primitives ({@link #composedKernels()}), both in {@code dtype}, and asserts they agree
     * within {@code tolerance}: a kernel a backend overrides (a fused one, or one added to the SPI as a
     * default method) must compute what its default computes.
     */
    public void agreeWithComposition(String what, DType dtype, Tolerance tolerance, KernelCall call, Operand... operands) {
        compare(what + ": " + backend.name() + "'s kernel vs the SPI's composed default on its primitives",
                composedKernels(), dtype, kernels(), dtype, tolerance, call, operands);
    }

    /**
     * The general comparison: {@code call} on {@code expectedKernels} in {@code expectedDType}
     * against {@code call} on {@code actualKernels} in {@code actualDType}. Both get the inputs
     * rounded to {@code actualDType}. Output dtypes of the actual side are checked: INT64 where
     * the expected output is INT64, {@code actualDType} otherwise.
     */
    public void compare(String what, Kernels expectedKernels, DType expectedDType, Kernels actualKernels,
                        DType actualDType, Tolerance tolerance, KernelCall call, Operand... operands) {
        List<NativeArray> owned = new ArrayList<>();
        Throwable failure = null;
        try {
            NativeArray[] expectedIn = new NativeArray[operands.length];
            NativeArray[] actualIn = new NativeArray[operands.length];
            for (int i = 0; i < operands.length; i++) {
                Operand op = operands[i];
                DType actualType = op.dtypeIn(actualDType);
                DType expectedType = actualType == DType.INT64 ? DType.INT64 : expectedDType;
                expectedIn[i] = create(expectedKernels, op.roundedTo(actualType), op.shape(), expectedType);
                owned.add(expectedIn[i]);
                actualIn[i] = create(actualKernels, op.values(), op.shape(), actualType);
                owned.add(actualIn[i]);
            }
            List<NativeArray> expected = outputs(expectedKernels.backendName(), call.call(expectedKernels, expectedDType, expectedIn));
            owned.addAll(expected);
            List<NativeArray> actual = outputs(actualKernels.backendName(), call.call(actualKernels, actualDType, actualIn));
            owned.addAll(actual);
            if (expected.size() != actual.size()) {
                throw new AssertionFailedError(what + ": expected " + expected.size() + " outputs but got " + actual.size());
            }
            for (int j = 0; j < expected.size(); j++) {
                String label = expected.size() == 1 ? what : what + " (output " + j + ")";
                assertSame(label, expectedKernels, expected.get(j), actualKernels, actual.get(j), actualDType, tolerance);
            }
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            closeAll(owned, failure);
        }
    }

    private static void assertSame(String what, Kernels expectedKernels, NativeArray expected, Kernels actualKernels,
                                   NativeArray actual, DType actualDType, Tolerance tolerance) {
        if (!expected.shape().equals(actual.shape())) {
            throw new AssertionFailedError(what + ": shape expected " + expected.shape() + " but was " + actual.shape(),
                    expected.shape().toString(), actual.shape().toString());
        }
        DType wantedType = expected.dtype() == DType.INT64 ? DType.INT64 : actualDType;
        if (actual.dtype() != wantedType) {
            throw new AssertionFailedError(what + ": dtype expected " + wantedType + " but was " + actual.dtype(),
                    wantedType, actual.dtype());
        }
        if (wantedType == DType.INT64) {
            Compare.assertExact(expected.shape(), expectedKernels.toLongs(expected), actual.shape(),
                    actualKernels.toLongs(actual), what);
        } else {
            Compare.assertClose(expected.shape(), expectedKernels.toDoubles(expected), actual.shape(),
                    actualKernels.toDoubles(actual), tolerance, what);
        }
    }

    /** Creates {@code values} in {@code dtype} on {@code kernels} (INT64 through fromLongs). */
    public static NativeArray create(Kernels kernels, double[] values, Shape shape, DType dtype) {
        if (dtype == DType.INT64) {
            long[] longs = new long[values.length];
            for (int i = 0; i < values.length; i++) {
                longs[i] = (long) values[i];
            }
            return kernels.fromLongs(longs, shape);
        }
        return kernels.fromDoubles(values, shape, dtype);
    }

    /** Creates {@code operand} on the backend under test in {@code dtype} (or the operand's own). */
    public NativeArray array(Operand operand, DType dtype) {
        return create(kernels(), operand.values(), operand.shape(), operand.dtypeIn(dtype));
    }

    /** The elements of a backend array as doubles. */
    public double[] values(NativeArray x) {
        return kernels().toDoubles(x);
    }

    private static List<NativeArray> outputs(String backend, Object result) {
        if (result == null) {
            throw new AssertionFailedError("backend '" + backend + "' returned null");
        }
        if (result instanceof NativeArray a) {
            return List.of(a);
        }
        if (result instanceof TopK t) {
            return List.of(t.values(), t.indices());
        }
        if (result instanceof AdamResult r) {
            return List.of(r.param(), r.m(), r.v());
        }
        if (result instanceof Collection<?> c) {
            List<NativeArray> out = new ArrayList<>();
            for (Object o : c) {
                out.add((NativeArray) requireNonNull(o, "backend '" + backend + "' returned a null array"));
            }
            return out;
        }
        throw new IllegalArgumentException("a KernelCall must return arrays, not " + result.getClass().getName());
    }

    // ---- expected failures ------------------------------------------------------------------

    /**
     * Asserts that {@code op} throws {@code type} (anything else, or a normal return, fails the
     * rule; a returned array is closed).
     */
    public <T extends Throwable> T assertThrows(Class<T> type, String what, Supplier<?> op) {
        Object result;
        try {
            result = op.get();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            throw new AssertionFailedError(what + ": expected " + type.getSimpleName() + " but got "
                    + t.getClass().getName() + ": " + t.getMessage(), t);
        }
        closeResult(result);
        throw new AssertionFailedError(what + ": expected " + type.getSimpleName() + " but the operation returned normally");
    }

    /**
     * Asserts that {@code op} throws {@link UnsupportedCapabilityException} for {@code capability}
     * naming this backend.
     */
    public UnsupportedCapabilityException assertUnsupported(Capability capability, String what, Supplier<?> op) {
        UnsupportedCapabilityException e = assertThrows(UnsupportedCapabilityException.class,
                what + " on a backend that does not declare " + capability, op);
        if (e.capability() != capability) {
            throw new AssertionFailedError(what + ": UnsupportedCapabilityException names capability " + e.capability()
                    + " but " + capability + " is the one missing", e);
        }
        if (!backend.name().equals(e.backend())) {
            throw new AssertionFailedError(what + ": UnsupportedCapabilityException names backend '" + e.backend()
                    + "' instead of '" + backend.name() + "'", e);
        }
        return e;
    }

    /**
     * Representative operations that need {@code capability}, by name; each must throw
     * {@link UnsupportedCapabilityException} when the capability is not declared. Empty when the
     * kit has no way to exercise the capability through the SPI (GPU, BF16, fused flags).
     */
    public Map<String, Supplier<?>> probes(Capability capability) {
        Kernels k = kernels();
        Map<String, Supplier<?>> probes = new LinkedHashMap<>();
        switch (capability) {
            case FLOAT64 -> {
                probes.put("fromDoubles(FLOAT64)", () -> k.fromDoubles(new double[] {1, 2}, Shape.of(2), DType.FLOAT64));
                probes.put("full(FLOAT64)", () -> k.full(Shape.of(2), 1, DType.FLOAT64));
                probes.put("zeros(FLOAT64)", () -> k.zeros(Shape.of(2), DType.FLOAT64));
                probes.put("randomUniform(FLOAT64)", () -> k.randomUniform(Shape.of(2), DType.FLOAT64, 0, 1, 1));
                probes.put("randomNormal(FLOAT64)", () -> k.randomNormal(Shape.of(2), DType.FLOAT64, 0, 1, 1));
                probes.put("cast(FLOAT32 -> FLOAT64)", () -> withFloat32(x -> k.cast(x, DType.FLOAT64)));
                probes.put("arange(FLOAT64)", () -> k.arange(3, DType.FLOAT64));
            }
            case INT64 -> {
                probes.put("fromLongs", () -> k.fromLongs(new long[] {0, 1}, Shape.of(2)));
                probes.put("fromDoubles(INT64)", () -> k.fromDoubles(new double[] {0, 1}, Shape.of(2), DType.INT64));
                probes.put("full(INT64)", () -> k.full(Shape.of(2), 1, DType.INT64));
                probes.put("cast(FLOAT32 -> INT64)", () -> withFloat32(x -> k.cast(x, DType.INT64)));
                probes.put("arange(INT64)", () -> k.arange(3, DType.INT64));
                probes.put("topK", () -> withFloat32(x -> k.topK(x, 1, 0)));
                probes.put("argmax", () -> withFloat32(x -> k.argmax(x, 0, false)));
                probes.put("argsort", () -> withFloat32(x -> k.argsort(x, 0, false)));
            }
            case FLOAT32 -> {
                probes.put("fromFloats", () -> k.fromFloats(new float[] {1, 2}, Shape.of(2)));
                probes.put("fromDoubles(FLOAT32)", () -> k.fromDoubles(new double[] {1, 2}, Shape.of(2), DType.FLOAT32));
            }
            case CONVOLUTION -> {
                DType dt = supports(Capability.FLOAT32) ? DType.FLOAT32 : DType.FLOAT64;
                Conv2dOptions dilated = new Conv2dOptions(new int[] {1, 1}, new int[] {0, 0}, new int[] {2, 2}, 1);
                probes.put("conv2d", () -> {
                    try (NativeArray input = k.full(Shape.of(1, 1, 3, 3), 1, dt);
                         NativeArray weight = k.full(Shape.of(1, 1, 2, 2), 1, dt)) {
                        return k.conv2d(input, weight, new int[] {1, 1}, new int[] {0, 0});
                    }
                });
                probes.put("conv2d with dilation", () -> {
                    try (NativeArray input = k.full(Shape.of(1, 1, 3, 3), 1, dt);
                         NativeArray weight = k.full(Shape.of(1, 1, 2, 2), 1, dt)) {
                        return k.conv2d(input, weight, dilated);
                    }
                });
                probes.put("conv2dBackwardInput", () -> {
                    try (NativeArray grad = k.full(Shape.of(1, 1, 1, 1), 1, dt);
                         NativeArray weight = k.full(Shape.of(1, 1, 2, 2), 1, dt)) {
                        return k.conv2dBackwardInput(grad, weight, Shape.of(1, 1, 3, 3), dilated);
                    }
                });
                probes.put("conv2dBackwardWeight", () -> {
                    try (NativeArray input = k.full(Shape.of(1, 1, 3, 3), 1, dt);
                         NativeArray grad = k.full(Shape.of(1, 1, 1, 1), 1, dt)) {
                        return k.conv2dBackwardWeight(input, grad, Shape.of(1, 1, 2, 2), dilated);
                    }
                });
            }
            default -> {
                // GPU, BF16, FLOAT16 and the FUSED_* flags have nothing to call through the SPI.
            }
        }
        return probes;
    }

    private Object withFloat32(java.util.function.Function<NativeArray, Object> op) {
        try (NativeArray x = kernels().fromDoubles(new double[] {1, 2}, Shape.of(2), DType.FLOAT32)) {
            return op.apply(x);
        }
    }

    /** Closes a kernel result of any of the shapes a {@link KernelCall} may return. */
    public static void closeResult(Object result) {
        if (result instanceof AutoCloseable c && (result instanceof NativeArray || result instanceof TopK)) {
            closeQuietly(c);
        } else if (result instanceof AdamResult r) {
            closeAll(List.of(r.param(), r.m(), r.v()), null);
        } else if (result instanceof Collection<?> c) {
            for (Object o : c) {
                closeResult(o);
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // a failing close is reported by the MEMORY rules, not here
        }
    }

    /** Closes every array; a close failure is thrown only when nothing failed before. */
    static void closeAll(List<NativeArray> arrays, Throwable earlier) {
        RuntimeException first = null;
        for (NativeArray a : arrays) {
            try {
                a.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null && earlier == null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "TckContext[" + backend.name() + " on " + backend.device() + "]";
    }
}
