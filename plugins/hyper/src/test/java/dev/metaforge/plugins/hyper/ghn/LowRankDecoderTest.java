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
    void emitsRankAtMostRAndTheStatedParameterCount() {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        DecoderSize size = new DecoderSize(5, 7, 12, 4, 3);
        int r = 2;
        LowRankDecoder dec = new LowRankDecoder(size, r);
        long count = 0;
        for (ParamSpec p : dec.parameters()) {
            count += p.shape().size();
        }
        assertEquals(size.lowRank(r), count);
        Params p = dec.mlp().init(engine, RandomStream.of(4));
        Tensor e = engine.tensor(new double[] {0.3, -1.2, 0.8, 0.5, -0.4}, 1, 5);
        Tensor w = dec.decode(p, e, 10, 36);
        assertArrayEquals(new int[] {10, 36}, w.shape().dims());
        // Independent float64 check: Gaussian elimination with partial pivoting counts pivots.
        assertEquals(r, rank(w.toDoubles(), 10, 36, 1e-9));
        assertThrows(IllegalArgumentException.class, () -> dec.decode(p, e, 13, 36));
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
        Tensor w = dec.decode(p, e, 10, 36);
        assertArrayEquals(new int[] {10, 36}, w.shape().dims());
        // The slice is the top-left block of the emitted [12, 36] matrix.
        double[] all = dec.mlp().apply(p, e).toDoubles();
        assertEquals(all[35], w.toDoubles()[35]);
        assertEquals(all[36 + 1], w.toDoubles()[36 + 1]);
    }
}
