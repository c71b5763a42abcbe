package dev.metaforge.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import org.junit.jupiter.api.Test;

/**
 * The kernels this backend overrides among those the SPI added as defaults, on cases the TCK's
 * small tables do not reach: long lines of ties (where PyTorch's unstable sort would reorder them)
 * and convolutions with dilation and groups against direct float64 loops.
 */
class OrderingAndConvolutionTest extends DjlTestSupport {

    @Test
    void argsortKeepsTiesInIndexOrderOnLongLines() {
        int n = 20_000;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i * 7919) % 3; // 0, 1 and 2 interleaved irregularly
        }
        long[] ascending = new long[n];
        long[] descending = new long[n];
        int a = 0;
        int dsc = 0;
        for (int v = 0; v <= 2; v++) {
            for (int i = 0; i < n; i++) {
                if (x[i] == v) {
                    ascending[a++] = i;
                }
                if (x[i] == 2 - v) {
                    descending[dsc++] = i;
                }
            }
        }
        try (NativeArray arr = f32(x, n);
             NativeArray up = k.argsort(arr, 0, false);
             NativeArray down = k.argsort(arr, -1, true)) {
            assertArrayEquals(ascending, k.toLongs(up));
            assertArrayEquals(descending, k.toLongs(down));
        }
    }

    @Test
    void sortPutsNaNLastAscendingAndKeepsTheSignOfZeroInOrder() {
        try (NativeArray x = f64(d(0.0, Double.NaN, -0.0, -1, 0.0), 5);
             NativeArray sorted = k.sort(x, 0, false)) {
            double[] v = k.toDoubles(sorted);
            assertEquals(-1, v[0]);
            assertEquals(Double.doubleToRawLongBits(0.0), Double.doubleToRawLongBits(v[1]));
            assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(v[2]));
            assertEquals(Double.doubleToRawLongBits(0.0), Double.doubleToRawLongBits(v[3]));
            assertEquals(Double.NaN, v[4]);
        }
    }

    @Test
    void cumsumOfInt64IsExactBeyondFloatPrecision() {
        try (NativeArray x = i64(l(9_007_199_254_740_993L, 1, -2), 3);
             NativeArray sum = k.cumsum(x, 0)) {
            assertEquals(DType.INT64, sum.dtype());
            assertArrayEquals(l(9_007_199_254_740_993L, 9_007_199_254_740_994L, 9_007_199_254_740_992L), k.toLongs(sum));
        }
    }

    @Test
    void conv2dWithDilationAndGroupsMatchesLoops() {
        int n = 2;
        int c = 4;
        int h = 9;
        int w = 7;
        int o = 6;
        int groups = 2;
        int kh = 2;
        int kw = 3;
        Conv2dOptions opt = new Conv2dOptions(new int[] {2, 1}, new int[] {1, 2}, new int[] {3, 2}, groups);
        double[] x = random(1, n * c * h * w);
        double[] wt = random(2, o * (c / groups) * kh * kw);
        Shape out = opt.outputShape(Shape.of(n, c, h, w), Shape.of(o, c / groups, kh, kw));
        double[] expected = new double[(int) out.size()];
        int oh = out.dim(2);
        int ow = out.dim(3);
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                int g = oc / (o / groups);
                for (int y = 0; y < oh; y++) {
                    for (int z = 0; z < ow; z++) {
                        double s = 0;
                        for (int ic = 0; ic < c / groups; ic++) {
                            for (int r = 0; r < kh; r++) {
                                for (int t = 0; t < kw; t++) {
                                    int iy = y * 2 - 1 + r * 3;
                                    int ix = z - 2 + t * 2;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        s += x[((b * c + g * (c / groups) + ic) * h + iy) * w + ix]
                                                * wt[((oc * (c / groups) + ic) * kh + r) * kw + t];
                                    }
                                }
                            }
                        }
                        expected[((b * o + oc) * oh + y) * ow + z] = s;
                    }
                }
            }
        }
        try (NativeArray xi = f64(x, n, c, h, w);
             NativeArray wi = f64(wt, o, c / groups, kh, kw);
             NativeArray y = k.conv2d(xi, wi, opt)) {
            near(y, DType.FLOAT64, out.dims(), EPS, expected);
        }
    }

    @Test
    void conv2dOverZeroChannelsIsZero() {
        // what the composed weight gradient of an empty batch asks for: PyTorch alone returns another shape
        try (NativeArray x = f32(new double[0], 2, 0, 4, 4);
             NativeArray w = f32(new double[0], 3, 0, 2, 2);
             NativeArray y = k.conv2d(x, w, new int[] {1, 1}, new int[] {0, 0})) {
            near(y, DType.FLOAT32, shape(2, 3, 3, 3), 0, new double[54]);
        }
    }
}
