package dev.metaforge.backend.djl;

import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.dnnl.global.dnnl;

/**
 * Row-major float32 matrix products on the CPU through oneDNN's {@code dnnl_sgemm} (bytedeco's
 * {@code org.bytedeco:dnnl} presets: the natives come from Maven Central like libtorch's), on the
 * tensors' own memory.
 *
 * <p>Why: libtorch sends float32 GEMM to its bundled oneMKL, which picks its kernels by CPU vendor: on
 * AMD CPUs it runs its AVX2 code even where the CPU has AVX-512. oneDNN picks its kernels by instruction
 * set. On the 2-vCPU AMD EPYC (family 0x1A, AVX-512) this project is measured on, the five products of
 * the chunked hypernetwork's step ran 2.5 times as fast through oneDNN as through libtorch (
 * {@code bench/run.sh PairedMain --group gemm}; figures in bench/README.md).
 *
 * <p>The choice is the backend option {@value #OPTION} (or, when the option is absent, the system property
 * {@value #PROPERTY}), one of:
 * <ul>
 *   <li>{@code auto} (the default): oneDNN when the device is the CPU, oneDNN loads, it runs AVX-512 code
 *       ({@code avx512_core} or better), and its thread count equals libtorch's intra-op thread count; otherwise
 *       libtorch. oneDNN here is built on OpenMP, so its thread count is {@code OMP_NUM_THREADS} (the first
 *       entry), or the number of processors when that is unset; Java cannot change it after the process
 *       starts, so a mismatch keeps libtorch rather than run GEMMs on another number of threads than
 *       the rest of the step.</li>
 *   <li>{@code onednn}: oneDNN on the CPU whatever its instruction set and thread count; an error when it
 *       does not load or the device is a GPU.</li>
 *   <li>{@code libtorch}: libtorch's matmul, as before this class existed.</li>
 * </ul>
 * Either way the values are the same products up to float32 rounding (the sums run in another order);
 * the TCK's matmul rules hold both to the float64 reference.
 */
final class OneDnnGemm {
    /** The {@link dev.metaforge.spi.BackendConfig} option that chooses the float32 GEMM. */
    static final String OPTION = "gemm";
    /** The system property read when the option is absent. */
    static final String PROPERTY = "metaforge.djl.gemm";
    /**
     * Under {@code auto}, products with fewer multiply-adds than this stay with libtorch: below it the two are
     * within call overhead of each other, and the many tiny products of small-op workloads keep libtorch's
     * numerics. {@code onednn} takes every product it can, so the conformance kit's small cases run on oneDNN.
     */
    static final long AUTO_MIN_MULTIPLY_ADDS = 1L << 15;

    /** dnnl_cpu_isa_avx512_core: its bits are set in every AVX-512 ISA oneDNN reports. */
    private static final int AVX512_CORE = 0x27;

    /**
     * The outcome: whether oneDNN computes float32 GEMMs, from how many multiply-adds on, and a line saying what
     * and why.
     */
    record Choice(boolean oneDnn, long minMultiplyAdds, String description) {
        static Choice libtorch(String description) {
            return new Choice(false, Long.MAX_VALUE, description);
        }
    }

    private OneDnnGemm() {
    }

    /**
     * The GEMM a new backend uses: {@code options} is the backend config's, {@code torchThreads} libtorch's
     * intra-op thread count (after the config's own {@code threads} option), {@code cpu} whether the device is
     * the CPU.
     *
     * @throws IllegalArgumentException for a mode other than auto, onednn and libtorch, or onednn where it
     *         cannot run (naming the cause and what to add)
     */
    static Choice choose(Map<String, String> options, int torchThreads, boolean cpu) {
        String fromOption = options.get(OPTION);
        String requested = fromOption != null ? fromOption : System.getProperty(PROPERTY, "auto");
        String where = fromOption != null ? "option " + OPTION : "system property " + PROPERTY;
        String mode = requested.trim().toLowerCase(Locale.ROOT);
        switch (mode) {
            case "libtorch":
                return Choice.libtorch("libtorch (" + where + "=libtorch)");
            case "onednn":
                if (!cpu) {
                    throw new IllegalArgumentException("djl: " + where + "=onednn computes on the CPU only; this backend"
                            + " runs on a GPU, where libtorch computes every product. Leave " + OPTION + " unset or set it"
                            + " to auto or libtorch.");
                }
                Loaded forced = load();
                if (forced.failure != null) {
                    throw new IllegalArgumentException("djl: " + where + "=onednn, but oneDNN did not load ("
                            + forced.failure + "). Add org.bytedeco:dnnl:2.5.2-1.5.7 and its linux-x86_64 natives"
                            + " (classifier linux-x86_64, with org.bytedeco:opencl:3.0-1.5.7's) to the classpath, or set "
                            + OPTION + " to auto or libtorch.", forced.cause);
                }
                return new Choice(true, 0, forced.describe(oneDnnThreads()) + ", every float32 product, " + where + "=onednn");
            case "auto":
                return auto(torchThreads, cpu);
            default:
                throw new IllegalArgumentException("djl: " + where + " must be auto, onednn or libtorch, got '"
                        + requested + "'");
        }
    }

    private static Choice auto(int torchThreads, boolean cpu) {
        if (!cpu) {
            return Choice.libtorch("libtorch (auto: the device is a GPU)");
        }
        Loaded loaded = load();
        if (loaded.failure != null) {
            return Choice.libtorch("libtorch (auto: oneDNN did not load: " + loaded.failure + ")");
        }
        if ((loaded.isa & AVX512_CORE) != AVX512_CORE) {
            return Choice.libtorch("libtorch (auto: oneDNN has no AVX-512 code for this CPU)");
        }
        int threads = oneDnnThreads();
        if (threads != torchThreads) {
            return Choice.libtorch("libtorch (auto: oneDNN would run " + threads + " threads and libtorch runs "
                    + torchThreads + "; set OMP_NUM_THREADS=" + torchThreads + " before the JVM starts to use oneDNN)");
        }
        return new Choice(true, AUTO_MIN_MULTIPLY_ADDS, loaded.describe(threads) + ", products of 2^15 multiply-adds or more");
    }

    /**
     * {@code c = op(a) @ op(b)} of [m, k] by [k, n] into [m, n], row-major; op transposes where the flag is set,
     * so a lies as [k, m] then. The buffers are native-order views of the tensors' memory; {@code lda} and
     * {@code ldb} are the row lengths of a and b as they lie.
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, ByteBuffer a, int lda, ByteBuffer b, int ldb,
                      ByteBuffer c) {
        int status = dnnl.dnnl_sgemm((byte) (transA ? 'T' : 'N'), (byte) (transB ? 'T' : 'N'), m, n, k, 1f,
                a.asFloatBuffer(), lda, b.asFloatBuffer(), ldb, 0f, c.asFloatBuffer(), n);
        if (status != dnnl.dnnl_success) {
            throw new IllegalStateException("djl: oneDNN's sgemm failed with status " + status + " for [" + m + ", " + k
                    + "] x [" + k + ", " + n + "] (transposed: " + transA + ", " + transB + ")");
        }
    }

    /** oneDNN's OpenMP thread count: OMP_NUM_THREADS's first entry, else the processors this JVM may use. */
    static int oneDnnThreads() {
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

    /** The natives loaded (or why not), the ISA oneDNN runs and its version. */
    private record Loaded(String failure, Throwable cause, int isa, String version) {
        String describe(int threads) {
            return "oneDNN " + version + " (ISA 0x" + Integer.toHexString(isa) + ", " + threads
                    + (threads == 1 ? " thread)" : " threads)");
        }
    }

    private static Loaded load() {
        try {
            int isa = dnnl.dnnl_get_effective_cpu_isa();
            dnnl_version_t v = dnnl.dnnl_version();
            return new Loaded(null, null, isa, v.major() + "." + v.minor() + "." + v.patch());
        } catch (LinkageError | RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return new Loaded(root.getClass().getSimpleName() + ": " + root.getMessage(), e, 0, null);
        }
    }
}
