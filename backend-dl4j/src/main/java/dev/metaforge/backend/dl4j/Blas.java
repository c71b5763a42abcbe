package dev.metaforge.backend.dl4j;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;

import dev.metaforge.spi.DType;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Row-major GEMM and GEMV straight on our dense buffers, through the OpenBLAS that ND4J itself
 * links (its {@code CpuLevel3} calls the same {@code openblas_nolapack} functions), or, for the float32
 * products {@link dev.metaforge.spi.CpuGemmChoice}'s rule gives it, through oneDNN ({@link OneDnnGemm}).
 *
 * <p>Why not libnd4j's {@code matmul} op: it runs BLAS column-major, so a row-major output is
 * computed into a column-major temporary and transposed back, and a transposed operand that is
 * not column-contiguous is copied first; on the hypernetwork's [66, 256] @ [256, 4096] and its
 * transposed backward products that doubled the time of the GEMM itself. Here every operand is
 * passed as it lies in memory (row-major, with BLAS's transpose flag), so nothing is copied.
 *
 * <p>Only FLOAT32 and FLOAT64; arrays must be dense row-major from offset 0 (the
 * {@link Dl4jArray} invariant, or a view of one made by {@link Nd4jCalls#view}).
 */
final class Blas {
    private Blas() {
    }

    /** True for the dtypes BLAS computes. */
    static boolean supports(DType dtype) {
        return dtype == DType.FLOAT32 || dtype == DType.FLOAT64;
    }

    /**
     * {@code count} products {@code c_i = op(a_i) @ op(b_i)} of [m, k] by [k, n] into [m, n]
     * (op transposes when the flag is set, so a_i lies as [k, m] then). Matrix i of a starts
     * {@code aOffsets[i]} elements into a's buffer, likewise for b; c's matrices are consecutive.
     * Requires m, n, k > 0.
     */
    static void gemm(DType dtype, boolean transA, boolean transB, int m, int n, int k,
                     INDArray a, long[] aOffsets, INDArray b, long[] bOffsets, INDArray c, int count, long oneDnnFrom) {
        gemm(dtype, transA, transB, m, n, k, a, aOffsets, b, bOffsets, c, count, false, oneDnnFrom);
    }

    /**
     * As the {@code gemm} above, adding the products to c's values when {@code accumulate} (BLAS beta 1). FLOAT32
     * products of at least {@code oneDnnFrom} multiply-adds (m * n * k) go to oneDNN's sgemm ({@link OneDnnGemm});
     * {@link Long#MAX_VALUE} keeps every product with OpenBLAS.
     */
    static void gemm(DType dtype, boolean transA, boolean transB, int m, int n, int k,
                     INDArray a, long[] aOffsets, INDArray b, long[] bOffsets, INDArray c, int count, boolean accumulate,
                     long oneDnnFrom) {
        float beta32 = accumulate ? 1f : 0f;
        double beta64 = accumulate ? 1.0 : 0.0;
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        int ta = transA ? CblasTrans : CblasNoTrans;
        int tb = transB ? CblasTrans : CblasNoTrans;
        long cSize = (long) m * n;
        Pointer ap = a.data().addressPointer();
        Pointer bp = b.data().addressPointer();
        Pointer cp = c.data().addressPointer();
        // positions (in elements) the buffers' pointers may already carry
        long a0 = ap.position();
        long b0 = bp.position();
        long c0 = cp.position();
        if (dtype == DType.FLOAT32) {
            FloatPointer pa = new FloatPointer(ap);
            FloatPointer pb = new FloatPointer(bp);
            FloatPointer pc = new FloatPointer(cp);
            boolean oneDnn = (long) m * n * k >= oneDnnFrom;
            for (int i = 0; i < count; i++) {
                pa.position(a0 + aOffsets[i]);
                pb.position(b0 + bOffsets[i]);
                pc.position(c0 + i * cSize);
                if (oneDnn) {
                    OneDnnGemm.sgemm(transA, transB, m, n, k, pa, lda, pb, ldb, beta32, pc);
                } else {
                    openblas_nolapack.cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1f, pa, lda, pb, ldb, beta32, pc, n);
                }
            }
        } else if (dtype == DType.FLOAT64) {
            DoublePointer pa = new DoublePointer(ap);
            DoublePointer pb = new DoublePointer(bp);
            DoublePointer pc = new DoublePointer(cp);
            for (int i = 0; i < count; i++) {
                pa.position(a0 + aOffsets[i]);
                pb.position(b0 + bOffsets[i]);
                pc.position(c0 + i * cSize);
                openblas_nolapack.cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, pa, lda, pb, ldb, beta64, pc, n);
            }
        } else {
            throw new IllegalArgumentException("dl4j BLAS: no GEMM for " + dtype);
        }
    }

    /** One product {@code c = op(a) @ op(b)}, every array from offset 0. */
    static void gemm(DType dtype, boolean transA, boolean transB, int m, int n, int k, INDArray a, INDArray b, INDArray c,
                     long oneDnnFrom) {
        gemm(dtype, transA, transB, m, n, k, a, new long[1], b, new long[1], c, 1, oneDnnFrom);
    }

    /**
     * Sums over the middle axis of a row-major [outer, rows, cols] array into {@code out} [outer, cols]. Each
     * [rows, cols] matrix takes one GEMV with a ones vector, its column sums aᵀ · ones: one streaming pass (BLAS
     * adds row after row into the output, each column in row order) where a reduction along that axis walks the
     * array with a stride. With cols 1 the sums are of contiguous runs: one GEMV a · ones over [outer, rows].
     * {@code ones} holds at least {@code rows} ones of the same dtype. Requires outer, rows, cols > 0.
     */
    static void middleSums(DType dtype, INDArray a, int outer, int rows, int cols, INDArray ones, INDArray out) {
        Pointer ap = a.data().addressPointer();
        Pointer xp = ones.data().addressPointer();
        Pointer yp = out.data().addressPointer();
        long a0 = ap.position();
        long y0 = yp.position();
        int matrices = cols == 1 ? 1 : outer;
        int m = cols == 1 ? outer : rows;
        int n = cols == 1 ? rows : cols;
        int trans = cols == 1 ? CblasNoTrans : CblasTrans;
        long matrixSize = (long) rows * cols;
        if (dtype == DType.FLOAT32) {
            FloatPointer pa = new FloatPointer(ap);
            FloatPointer px = new FloatPointer(xp);
            FloatPointer py = new FloatPointer(yp);
            for (int o = 0; o < matrices; o++) {
                pa.position(a0 + o * matrixSize);
                py.position(y0 + (long) o * cols);
                openblas_nolapack.cblas_sgemv(CblasRowMajor, trans, m, n, 1f, pa, n, px, 1, 0f, py, 1);
            }
        } else if (dtype == DType.FLOAT64) {
            DoublePointer pa = new DoublePointer(ap);
            DoublePointer px = new DoublePointer(xp);
            DoublePointer py = new DoublePointer(yp);
            for (int o = 0; o < matrices; o++) {
                pa.position(a0 + o * matrixSize);
                py.position(y0 + (long) o * cols);
                openblas_nolapack.cblas_dgemv(CblasRowMajor, trans, m, n, 1.0, pa, n, px, 1, 0.0, py, 1);
            }
        } else {
            throw new IllegalArgumentException("dl4j BLAS: no GEMV for " + dtype);
        }
    }
}
