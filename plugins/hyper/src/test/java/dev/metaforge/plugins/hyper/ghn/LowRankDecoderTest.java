package dev.metaforge.plugins.hyper.ghn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import org.junit.jupiter.api.Test;

class LowRankDecoderTest {
    @Test
    void emitsRankAtMostRPerKernelTapAndTheStatedParameterCount() {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        DecoderSize size = new DecoderSize(5, 7, 12, 6, 3);
        int r = 2;
        LowRankDecoder dec = new LowRankDecoder(size, r);
        long count = 0;
        for (ParamSpec p : dec.parameters()) {
            count += p.shape().size();
        }
        assertEquals(size.lowRank(r), count);
        Params p = dec.mlp().init(engine, RandomStream.of(4));
        Tensor e = engine.tensor(new double[] {0.3, -1.2, 0.8, 0.5, -0.4}, 1, 5);
        Tensor w = dec.decode(p, e, 10, 5, 3);
        assertArrayEquals(new int[] {10, 5, 3, 3}, w.shape().dims());
        // Independent reference: the documented layout of the MLP's output, A then B, each [tapRow, tapCol, channel, r],
        // multiplied out in plain Java.
        double[] f = dec.mlp().apply(p, e).toDoubles();
        int aSize = 3 * 3 * 12 * r;
        double[] got = w.toDoubles();
        for (int o = 0; o < 10; o++) {
            for (int i = 0; i < 5; i++) {
                for (int ty = 0; ty < 3; ty++) {
                    for (int tx = 0; tx < 3; tx++) {
                        double sum = 0;
                        for (int q = 0; q < r; q++) {
                            sum += f[((ty * 3 + tx) * 12 + o) * r + q] * f[aSize + ((ty * 3 + tx) * 6 + i) * r + q];
                        }
                        assertEquals(sum, got[((o * 5 + i) * 3 + ty) * 3 + tx], 1e-12);
                    }
                }
            }
        }
        // Each tap's channel matrix has rank r (Gaussian elimination with partial pivoting counts pivots).
        for (int tap = 0; tap < 9; tap++) {
            double[] m = new double[10 * 5];
            for (int k = 0; k < m.length; k++) {
                m[k] = got[k * 9 + tap];
            }
            assertEquals(r, rank(m, 10, 5, 1e-9));
        }
        // A 1x1 kernel (or a matrix) is the centre tap of the 3x3 grid.
        Tensor centre = dec.decode(p, e, 10, 5, 1);
        assertArrayEquals(new int[] {10, 5}, centre.shape().dims());
        for (int k = 0; k < 50; k++) {
            assertEquals(got[k * 9 + 4], centre.toDoubles()[k], 1e-12);
        }
        assertThrows(IllegalArgumentException.class, () -> dec.decode(p, e, 13, 5, 3));
        assertThrows(IllegalArgumentException.class, () -> dec.decode(p, e, 10, 5, 2));
    }

    private static int rank(double[] a, int rows, int cols, double tol) {
        double[][] m = new double[rows][cols];
        double max = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                m[i][j] = a[i * cols + j];
                max = Math.max(max, Math.abs(m[i][j]));
            }
        }
        int rank = 0;
        for (int c = 0; c < cols && rank < rows; c++) {
            int piv = rank;
            for (int i = rank + 1; i < rows; i++) {
                if (Math.abs(m[i][c]) > Math.abs(m[piv][c])) {
                    piv = i;
                }
            }
            if (Math.abs(m[piv][c]) <= tol * max) {
                continue;
            }
            double[] t = m[piv];
            m[piv] = m[rank];
            m[rank] = t;
            for (int i = rank + 1; i < rows; i++) {
                double f = m[i][c] / m[rank][c];
                for (int j = c; j < cols; j++) {
                    m[i][j] -= f * m[rank][j];
                }
            }
            rank++;
        }
        return rank;
    }

    @Test
    void fullDecoderHasTheStatedCountAndSlicesToTheNodeShape() {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        DecoderSize size = new DecoderSize(5, 7, 12, 4, 3);
        FullDecoder dec = new FullDecoder(size);
        long count = 0;
        for (ParamSpec p : dec.parameters()) {
            count += p.shape().size();
        }
        assertEquals(size.full(), count);
        Params p = dec.mlp().init(engine, RandomStream.of(4));
        Tensor e = engine.tensor(new double[] {0.3, -1.2, 0.8, 0.5, -0.4}, 1, 5);
        Tensor w = dec.decode(p, e, 10, 3, 1);
        assertArrayEquals(new int[] {10, 3}, w.shape().dims());
        // A 1x1 node takes the centre tap (1, 1) of the emitted [3, 3, 12, 4] tensor, top-left [10, 3] block.
        double[] all = dec.mlp().apply(p, e).toDoubles();
        int centre = (1 * 3 + 1) * 12 * 4;
        assertEquals(all[centre + 0], w.toDoubles()[0]);
        assertEquals(all[centre + 4 * 4 + 2], w.toDoubles()[4 * 3 + 2]);
        assertArrayEquals(new int[] {10, 3, 3, 3}, dec.decode(p, e, 10, 3, 3).shape().dims());
    }
}
