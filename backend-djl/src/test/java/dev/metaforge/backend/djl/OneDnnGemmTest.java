package dev.metaforge.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.CpuGemmChoice;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The float32 GEMM through oneDNN ({@link OneDnnGemm}), on a backend created with {@code gemm=onednn}: every
 * product it takes equals plain float64 loops over the same float32 inputs (to float32 rounding of k-term
 * sums), the products it must not take go to libtorch (counted by {@link DjlKernels#oneDnnProducts}), and
 * {@link CpuGemmChoice}'s rule gives what its javadoc says with this backend's inputs. The whole conformance kit
 * also runs on such a backend ({@link DjlOneDnnConformanceTest}).
 */
class OneDnnGemmTest extends DjlTestSupport {
    private static final DjlBackend ONEDNN = (DjlBackend) new DjlBackendProvider()
            .create(new BackendConfig(Device.CPU, Map.of("gemm", "onednn")));

    private final Kernels one = ONEDNN.kernels();
    private final DjlKernels counted = (DjlKernels) ONEDNN.kernels();

    /** Float32 k-term sums of products of numbers in [-2, 2]: 1e-6 per term relative to max(1, |sum|). */
    private static double tolerance(int kk) {
        return 1e-6 * kk;
    }

    private NativeArray f32on(double[] data, int... dims) {
        return one.fromDoubles(data, Shape.of(dims), DType.FLOAT32);
    }

    /** {@code v} of a [rows, cols] matrix transposed into [cols, rows]. */
    private static double[] transposed(double[] v, int rows, int cols) {
        double[] out = new double[v.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[j * rows + i] = v[i * cols + j];
            }
        }
        return out;
    }

    private void nearOn(NativeArray actual, int[] dims, double tol, double[] expected) {
        assertEquals(Shape.of(dims), actual.shape(), "shape");
        assertEquals(DType.FLOAT32, actual.dtype(), "dtype");
        double[] got = one.toDoubles(actual);
        assertEquals(expected.length, got.length, "element count");
        for (int i = 0; i < got.length; i++) {
            assertEquals(expected[i], got[i], tol * Math.max(1, Math.abs(expected[i])), "element " + i);
        }
    }

    @Test
    void theBackendSaysOneDnnComputesItsProducts() {
        assertTrue(ONEDNN.gemm().startsWith("oneDNN "), ONEDNN.gemm());
        assertTrue(ONEDNN.toString().contains("float32 GEMM: oneDNN"), ONEDNN.toString());
    }

    @Test
    void everyTransposeFlagCombinationMatchesFloat64Loops() {
        int m = 40;
        int kk = 30;
        int n = 50;
        double[] a = asFloats(random(11, m * kk));
        double[] b = asFloats(random(12, kk * n));
        double[] expected = LinearAlgebraTest.mm(a, b, m, kk, n);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                // the operands lie transposed in memory where the flag is set
                NativeArray x = ta ? f32on(transposed(a, m, kk), kk, m) : f32on(a, m, kk);
                NativeArray y = tb ? f32on(transposed(b, kk, n), n, kk) : f32on(b, kk, n);
                long before = counted.oneDnnProducts();
                nearOn(one.matmul(x, y, ta, tb), new int[] {m, n}, tolerance(kk), expected);
                assertEquals(before + 1, counted.oneDnnProducts(), "oneDNN computed the product, flags " + ta + ", " + tb);
            }
        }
    }

    @Test
    void aStackOfMatricesTimesAMatrixIsOneProductOverTheFoldedRows() {
        // [3, 20, 30] @ [30, 60]: a linear layer over a batch of sequences
        double[] a = asFloats(random(21, 3 * 20 * 30));
        double[] b = asFloats(random(22, 30 * 60));
        double[] expected = LinearAlgebraTest.mm(a, b, 60, 30, 60);
        long before = counted.oneDnnProducts();
        nearOn(one.matmul(f32on(a, 3, 20, 30), f32on(b, 30, 60)), new int[] {3, 20, 60}, tolerance(30), expected);
        assertEquals(before + 1, counted.oneDnnProducts());
    }

    @Test
    void linearAddsTheBiasToOneDnnsProduct() {
        double[] x = asFloats(random(31, 64 * 40));
        double[] w = asFloats(random(32, 40 * 30));
        double[] bias = asFloats(random(33, 30));
        double[] expected = LinearAlgebraTest.mm(x, w, 64, 40, 30);
        for (int i = 0; i < expected.length; i++) {
            expected[i] += bias[i % 30];
        }
        long before = counted.oneDnnProducts();
        nearOn(one.linear(f32on(x, 64, 40), f32on(w, 40, 30), f32on(bias, 30)), new int[] {64, 30}, tolerance(40), expected);
        assertEquals(before + 1, counted.oneDnnProducts());
    }

    @Test
    void smallProductsGoToOneDnnWhenItIsForced() {
        double[] a = asFloats(random(41, 4 * 5));
        double[] b = asFloats(random(42, 5 * 6));
        long before = counted.oneDnnProducts();
        nearOn(one.matmul(f32on(a, 4, 5), f32on(b, 5, 6)), new int[] {4, 6}, tolerance(5), LinearAlgebraTest.mm(a, b, 4, 5, 6));
        assertEquals(before + 1, counted.oneDnnProducts());
    }

    @Test
    void float64BatchedAndStridedProductsStayWithLibtorch() {
        long before = counted.oneDnnProducts();
        // float64
        double[] c = random(43, 40 * 30);
        double[] d = random(44, 30 * 50);
        NativeArray p = one.matmul(one.fromDoubles(c, Shape.of(40, 30), DType.FLOAT64),
                one.fromDoubles(d, Shape.of(30, 50), DType.FLOAT64));
        double[] got = one.toDoubles(p);
        double[] want = LinearAlgebraTest.mm(c, d, 40, 30, 50);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-12 * Math.max(1, Math.abs(want[i])), "float64 element " + i);
        }
        // batched on both sides: [2, 40, 30] @ [2, 30, 50]
        double[] e = asFloats(random(45, 2 * 40 * 30));
        double[] f = asFloats(random(46, 2 * 30 * 50));
        double[] batched = new double[2 * 40 * 50];
        for (int i = 0; i < 2; i++) {
            double[] slice = LinearAlgebraTest.mm(java.util.Arrays.copyOfRange(e, i * 1200, i * 1200 + 1200),
                    java.util.Arrays.copyOfRange(f, i * 1500, i * 1500 + 1500), 40, 30, 50);
            System.arraycopy(slice, 0, batched, i * 2000, 2000);
        }
        nearOn(one.matmul(f32on(e, 2, 40, 30), f32on(f, 2, 30, 50)), new int[] {2, 40, 50}, tolerance(30), batched);
        // a strided view (a transpose) as the unflagged left operand: libtorch reads it through its strides
        double[] g = asFloats(random(47, 30 * 40));
        NativeArray view = one.transpose(f32on(g, 30, 40), new int[] {1, 0});
        nearOn(one.matmul(view, f32on(d, 30, 50)), new int[] {40, 50}, tolerance(30),
                LinearAlgebraTest.mm(transposed(g, 30, 40), asFloats(d), 40, 30, 50));
        assertEquals(before, counted.oneDnnProducts(), "none of these went to oneDNN");
    }

    @Test
    void libtorchModeKeepsEveryProductWithLibtorch() {
        try (DjlBackend torch = (DjlBackend) new DjlBackendProvider()
                .create(new BackendConfig(Device.CPU, Map.of("gemm", "libtorch")))) {
            assertEquals("libtorch (option gemm=libtorch)", torch.gemm());
            Kernels tk = torch.kernels();
            double[] a = asFloats(random(51, 40 * 30));
            double[] b = asFloats(random(52, 30 * 50));
            NativeArray p = tk.matmul(tk.fromDoubles(a, Shape.of(40, 30), DType.FLOAT32),
                    tk.fromDoubles(b, Shape.of(30, 50), DType.FLOAT32));
            double[] got = tk.toDoubles(p);
            double[] want = LinearAlgebraTest.mm(a, b, 40, 30, 50);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], tolerance(30) * Math.max(1, Math.abs(want[i])), "element " + i);
            }
            assertEquals(0, ((DjlKernels) tk).oneDnnProducts());
        }
    }

    @Test
    void theOptionIsCheckedAndWinsOverTheSystemProperty() {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> OneDnnGemm.choose(Map.of("gemm", "mkl"), 1, true));
        assertEquals("djl: option gemm must be auto, onednn or libtorch, got 'mkl'", bad.getMessage());
        IllegalArgumentException gpu = assertThrows(IllegalArgumentException.class,
                () -> OneDnnGemm.choose(Map.of("gemm", "onednn"), 1, false));
        assertTrue(gpu.getMessage().contains("computes on the CPU only"), gpu.getMessage());
        assertEquals(new CpuGemmChoice.Choice(false, Long.MAX_VALUE, "libtorch (auto: the device is a GPU)"),
                OneDnnGemm.choose(Map.of("gemm", "auto"), 1, false));
        String before = System.getProperty("metaforge.djl.gemm");
        try {
            System.setProperty("metaforge.djl.gemm", "libtorch");
            assertEquals("libtorch (system property metaforge.djl.gemm=libtorch)", OneDnnGemm.choose(Map.of(), 1, true).description());
            assertTrue(OneDnnGemm.choose(Map.of("gemm", "ONEDNN"), 1, true).oneDnn(), "the option wins, case aside");
        } finally {
            if (before == null) {
                System.clearProperty("metaforge.djl.gemm");
            } else {
                System.setProperty("metaforge.djl.gemm", before);
            }
        }
    }

    @Test
    void autoKeepsLibtorchWhenTheThreadCountsDiffer() {
        int threads = CpuGemmChoice.openMpThreads();
        CpuGemmChoice.Choice other = OneDnnGemm.choose(Map.of("gemm", "auto"), threads + 1, true);
        assertFalse(other.oneDnn(), other.description());
        assertTrue(other.description().contains("oneDNN would run " + threads + " thread")
                && other.description().contains("libtorch runs " + (threads + 1)), other.description());
        // with equal counts auto takes oneDNN exactly where it runs AVX-512 code (what the description names),
        // and then only products of 2^15 multiply-adds or more
        CpuGemmChoice.Choice same = OneDnnGemm.choose(Map.of("gemm", "auto"), threads, true);
        assertEquals(!same.description().contains("no AVX-512"), same.oneDnn(), same.description());
        assertEquals(same.oneDnn() ? 1L << 15 : Long.MAX_VALUE, same.minMultiplyAdds());
        assertEquals(0, OneDnnGemm.choose(Map.of("gemm", "onednn"), threads, true).minMultiplyAdds());
    }
}
