package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PoolingTest {
    private final Engine engine = LayerChecks.engine();
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /**
     * Independent reference: pooling written as loops over windows, padding skipped for max and
     * counted as zeros for the average. Covers the tiling fast path (stride = kernel, with and without
     * cropping) and the general gather path (overlapping windows, padding).
     */
    @ParameterizedTest(name = "kernel {0}x{1} stride {2}x{3} padding {4}x{5} on {6}x{7}")
    @CsvSource({
        "2, 2, 2, 2, 0, 0, 4, 6",
        "2, 3, 2, 3, 0, 0, 4, 6",
        "2, 2, 2, 2, 0, 0, 5, 7",
        "3, 3, 2, 2, 1, 1, 5, 6",
        "3, 2, 1, 2, 1, 0, 4, 5",
        "2, 2, 1, 1, 0, 0, 3, 3"})
    void maxAndAverageMatchLoopsOverWindows(int kh, int kw, int sh, int sw, int ph, int pw, int height, int width) {
        Tensor x = random(engine, 31, 2, 3, height, width);
        double[] xs = x.toDoubles();
        int outH = (height + 2 * ph - kh) / sh + 1;
        int outW = (width + 2 * pw - kw) / sw + 1;
        double[] max = new double[6 * outH * outW];
        double[] avg = new double[6 * outH * outW];
        for (int plane = 0; plane < 6; plane++) {
            for (int i = 0; i < outH; i++) {
                for (int j = 0; j < outW; j++) {
                    double best = Double.NEGATIVE_INFINITY;
                    double sum = 0;
                    for (int a = 0; a < kh; a++) {
                        for (int c = 0; c < kw; c++) {
                            int row = i * sh - ph + a;
                            int col = j * sw - pw + c;
                            if (row >= 0 && row < height && col >= 0 && col < width) {
                                double v = xs[(plane * height + row) * width + col];
                                best = Math.max(best, v);
                                sum += v;
                            }
                        }
                    }
                    max[(plane * outH + i) * outW + j] = best;
                    avg[(plane * outH + i) * outW + j] = sum / (kh * kw);
                }
            }
        }
        Tensor maxOut = new MaxPool2d(kh, kw, sh, sw, ph, pw).apply(Params.empty(), x);
        Tensor avgOut = new AvgPool2d(kh, kw, sh, sw, ph, pw).apply(Params.empty(), x);
        assertEquals(Shape.of(2, 3, outH, outW), maxOut.shape());
        assertArrayEquals(max, maxOut.toDoubles(), 1e-12);
        assertArrayEquals(avg, avgOut.toDoubles(), 1e-12);
    }

    /** Tied maxima share a window's cotangent evenly (PyTorch gives it all to the first). */
    @Test
    void tiedMaximaSplitTheGradientEvenly() {
        // Fast path: one 2x2 window of equal values, each entry gets 1/4; the other window has a unique maximum.
        Tensor x = engine.tensor(new double[] {5, 5, 1, 2, 5, 5, 3, 0}, 1, 1, 2, 4).requiresGrad();
        Tensor g = Grad.of(MaxPool2d.of(2).apply(Params.empty(), x).sum()).wrt(x);
        assertArrayEquals(new double[] {0.25, 0.25, 0, 0, 0.25, 0.25, 1, 0}, g.toDoubles(), 1e-15);

        // Gather path: a constant 3x3 map under overlapping 2x2 windows (stride 1). Each of the 4 windows
        // gives 1/4 to each of its entries: corners are in 1 window, edges in 2, the centre in 4.
        Tensor ones = engine.ones(1, 1, 3, 3).requiresGrad();
        Tensor gOverlap = Grad.of(MaxPool2d.of(2, 1, 0).apply(Params.empty(), ones).sum()).wrt(ones);
        assertArrayEquals(new double[] {0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25}, gOverlap.toDoubles(), 1e-15);
    }

    @Test
    void describesAChannelwiseLayerOnItsInputGroup() {
        ModuleStructure s = Sequential.of(Conv2d.of(1, 4, 3), MaxPool2d.of(2), AvgPool2d.of(3, 1, 1)).structure();
        LayerInfo max = s.layers().get(1);
        LayerInfo avg = s.layers().get(2);
        assertEquals("pool", max.kind());
        assertEquals("max", max.attribute("op"));
        assertEquals("avg", avg.attribute("op"));
        assertEquals("3x3", avg.attribute("kernel"));
        assertEquals("0.out", max.input());
        assertEquals("0.out", max.output(), "pooling keeps each channel: same group");
        assertEquals("0.out", s.output());
    }

    @Test
    void badGeometryIsAnErrorNamingShapes() {
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> MaxPool2d.of(4).apply(Params.empty(), random(engine, 1, 1, 2, 3, 8)));
        assertTrue(tooBig.getMessage().contains("kernel 4x4 is larger than the padded input 3x8")
                && tooBig.getMessage().contains("[1, 2, 3, 8]"), tooBig.getMessage());
        IllegalArgumentException padding = assertThrows(IllegalArgumentException.class, () -> AvgPool2d.of(3, 1, 2));
        assertTrue(padding.getMessage().contains("at most half") || padding.getMessage().contains("half the kernel"), padding.getMessage());
        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                () -> AvgPool2d.of(2).apply(Params.empty(), random(engine, 2, 4, 4)));
        assertTrue(rank.getMessage().contains("[4, 4]"), rank.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 0, 2, 0, 0));
    }
}
