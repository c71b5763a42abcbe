package dev.metaforge.backend.dl4j;

import dev.metaforge.spi.CpuGemmChoice;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Row-major float32 matrix products through oneDNN's {@code dnnl_sgemm} (bytedeco's {@code org.bytedeco:dnnl}
 * presets for JavaCPP 1.5.7, the JavaCPP nd4j-native runs on), on our arrays' own memory, where
 * {@link CpuGemmChoice}'s rule picks oneDNN over OpenBLAS.
 *
 * <p>Why: the OpenBLAS nd4j-native links (0.3.19) picks its kernels by CPU model and takes AMD's family 0x1A for
 * Haswell, AVX2 only, even where the CPU has AVX-512; oneDNN picks its kernels by instruction set. The values are
 * the same products up to float32 rounding (the sums run in another order); the conformance kit runs whole on both
 * GEMMs ({@code Dl4jConformanceTest}, {@code Dl4jOneDnnConformanceTest}).
 */
final class OneDnnGemm {
    /** What to add when oneDNN does not load. */
    static final String ARTIFACTS = "org.bytedeco:dnnl:2.5.2-1.5.7 with its natives (classifier linux-x86_64) and"
            + " org.bytedeco:opencl:3.0-1.5.7 with its natives";

    private OneDnnGemm() {
    }

    /** {@link CpuGemmChoice#choose} for this backend, with OpenBLAS as the native GEMM. */
    static CpuGemmChoice.Choice choose(Map<String, String> options, int blasThreads) {
        return CpuGemmChoice.choose(Dl4jBackend.NAME, "openblas", options, true, blasThreads, OneDnnGemm::load, ARTIFACTS);
    }

    /**
     * {@code c = op(a) @ op(b) + beta * c} of [m, k] by [k, n] into [m, n], row-major (op transposes where the flag
     * is set); the pointers' positions mark the matrices, {@code lda} and {@code ldb} are a's and b's row lengths as
     * they lie.
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, FloatPointer a, int lda, FloatPointer b,
                      int ldb, float beta, FloatPointer c) {
        int status = dnnl.dnnl_sgemm((byte) (transA ? 'T' : 'N'), (byte) (transB ? 'T' : 'N'), m, n, k, 1f, a, lda, b,
                ldb, beta, c, n);
        if (status != dnnl.dnnl_success) {
            throw new IllegalStateException("dl4j: oneDNN's sgemm failed with status " + status + " for [" + m + ", "
                    + k + "] x [" + k + ", " + n + "] (transposed: " + transA + ", " + transB + ")");
        }
    }

    private static CpuGemmChoice.OneDnn load() {
        return CpuGemmChoice.OneDnn.probe(dnnl::dnnl_get_effective_cpu_isa, () -> {
            dnnl_version_t v = dnnl.dnnl_version();
            return v.major() + "." + v.minor() + "." + v.patch();
        });
    }
}
