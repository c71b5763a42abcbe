package dev.metaforge.backend.dl4j;

import static dev.metaforge.backend.dl4j.Dl4jTesting.noise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Blas#gemm}'s oneDNN route ({@link OneDnnGemm}) on a backend created with {@code gemm=onednn}, which sends it
 * every float32 product: all four transpose-flag combinations, a per-slice batched product with a broadcast operand,
 * and linear's accumulating product (BLAS beta 1 onto the bias), each against float64 loops over the same float32
 * inputs. The whole conformance kit also runs on such a backend ({@link Dl4jOneDnnConformanceTest}).
 */
class OneDnnGemmTest {
    private static final Dl4jBackend ONEDNN = (Dl4jBackend) new Dl4jBackendProvider()
            .create(new BackendConfig(Device.CPU, Map.of("gemm", "onednn")));
    private final Kernels k = ONEDNN.kernels();

    private static double[] f32(double[] v) {
        double[] r = v.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) r[i];
        }
        return r;
    }

    /** Element (i, j) of op(x), x a row-major matrix of [rows, cols] as it lies starting at {@code off}. */
    private static double at(double[] x, int off, int cols, boolean trans, int i, int j) {
        return trans ? x[off + j * cols + i] : x[off + i * cols + j];
    }

    private void check(double[] expected, int[] dims, NativeArray actual, int kk) {
        try (actual) {
            assertEquals(Shape.of(dims), actual.shape(), "shape");
            double[] got = k.toDoubles(actual);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], got[i], 1e-6 * kk * (1 + Math.abs(expected[i])), "value " + i);
            }
        }
    }

    @Test
    void theBackendSaysOneDnnComputesItsProducts() {
        assertTrue(ONEDNN.gemm().startsWith("oneDNN ") && ONEDNN.gemm().contains("every float32 product"), ONEDNN.gemm());
        assertTrue(ONEDNN.toString().contains("float32 GEMM: oneDNN"), ONEDNN.toString());
    }

    @Test
    void flaggedAndBatchedProductsMatchFloat64Loops() {
        // [batch, m, k] x [k, n] per slice, b broadcast when bBatch is 1
        int[][] cases = {{1, 7, 13, 5, 1}, {1, 66, 33, 129, 1}, {3, 4, 11, 7, 3}, {3, 9, 6, 8, 1}};
        for (int[] c : cases) {
            int batch = c[0];
            int m = c[1];
            int kk = c[2];
            int n = c[3];
            int bBatch = c[4];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    double[] a = f32(noise(batch * m * kk, 41 + m));
                    double[] b = f32(noise(bBatch * kk * n, 42 + n));
                    double[] expected = new double[batch * m * n];
                    for (int t = 0; t < batch; t++) {
                        int bt = bBatch == 1 ? 0 : t;
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                double acc = 0;
                                for (int p = 0; p < kk; p++) {
                                    acc += at(a, t * m * kk, ta ? m : kk, ta, i, p) * at(b, bt * kk * n, tb ? kk : n, tb, p, j);
                                }
                                expected[(t * m + i) * n + j] = acc;
                            }
                        }
                    }
                    int[] sa = batch == 1 ? (ta ? new int[] {kk, m} : new int[] {m, kk}) : (ta ? new int[] {batch, kk, m} : new int[] {batch, m, kk});
                    int[] sb = bBatch == 1 ? (tb ? new int[] {n, kk} : new int[] {kk, n}) : (tb ? new int[] {bBatch, n, kk} : new int[] {bBatch, kk, n});
                    int[] out = batch == 1 ? new int[] {m, n} : new int[] {batch, m, n};
                    try (NativeArray x = k.fromDoubles(a, Shape.of(sa), DType.FLOAT32);
                         NativeArray y = k.fromDoubles(b, Shape.of(sb), DType.FLOAT32)) {
                        check(expected, out, k.matmul(x, y, ta, tb), kk);
                    }
                }
            }
        }
    }

    @Test
    void linearAccumulatesTheProductOntoTheBias() {
        double[] x = f32(noise(64 * 40, 51));
        double[] w = f32(noise(40 * 30, 52));
        double[] bias = f32(noise(30, 53));
        double[] expected = new double[64 * 30];
        for (int i = 0; i < 64; i++) {
            for (int j = 0; j < 30; j++) {
                double acc = bias[j];
                for (int p = 0; p < 40; p++) {
                    acc += x[i * 40 + p] * w[p * 30 + j];
                }
                expected[i * 30 + j] = acc;
            }
        }
        try (NativeArray xa = k.fromDoubles(x, Shape.of(64, 40), DType.FLOAT32);
             NativeArray wa = k.fromDoubles(w, Shape.of(40, 30), DType.FLOAT32);
             NativeArray ba = k.fromDoubles(bias, Shape.of(30), DType.FLOAT32)) {
            check(expected, new int[] {64, 30}, k.linear(xa, wa, ba), 40);
        }
    }

    @Test
    void openblasModeAndBadModes() {
        Dl4jBackend openblas = (Dl4jBackend) new Dl4jBackendProvider()
                .create(new BackendConfig(Device.CPU, Map.of("gemm", "openblas")));
        assertEquals("openblas (option gemm=openblas)", openblas.gemm());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Dl4jBackendProvider().create(new BackendConfig(Device.CPU, Map.of("gemm", "libtorch"))));
        assertEquals("dl4j: option gemm must be auto, onednn or openblas, got 'libtorch'", e.getMessage());
    }
}
