package dev.metaforge.spi;

import static java.util.Objects.requireNonNull;

import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The rule by which a CPU backend chooses who computes its float32 matrix products: oneDNN's {@code sgemm}, or
 * the library the backend otherwise runs on (its "native" GEMM: libtorch's, OpenBLAS). The backends load oneDNN
 * and call it themselves; this class holds only the rule, so that every backend applies the same one.
 *
 * <p>Why a choice at all: the native libraries pick their GEMM kernels by CPU vendor or model (libtorch's oneMKL
 * runs its AVX2 code on AMD CPUs; OpenBLAS 0.3.19, 0.3.21 and 0.3.31, the builds tried, take AMD family 0x1A for
 * Haswell), so on an AMD CPU
 * with AVX-512 they leave half its vector width unused; oneDNN picks its kernels by instruction set.
 *
 * <p>The choice is the backend option {@value #OPTION} (or, when the option is absent, the system property
 * {@code metaforge.<backend>.gemm}), one of:
 * <ul>
 *   <li>{@code auto} (the default): oneDNN when the device is the CPU, oneDNN loads, it runs AVX-512 code
 *       ({@code avx512_core} or better) and its thread count equals the native library's; then for products of
 *       at least {@value #AUTO_MIN_MULTIPLY_ADDS} multiply-adds. oneDNN's natives here are built on OpenMP, so
 *       its thread count is {@code OMP_NUM_THREADS} (the first entry), else the processor count; Java cannot
 *       change it once the process runs, so a mismatch keeps the native GEMM rather than run products on
 *       another number of threads than the rest of the step.</li>
 *   <li>{@code onednn}: oneDNN for every float32 product it can take, whatever the instruction set and threads;
 *       an error when it does not load or the device is a GPU.</li>
 *   <li>the native library's name ({@code libtorch}, {@code openblas}): the native GEMM only.</li>
 * </ul>
 */
public final class CpuGemmChoice {
    /** The {@link BackendConfig} option that chooses the float32 GEMM. */
    public static final String OPTION = "gemm";
    /**
     * Under {@code auto}, products with fewer multiply-adds stay native: below it the two are within call
     * overhead of each other, and the many tiny products of small-op workloads keep the native numerics.
     */
    public static final long AUTO_MIN_MULTIPLY_ADDS = 1L << 15;

    /** oneDNN's {@code dnnl_cpu_isa_avx512_core}: its bits are set in every AVX-512 ISA oneDNN reports. */
    private static final int AVX512_CORE = 0x27;

    private CpuGemmChoice() {
    }

    /**
     * The outcome.
     *
     * @param oneDnn          whether oneDNN computes float32 products
     * @param minMultiplyAdds the smallest product (m * n * k) oneDNN takes; {@link Long#MAX_VALUE} when it takes none
     * @param description     what computes them and why, e.g. "oneDNN 2.5.2 (ISA 0xe7, 1 thread), products of 2^15
     *                        multiply-adds or more" or "libtorch (auto: oneDNN would run 2 threads and libtorch runs 1;
     *                        set OMP_NUM_THREADS=1 before the JVM starts to use oneDNN)"
     */
    public record Choice(boolean oneDnn, long minMultiplyAdds, String description) {
        public Choice {
            requireNonNull(description, "description is null");
            if (!oneDnn && minMultiplyAdds != Long.MAX_VALUE) {
                throw new IllegalArgumentException("a choice without oneDNN takes no product: minMultiplyAdds must be"
                        + " Long.MAX_VALUE, got " + minMultiplyAdds);
            }
        }

        static Choice nativeGemm(String description) {
            return new Choice(false, Long.MAX_VALUE, description);
        }
    }

    /**
     * What loading oneDNN gave: its effective ISA ({@code dnnl_get_effective_cpu_isa}) and version, or why it did
     * not load.
     *
     * @param failure null when it loaded, else the root cause in one line
     * @param cause   the throwable, or null
     * @param isa     the ISA bits (0 when it did not load)
     * @param version "2.5.2" (null when it did not load)
     */
    public record OneDnn(String failure, Throwable cause, int isa, String version) {
        /** oneDNN loaded. */
        public static OneDnn loaded(int isa, String version) {
            return new OneDnn(null, null, isa, requireNonNull(version, "version is null"));
        }

        /**
         * Loads oneDNN by asking it for its effective ISA and version (a backend passes its presets' calls): what
         * they return, or, when loading throws, why.
         */
        public static OneDnn probe(java.util.function.IntSupplier isa, Supplier<String> version) {
            try {
                return loaded(isa.getAsInt(), version.get());
            } catch (LinkageError | RuntimeException e) {
                return failed(e);
            }
        }

        /** oneDNN did not load: {@code t}'s root cause names why. */
        public static OneDnn failed(Throwable t) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return new OneDnn(root.getClass().getSimpleName() + ": " + root.getMessage(), t, 0, null);
        }

        String describe(int threads) {
            return "oneDNN " + version + " (ISA 0x" + Integer.toHexString(isa) + ", " + threads
                    + (threads == 1 ? " thread)" : " threads)");
        }
    }

    /**
     * The choice for a new backend.
     *
     * @param backend       the backend's name ("djl"), for messages and the system property
     *                      {@code metaforge.<backend>.gemm}
     * @param nativeName    the native GEMM's name, also the mode that selects it ("libtorch", "openblas")
     * @param options       the backend config's options
     * @param cpu           whether the device is the CPU
     * @param nativeThreads the native library's thread count for products
     * @param oneDnn        loads oneDNN (called at most once, and only when the choice needs it)
     * @param artifacts     what to add to the classpath when oneDNN does not load, for the error
     * @throws IllegalArgumentException for an unknown mode, or onednn where it cannot run (naming the cause and
     *         what to do)
     */
    public static Choice choose(String backend, String nativeName, Map<String, String> options, boolean cpu,
                                int nativeThreads, Supplier<OneDnn> oneDnn, String artifacts) {
        String property = "metaforge." + backend + ".gemm";
        String fromOption = options.get(OPTION);
        String requested = fromOption != null ? fromOption : System.getProperty(property, "auto");
        String where = fromOption != null ? "option " + OPTION : "system property " + property;
        String mode = requested.trim().toLowerCase(Locale.ROOT);
        if (mode.equals(nativeName)) {
            return Choice.nativeGemm(nativeName + " (" + where + "=" + nativeName + ")");
        }
        switch (mode) {
            case "onednn" -> {
                if (!cpu) {
                    throw new IllegalArgumentException(backend + ": " + where + "=onednn computes on the CPU only; this"
                            + " backend runs on a GPU, where " + nativeName + " computes every product. Leave " + OPTION
                            + " unset or set it to auto or " + nativeName + ".");
                }
                OneDnn loaded = oneDnn.get();
                if (loaded.failure() != null) {
                    throw new IllegalArgumentException(backend + ": " + where + "=onednn, but oneDNN did not load ("
                            + loaded.failure() + "). Add " + artifacts + " to the classpath, or set " + OPTION
                            + " to auto or " + nativeName + ".", loaded.cause());
                }
                return new Choice(true, 0, loaded.describe(openMpThreads()) + ", every float32 product, " + where
                        + "=onednn");
            }
            case "auto" -> {
                return auto(nativeName, cpu, nativeThreads, oneDnn);
            }
            default -> throw new IllegalArgumentException(backend + ": " + where + " must be auto, onednn or "
                    + nativeName + ", got '" + requested + "'");
        }
    }

    private static Choice auto(String nativeName, boolean cpu, int nativeThreads, Supplier<OneDnn> oneDnn) {
        if (!cpu) {
            return Choice.nativeGemm(nativeName + " (auto: the device is a GPU)");
        }
        OneDnn loaded = oneDnn.get();
        if (loaded.failure() != null) {
            return Choice.nativeGemm(nativeName + " (auto: oneDNN did not load: " + loaded.failure() + ")");
        }
        if ((loaded.isa() & AVX512_CORE) != AVX512_CORE) {
            return Choice.nativeGemm(nativeName + " (auto: oneDNN has no AVX-512 code for this CPU)");
        }
        int threads = openMpThreads();
        if (threads != nativeThreads) {
            return Choice.nativeGemm(nativeName + " (auto: oneDNN would run " + threads + (threads == 1 ? " thread" : " threads")
                    + " and " + nativeName + " runs " + nativeThreads + "; set OMP_NUM_THREADS=" + nativeThreads
                    + " before the JVM starts to use oneDNN)");
        }
        return new Choice(true, AUTO_MIN_MULTIPLY_ADDS, loaded.describe(threads) + ", products of 2^15 multiply-adds or more");
    }

    /** The thread count of an OpenMP runtime started now: OMP_NUM_THREADS's first entry, else the processors. */
    public static int openMpThreads() {
        String env = System.getenv("OMP_NUM_THREADS");
        if (env != null) {
            try {
                int n = Integer.parseInt(env.split(",")[0].trim());
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // libgomp ignores a malformed value too
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
