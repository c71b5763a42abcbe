package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static dev.metaforge.api.nn.LayerChecks.randomParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MultiHeadAttentionTest {
    private final Engine engine = LayerChecks.engine();
    private static final int N = 2;
    private static final int T = 3;
    private static final int D = 4;
    private static final int HEADS = 2;
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** x [T, D] (row-major) times w [D, D] plus b. */
    private static double[][] project(double[] x, int n, double[] w, double[] b) {
        double[][] y = new double[T][D];
        for (int t = 0; t < T; t++) {
            for (int o = 0; o < D; o++) {
                double v = b[o];
                for (int i = 0; i < D; i++) {
                    v += x[(n * T + t) * D + i] * w[i * D + o];
                }
                y[t][o] = v;
            }
        }
        return y;
    }

    /** Independent reference: attention written from its definition as float64 loops. */
    @ParameterizedTest(name = "causal = {0}")
    @ValueSource(booleans = {false, true})
    void matchesAHandWrittenReference(boolean causal) {
        MultiHeadAttention attention = new MultiHeadAttention(D, HEADS, causal, true);
        Params p = randomParams(engine, attention, 1);
        Tensor x = random(engine, 2, N, T, D);
        double[] xs = x.toDoubles();
        int size = D / HEADS;
        double[] expected = new double[N * T * D];
        for (int n = 0; n < N; n++) {
            double[][] q = project(xs, n, p.get("q.weight").toDoubles(), p.get("q.bias").toDoubles());
            double[][] k = project(xs, n, p.get("k.weight").toDoubles(), p.get("k.bias").toDoubles());
            double[][] v = project(xs, n, p.get("v.weight").toDoubles(), p.get("v.bias").toDoubles());
            double[][] context = new double[T][D];
            for (int h = 0; h < HEADS; h++) {
                for (int t = 0; t < T; t++) {
                    int visible = causal ? t + 1 : T;
                    double[] score = new double[visible];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s < visible; s++) {
                        for (int j = 0; j < size; j++) {
                            score[s] += q[t][h * size + j] * k[s][h * size + j];
                        }
                        score[s] /= Math.sqrt(size);
                        max = Math.max(max, score[s]);
                    }
                    double total = 0;
                    for (int s = 0; s < visible; s++) {
                        score[s] = Math.exp(score[s] - max);
                        total += score[s];
                    }
                    for (int s = 0; s < visible; s++) {
                        for (int j = 0; j < size; j++) {
                            context[t][h * size + j] += score[s] / total * v[s][h * size + j];
                        }
                    }
                }
            }
            double[] wo = p.get("out.weight").toDoubles();
            double[] bo = p.get("out.bias").toDoubles();
            for (int t = 0; t < T; t++) {
                for (int o = 0; o < D; o++) {
                    double y = bo[o];
                    for (int i = 0; i < D; i++) {
                        y += context[t][i] * wo[i * D + o];
                    }
                    expected[(n * T + t) * D + o] = y;
                }
            }
        }
        Tensor y = attention.apply(p, x);
        assertEquals(Shape.of(N, T, D), y.shape());
        assertArrayEquals(expected, y.toDoubles(), 1e-12);
    }

    /** With the causal mask, changing positions after t leaves outputs up to t exactly as they were. */
    @Test
    void causalOutputIgnoresLaterPositions() {
        int length = 5;
        MultiHeadAttention causal = new MultiHeadAttention(6, 3, true, true);
        MultiHeadAttention full = new MultiHeadAttention(6, 3, false, true);
        Params p = randomParams(engine, causal, 3);
        Tensor x = random(engine, 4, 1, length, 6);
        for (int t = 0; t < length - 1; t++) {
            // Replace every position after t with other values.
            Tensor changed = Tensor.concat(List.of(x.slice(1, 0, t + 1), random(engine, 10 + t, 1, length - t - 1, 6)), 1);
            Tensor before = causal.apply(p, x);
            Tensor after = causal.apply(p, changed);
            LayerChecks.assertIdentical(before.slice(1, 0, t + 1), after.slice(1, 0, t + 1), "causal output up to position " + t);
            assertTrue(LayerChecks.maxDifference(before.slice(1, t + 1, length), after.slice(1, t + 1, length)) > 1e-6,
                    "later outputs do change");
            assertTrue(LayerChecks.maxDifference(full.apply(p, x).slice(1, 0, t + 1), full.apply(p, changed).slice(1, 0, t + 1)) > 1e-6,
                    "without the mask, position " + t + " sees the later ones");
        }
    }

    @Test
    void parametersFollowPyTorchsLayoutAndInitialisation() {
        MultiHeadAttention attention = new MultiHeadAttention(24, 4, false, true);
        assertEquals(List.of("q.weight", "q.bias", "k.weight", "k.bias", "v.weight", "v.bias", "out.weight", "out.bias"),
                attention.parameters().stream().map(ParamSpec::name).toList());
        assertEquals(List.of(Axis.IN, Axis.OUT), attention.parameters().get(0).axes());
        assertEquals(4, new MultiHeadAttention(24, 4, false, false).parameters().size());
        Params p = attention.init(engine, RandomStream.of(2));
        // Xavier on PyTorch's packed [3d, d] in-projection: sqrt(6 / (24 + 72)) = 0.25; out: 1 / sqrt(24).
        assertBound(p.get("q.weight"), 0.25);
        assertBound(p.get("v.weight"), 0.25);
        assertBound(p.get("out.weight"), 1 / Math.sqrt(24));
        assertArrayEquals(new double[24], p.get("k.bias").toDoubles(), "biases start at 0");
        assertArrayEquals(new double[24], p.get("out.bias").toDoubles());
    }

    private static void assertBound(Tensor t, double bound) {
        double max = 0;
        for (double v : t.toDoubles()) {
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max <= bound && max > 0.95 * bound, "max |w| " + max + " for the bound " + bound);
    }

    @Test
    void describesHeadBlockedGroupsForQueryKeyAndValue() {
        ModuleStructure s = Sequential.of(Linear.of(3, D), new MultiHeadAttention(D, HEADS, true, true)).structure();
        List<String> names = s.layers().stream().map(LayerInfo::name).toList();
        assertEquals(List.of("0", "1.q", "1.k", "1.v", "1", "1.out"), names);
        LayerInfo q = s.layers().get(1);
        LayerInfo k = s.layers().get(2);
        LayerInfo v = s.layers().get(3);
        LayerInfo mix = s.layers().get(4);
        assertEquals("0.out", q.input());
        assertEquals(q.output(), k.output(), "queries and keys are permuted together");
        assertEquals(HEADS, s.group(q.output()).blocks());
        assertEquals(HEADS, s.group(v.output()).blocks());
        assertTrue(!v.output().equals(q.output()));
        assertEquals("1.q.weight", q.param("weight"));
        assertEquals("attention", mix.kind());
        assertEquals(String.valueOf(HEADS), mix.attribute("heads"));
        assertEquals("true", mix.attribute("causal"));
        assertEquals(v.output(), s.layers().get(5).input());
        assertEquals("1.out.weight", s.layers().get(5).param("weight"));
    }

    @Test
    void headsMustDivideTheWidthAndInputsMustFit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MultiHeadAttention(64, 6, false, true));
        assertTrue(e.getMessage().contains("heads = 6 does not divide d = 64"), e.getMessage());
        MultiHeadAttention attention = new MultiHeadAttention(D, HEADS, false, true);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> attention.apply(randomParams(engine, attention, 1), random(engine, 1, 2, 3, 5)));
        assertTrue(shape.getMessage().contains("[2, 3, 5]") && shape.getMessage().contains("[N, T, 4]"), shape.getMessage());
    }
}
