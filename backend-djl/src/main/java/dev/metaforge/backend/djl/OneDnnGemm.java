package dev.metaforge.backend.djl;

import dev.metaforge.spi.CpuGemmChoice;
import java.nio.ByteBuffer;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.dnnl.global.dnnl;

/**
 * Row-major float32 matrix products on the CPU through oneDNN's {@code dnnl_sgemm} (bytedeco's
 * {@code org.bytedeco:dnnl} presets: the natives come from Maven Central like libtorch's), on the
 * tensors' own memory, where {@link CpuGemmChoice}'s rule picks oneDNN over libtorch.
 *
 * <p>Why: libtorch sends float32 GEMM to its bundled oneMKL, which picks its kernels by CPU vendor: on
 * AMD CPUs it runs its AVX2 code even where the CPU has AVX-512. oneDNN picks its kernels by instruction
 * set. On the 2-vCPU AMD EPYC (family 0x1A, AVX-512) this project is measured on, the five products of
 * the chunked hypernetwork's step ran in 0.45 of libtorch's time through oneDNN
 * ({@code bench/run.sh PairedMain --group gemm}, 2026-12-07 02:15 UTC; figures in bench/README.md). The values are the same products
 * up to float32 rounding (the sums run in another order); the conformance kit runs whole on both GEMMs.
 */
final class OneDnnGemm {
    /** What to add when oneDNN does not load. */
    static final String ARTIFACTS = "org.bytedeco:dnnl:2.5.2-1.5.7 with its natives (classifier linux-x86_64) and"
            + " org.bytedeco:opencl:3.0-1.5.7 with its natives";

    private OneDnnGemm() {
    }

    /** {@link CpuGemmChoice#choose} for this backend, with libtorch as the native GEMM. */
    static CpuGemmChoice.Choice choose(Map<String, String> options, int torchThreads, boolean cpu) {
        return CpuGemmChoice.choose(DjlBackend.NAME, "libtorch", options, cpu, torchThreads, OneDnnGemm::load, ARTIFACTS);
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

    private static CpuGemmChoice.OneDnn load() {
        return CpuGemmChoice.OneDnn.probe(dnnl::dnnl_get_effective_cpu_isa, () -> {
            dnnl_version_t v = dnnl.dnnl_version();
            return v.major() + "." + v.minor() + "." + v.patch();
        });
    }
}
