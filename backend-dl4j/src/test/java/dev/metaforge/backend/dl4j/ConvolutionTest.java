package dev.metaforge.backend.dl4j;

import static dev.metaforge.backend.dl4j.Dl4jTesting.arr;
import static dev.metaforge.backend.dl4j.Dl4jTesting.assertValues;
import static dev.metaforge.backend.dl4j.Dl4jTesting.k;
import static dev.metaforge.backend.dl4j.Dl4jTesting.noise;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The convolution kernels (im2col columns, one GEMM per pass, col2im, the reused per-thread
 * columns buffer) at the sizes of a real training step, which the TCK's small geometries do not
 * reach: batch 32, 16 channels, 5x5 kernels. Reference: the definitions of the convolution and of
 * its two adjoints, summed in float64 in plain Java below.
 */
class ConvolutionTest {

    /** input [N, C, H, W], weight [O, C, kH, kW], options. */
    record Case(int[] input, int[] weight, Conv2dOptions options) {
    }

    static final List<Case> CASES = List.of(
            // a hidden block of the ghn benchmark: 14x14 maps, padding k/2 keeps the size
            new Case(new int[] {32, 16, 14, 14}, new int[] {16, 16, 5, 5}, Conv2dOptions.of(new int[] {1, 1}, new int[] {2, 2})),
            // its stem: one channel, stride 2
            new Case(new int[] {32, 1, 28, 28}, new int[] {8, 1, 3, 3}, Conv2dOptions.of(new int[] {2, 2}, new int[] {1, 1})),
            // everything different per axis
            new Case(new int[] {3, 5, 11, 9}, new int[] {6, 5, 3, 2},
                    new Conv2dOptions(new int[] {2, 3}, new int[] {1, 2}, new int[] {2, 1}, 1)));

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void forwardAndBothGradientsMatchTheDefinition(DType dtype) {
        double tol = dtype == DType.FLOAT32 ? 2e-5 : 1e-12;
        for (Case c : CASES) {
            double[] x = noise(size(c.input()), 1);
            double[] w = noise(size(c.weight()), 2);
            Shape outShape = c.options().outputShape(Shape.of(c.input()), Shape.of(c.weight()));
            int[] out = outShape.dims();
            double[] g = noise(size(out), 3);
            Reference ref = new Reference(c, out);
            try (NativeArray xa = arr(dtype, x, c.input()); NativeArray wa = arr(dtype, w, c.weight());
                 NativeArray ga = arr(dtype, g, out)) {
                assertValues(ref.forward(x, w), out, dtype, k().conv2d(xa, wa, c.options()), tol);
                assertValues(ref.gradInput(g, w), c.input(), dtype,
                        k().conv2dBackwardInput(ga, wa, Shape.of(c.input()), c.options()), tol);
                assertValues(ref.gradWeight(x, g), c.weight(), dtype,
                        k().conv2dBackwardWeight(xa, ga, Shape.of(c.weight()), c.options()), tol);
            }
        }
    }

    /** The columns buffer is shared between calls: a small convolution in between must not change a large one's result. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void interleavedSizesGiveIdenticalResults(DType dtype) {
        Case big = CASES.get(0);
        Case small = CASES.get(2);
        try (NativeArray xb = arr(dtype, noise(size(big.input()), 4), big.input());
             NativeArray wb = arr(dtype, noise(size(big.weight()), 5), big.weight());
             NativeArray xs = arr(dtype, noise(size(small.input()), 6), small.input());
             NativeArray ws = arr(dtype, noise(size(small.weight()), 7), small.weight());
             NativeArray first = k().conv2d(xb, wb, big.options());
             NativeArray between = k().conv2d(xs, ws, small.options());
             NativeArray second = k().conv2d(xb, wb, big.options());
             NativeArray smallAgain = k().conv2d(xs, ws, small.options())) {
            assertArrayEquals(k().toDoubles(first), k().toDoubles(second));
            assertArrayEquals(k().toDoubles(between), k().toDoubles(smallAgain));
        }
    }

    private static int size(int[] dims) {
        int s = 1;
        for (int d : dims) {
            s *= d;
        }
        return s;
    }

    /** Convolution (cross-correlation) and its adjoints from the definition, in float64. */
    private record Case2(int n, int c, int h, int w, int o, int kh, int kw, int oh, int ow) {
    }

    private static final class Reference {
        private final Case2 s;
        private final int[] stride;
        private final int[] pad;
        private final int[] dil;

        Reference(Case c, int[] out) {
            s = new Case2(c.input()[0], c.input()[1], c.input()[2], c.input()[3], c.weight()[0], c.weight()[2], c.weight()[3],
                    out[2], out[3]);
            stride = c.options().stride();
            pad = c.options().padding();
            dil = c.options().dilation();
        }

        /** The input row/column tap (ki, kj) of output (oy, ox) reads, or -1 in padding. */
        private int iy(int oy, int ki) {
            int v = oy * stride[0] - pad[0] + ki * dil[0];
            return v < 0 || v >= s.h() ? -1 : v;
        }

        private int ix(int ox, int kj) {
            int v = ox * stride[1] - pad[1] + kj * dil[1];
            return v < 0 || v >= s.w() ? -1 : v;
        }

        private int xi(int n, int c, int y, int x) {
            return ((n * s.c() + c) * s.h() + y) * s.w() + x;
        }

        private int wi(int o, int c, int ki, int kj) {
            return ((o * s.c() + c) * s.kh() + ki) * s.kw() + kj;
        }

        private int oi(int n, int o, int oy, int ox) {
            return ((n * s.o() + o) * s.oh() + oy) * s.ow() + ox;
        }

        /** Calls f(x index, w index, out index) for every product term of the convolution. */
        private void terms(Term f) {
            for (int n = 0; n < s.n(); n++) {
                for (int o = 0; o < s.o(); o++) {
                    for (int oy = 0; oy < s.oh(); oy++) {
                        for (int ox = 0; ox < s.ow(); ox++) {
                            for (int c = 0; c < s.c(); c++) {
                                for (int ki = 0; ki < s.kh(); ki++) {
                                    int y = iy(oy, ki);
                                    if (y < 0) {
                                        continue;
                                    }
                                    for (int kj = 0; kj < s.kw(); kj++) {
                                        int x = ix(ox, kj);
                                        if (x >= 0) {
                                            f.apply(xi(n, c, y, x), wi(o, c, ki, kj), oi(n, o, oy, ox));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        double[] forward(double[] x, double[] w) {
            double[] out = new double[s.n() * s.o() * s.oh() * s.ow()];
            terms((xi, wi, oi) -> out[oi] += x[xi] * w[wi]);
            return out;
        }

        double[] gradInput(double[] g, double[] w) {
            double[] gi = new double[s.n() * s.c() * s.h() * s.w()];
            terms((xi, wi, oi) -> gi[xi] += g[oi] * w[wi]);
            return gi;
        }

        double[] gradWeight(double[] x, double[] g) {
            double[] gw = new double[s.o() * s.c() * s.kh() * s.kw()];
            terms((xi, wi, oi) -> gw[wi] += x[xi] * g[oi]);
            return gw;
        }
    }

    private interface Term {
        void apply(int x, int w, int out);
    }
}
