package dev.metaforge.backend.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DJL's reluBackward ({@code g * sign(relu(x))}) against the contract computed in Java: {@code g} where
 * {@code x > 0}, else 0, with a NaN input counting as not positive. The special inputs (NaN, ±0, a
 * subnormal, ±infinity) are the ones a mask built without a comparison could get wrong; 37 entries so both
 * PyTorch's vectorised loop and its scalar tail see each of them.
 */
class ReluBackwardTest extends DjlTestSupport {
    private static final double[] SPECIAL = {Double.NaN, -0.0, 0.0, 1e-40, -1e-40, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, 2.5, -3.0};

    @Test
    void specialInputsFollowTheContractInBothDtypes() {
        int n = 37;
        double[] x = new double[n];
        double[] g = random(7, n);
        for (int i = 0; i < n; i++) {
            x[i] = SPECIAL[i % SPECIAL.length];
        }
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            double[] xs = dtype == DType.FLOAT32 ? asFloats(x) : x;
            double[] gs = dtype == DType.FLOAT32 ? asFloats(g) : g;
            NativeArray xa = k.fromDoubles(xs, dev.metaforge.spi.Shape.of(n), dtype);
            NativeArray ga = k.fromDoubles(gs, dev.metaforge.spi.Shape.of(n), dtype);
            double[] got = k.toDoubles(k.reluBackward(ga, xa));
            for (int i = 0; i < n; i++) {
                double expected = xs[i] > 0 ? gs[i] : 0.0;
                // equal values; the sign of a zero may differ (as the SPI allows)
                assertEquals(expected, got[i] == 0 ? 0.0 : got[i], 0.0, dtype + " element " + i + " for x = " + xs[i]);
            }
        }
    }

    @Test
    void batchedMatrixScalarAndEmpty() {
        double[] x = random(3, 2 * 3 * 4);
        double[] g = random(4, 2 * 3 * 4);
        double[] expected = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            expected[i] = x[i] > 0 ? g[i] : 0;
        }
        check(k.reluBackward(f64(g, 2, 3, 4), f64(x, 2, 3, 4)), DType.FLOAT64, shape(2, 3, 4), expected);
        check(k.reluBackward(f64(d(1.5)), f64(d(0.25))), DType.FLOAT64, shape(), 1.5);
        check(k.reluBackward(f64(d(1.5)), f64(d(-0.25))), DType.FLOAT64, shape(), 0.0);
        check(k.reluBackward(f32(d(), 0, 3), f32(d(), 0, 3)), DType.FLOAT32, shape(0, 3));
    }
}
