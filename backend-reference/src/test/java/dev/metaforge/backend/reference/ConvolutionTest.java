package dev.metaforge.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * conv2d with dilation and groups and its two backward kernels. Expected values are worked by hand,
 * and the backward kernels are checked against the forward one through the adjoint identities
 * {@code <conv(x, w), g> = <x, dInput(g, w)> = <w, dWeight(x, g)>} (independent of how either is computed).
 */
class ConvolutionTest extends KernelTestSupport {

    private static Conv2dOptions options(int stride, int padding, int dilation, int groups) {
        return new Conv2dOptions(new int[] {stride, stride}, new int[] {padding, padding}, new int[] {dilation, dilation}, groups);
    }

    @Test
    void dilationSpreadsTheTaps() {
        // 1x1x5x5 input 0..24, 2x2 kernel [1, 2; 3, 4] with dilation 2: taps at (0,0), (0,2), (2,0), (2,2)
        double[] in = new double[25];
        for (int i = 0; i < 25; i++) {
            in[i] = i;
        }
        NativeArray x = f64(in, 1, 1, 5, 5);
        NativeArray w = f64(d(1, 2, 3, 4), 1, 1, 2, 2);
        // out[y][x] = in[y][x] + 2 in[y][x+2] + 3 in[y+2][x] + 4 in[y+2][x+2]; in[r][c] = 5r + c
        // = 10 (5y + x) + 2*2 + 3*10 + 4*12 = 50y + 10x + 82
        check(k.conv2d(x, w, options(1, 0, 2, 1)), DType.FLOAT64, shape(1, 1, 3, 3),
                82, 92, 102, 132, 142, 152, 182, 192, 202);
    }

    @Test
    void groupsKeepChannelsApart() {
        // 2 input channels, 2 groups, 1x1 kernels: output channel g sees only input channel g
        NativeArray x = f64(d(1, 2, 3, 4, 10, 20, 30, 40), 1, 2, 2, 2);
        NativeArray w = f64(d(2, -1), 2, 1, 1, 1);
        check(k.conv2d(x, w, options(1, 0, 1, 2)), DType.FLOAT64, shape(1, 2, 2, 2), 2, 4, 6, 8, -10, -20, -30, -40);
        // 4 output channels over 2 groups: channels 0-1 read input 0, channels 2-3 read input 1
        NativeArray w4 = f64(d(1, 2, 3, 4), 4, 1, 1, 1);
        check(k.conv2d(x, w4, options(1, 0, 1, 2)), DType.FLOAT64, shape(1, 4, 2, 2),
                1, 2, 3, 4, 2, 4, 6, 8, 30, 60, 90, 120, 40, 80, 120, 160);
    }

    @Test
    void plainOptionsEqualTheStrideAndPaddingKernel() {
        NativeArray x = f64(random(2 * 3 * 6 * 7, 1), 2, 3, 6, 7);
        NativeArray w = f64(random(4 * 3 * 3 * 2, 2), 4, 3, 3, 2);
        int[] stride = {2, 1};
        int[] padding = {1, 0};
        assertArrayClose(k.toDoubles(k.conv2d(x, w, stride, padding)),
                k.toDoubles(k.conv2d(x, w, Conv2dOptions.of(stride, padding))));
    }

    @Test
    void backwardKernelsAreTheAdjointsOfTheForwardOne() {
        // stride 2 over 7 (not divisible), padding, dilation, groups, non-square everything
        Shape input = Shape.of(2, 4, 7, 6);
        Shape weight = Shape.of(6, 2, 3, 2);
        Conv2dOptions o = new Conv2dOptions(new int[] {2, 3}, new int[] {1, 2}, new int[] {2, 1}, 2);
        Shape output = o.outputShape(input, weight);
        double[] xv = random((int) input.size(), 3);
        double[] wv = random((int) weight.size(), 4);
        double[] gv = random((int) output.size(), 5);
        NativeArray x = f64(xv, input.dims());
        NativeArray w = f64(wv, weight.dims());
        NativeArray g = f64(gv, output.dims());
        double forward = dot(k.toDoubles(k.conv2d(x, w, o)), gv);
        NativeArray dx = k.conv2dBackwardInput(g, w, input, o);
        NativeArray dw = k.conv2dBackwardWeight(x, g, weight, o);
        assertEquals(input, dx.shape());
        assertEquals(weight, dw.shape());
        assertEquals(forward, dot(xv, k.toDoubles(dx)), 1e-10 * Math.max(1, Math.abs(forward)));
        assertEquals(forward, dot(wv, k.toDoubles(dw)), 1e-10 * Math.max(1, Math.abs(forward)));
    }

    @Test
    void backwardInputHandComputed() {
        // 1x1x3x3 input, 2x2 kernel of ones, stride 1: every input cell collects the gradients of
        // the windows covering it
        NativeArray g = f64(d(1, 2, 3, 4), 1, 1, 2, 2);
        NativeArray w = f64(d(1, 1, 1, 1), 1, 1, 2, 2);
        check(k.conv2dBackwardInput(g, w, Shape.of(1, 1, 3, 3), Conv2dOptions.defaults()), DType.FLOAT64, shape(1, 1, 3, 3),
                1, 3, 2, 4, 10, 6, 3, 7, 4);
        // stride 2 over a 4x4 input: the last row and column are read by no window
        check(k.conv2dBackwardInput(g, w, Shape.of(1, 1, 5, 5), options(2, 0, 1, 1)), DType.FLOAT64, shape(1, 1, 5, 5),
                1, 1, 2, 2, 0, 1, 1, 2, 2, 0, 3, 3, 4, 4, 0, 3, 3, 4, 4, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void backwardWeightHandComputed() {
        // dw[r][t] = sum over windows of g * the input under tap (r, t): input 1..9, g of ones
        NativeArray x = f64(d(1, 2, 3, 4, 5, 6, 7, 8, 9), 1, 1, 3, 3);
        NativeArray g = f64(d(1, 1, 1, 1), 1, 1, 2, 2);
        check(k.conv2dBackwardWeight(x, g, Shape.of(1, 1, 2, 2), Conv2dOptions.defaults()), DType.FLOAT64, shape(1, 1, 2, 2),
                12, 16, 24, 28);
        // dilation 2 over a 3x3 input: one window, the taps are the corners
        NativeArray g1 = f64(d(1), 1, 1, 1, 1);
        check(k.conv2dBackwardWeight(x, g1, Shape.of(1, 1, 2, 2), options(1, 0, 2, 1)), DType.FLOAT64, shape(1, 1, 2, 2),
                1, 3, 7, 9);
    }

    @Test
    void zeroBatchGivesEmptyOutputsAndZeroWeightGradient() {
        NativeArray x = f64(new double[0], 0, 2, 4, 4);
        NativeArray w = f64(random(3 * 2 * 3 * 3, 6), 3, 2, 3, 3);
        check(k.conv2d(x, w, Conv2dOptions.defaults()), DType.FLOAT64, shape(0, 3, 2, 2));
        NativeArray g = f64(new double[0], 0, 3, 2, 2);
        check(k.conv2dBackwardInput(g, w, Shape.of(0, 2, 4, 4), Conv2dOptions.defaults()), DType.FLOAT64, shape(0, 2, 4, 4));
        check(k.conv2dBackwardWeight(x, g, Shape.of(3, 2, 3, 3), Conv2dOptions.defaults()), DType.FLOAT64, shape(3, 2, 3, 3),
                new double[54]);
    }

    @Test
    void float32ResultsAreRoundedOnce() {
        NativeArray x = f32(d(0.1, 0.2, 0.3, 0.4), 1, 1, 2, 2);
        NativeArray w = f32(d(0.5, 0.25, 0.125, 1.0 / 3), 1, 1, 2, 2);
        NativeArray y = k.conv2d(x, w, Conv2dOptions.defaults());
        assertEquals(DType.FLOAT32, y.dtype());
        double exact = (double) (float) 0.1 * 0.5 + (double) (float) 0.2 * 0.25 + (double) (float) 0.3 * 0.125
                + (double) (float) 0.4 * (float) (1.0 / 3);
        assertEquals((float) exact, k.toDoubles(y)[0], 0.0);
    }

    @Test
    void badArgumentsNameTheOpAndTheShapes() {
        NativeArray x = f64(new double[32], 1, 2, 4, 4);
        NativeArray w = f64(new double[18], 2, 1, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.conv2d(x, w, options(1, 0, 1, 1)));
        assertTrue(e.getMessage().contains("[1, 2, 4, 4]") && e.getMessage().contains("[2, 1, 3, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> k.conv2d(x, w, options(1, 0, 3, 2)));
        assertTrue(e.getMessage().contains("dilation"), e.getMessage());
        NativeArray wrongGrad = f64(new double[8], 1, 2, 2, 2);
        e = assertThrows(IllegalArgumentException.class,
                () -> k.conv2dBackwardInput(wrongGrad, w, Shape.of(1, 2, 4, 4), options(1, 1, 1, 2)));
        assertTrue(e.getMessage().startsWith("conv2dBackwardInput:") && e.getMessage().contains("[1, 2, 2, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> k.conv2dBackwardWeight(x, wrongGrad, Shape.of(2, 1, 3, 3), options(1, 1, 1, 2)));
        assertTrue(e.getMessage().startsWith("conv2dBackwardWeight:"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> k.conv2d(i64(new long[32], 1, 2, 4, 4), i64(new long[18], 2, 1, 3, 3), options(1, 0, 1, 2)));
    }

    static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = r.nextDouble() * 2 - 1;
        }
        return out;
    }

    static void assertArrayClose(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-12, "index " + i);
        }
    }
}
