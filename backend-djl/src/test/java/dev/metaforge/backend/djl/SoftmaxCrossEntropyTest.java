package dev.metaforge.backend.djl;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.HostCrossEntropy;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import org.junit.jupiter.api.Test;

/**
 * DJL's softmaxCrossEntropy on the inputs its host pass must not take or must take with care,
 * against {@code logSumExp(x) - sum(t * x)} per row in plain float64 Java (see {@link #expected}).
 * The TCK (FUSED-XENT-1) compares dense inputs with the composed default and the reference; these
 * are the DJL-specific routes: a strided view (PyTorch's permute), which the pass must not read as
 * dense memory, and an input above {@link HostCrossEntropy#MAX_ELEMENTS}, which stays native.
 */
class SoftmaxCrossEntropyTest extends DjlTestSupport {

    @Test
    void transposedViewOfLogitsIsReadInItsLogicalOrder() {
        int rows = 4;
        int classes = 3;
        double[] stored = random(11, rows * classes);  // [classes, rows], transposed to [rows, classes]
        double[] logical = new double[rows * classes];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < classes; c++) {
                logical[r * classes + c] = stored[c * rows + r];
            }
        }
        double[] target = oneHot(rows, classes, 7);
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double[] s = dtype == DType.FLOAT32 ? asFloats(stored) : stored;
            double[] l = dtype == DType.FLOAT32 ? asFloats(logical) : logical;
            NativeArray view = k.transpose(k.fromDoubles(s, Shape.of(classes, rows), dtype), new int[] {1, 0});
            NativeArray t = k.fromDoubles(target, Shape.of(rows, classes), dtype);
            near(k.softmaxCrossEntropy(view, t, -1), dtype, shape(rows), dtype == DType.FLOAT32 ? EPS32 : EPS,
                    expected(l, target, rows, classes));
        }
    }

    @Test
    void largeInputTakesTheNativeRouteWithTheSameValues() {
        int rows = 3;
        int classes = HostCrossEntropy.MAX_ELEMENTS / 2;  // 1.5 times the host pass's limit
        double[] logits = random(12, rows * classes);
        double[] target = oneHot(rows, classes, 13);
        near(k.softmaxCrossEntropy(f64(logits, rows, classes), f64(target, rows, classes), 1), DType.FLOAT64, shape(rows),
                1e-10, expected(logits, target, rows, classes));
    }

    @Test
    void smallDenseInputInBothDtypes() {
        int rows = 128;
        int classes = 10;
        double[] logits = random(14, rows * classes);
        double[] target = oneHot(rows, classes, 15);
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            double[] l = dtype == DType.FLOAT32 ? asFloats(logits) : logits;
            near(k.softmaxCrossEntropy(k.fromDoubles(l, Shape.of(rows, classes), dtype),
                    k.fromDoubles(target, Shape.of(rows, classes), dtype), -1), dtype, shape(rows),
                    dtype == DType.FLOAT32 ? EPS32 : EPS, expected(l, target, rows, classes));
        }
    }

    /** Per row: max + log(sum(exp(x - max))) - sum(t * x), in float64. */
    private static double[] expected(double[] x, double[] t, int rows, int classes) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, x[r * classes + c]);
            }
            double sum = 0;
            double dot = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(x[r * classes + c] - max);
                dot += t[r * classes + c] * x[r * classes + c];
            }
            out[r] = max + Math.log(sum) - dot;
        }
        return out;
    }

    private static double[] oneHot(int rows, int classes, long seed) {
        double[] t = new double[rows * classes];
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int r = 0; r < rows; r++) {
            t[r * classes + random.nextInt(classes)] = 1;
        }
        return t;
    }
}
