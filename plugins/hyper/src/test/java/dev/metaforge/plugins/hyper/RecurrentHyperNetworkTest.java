package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Chandra et al.'s recurrent hypernetwork: one shared head, a generator whose size does not depend
 * on the target, chunk t conditioned on the chunks before it (and never after), an LSTM computed by
 * hand, the gradient against finite differences, and weight batches.
 */
class RecurrentHyperNetworkTest {
    private static final Initializer HEAD = Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT);

    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = HyperFixtures.engine();
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static long count(List<ParamSpec> specs) {
        return specs.stream().mapToLong(s -> s.shape().size()).sum();
    }

    @Test
    void generatorParameterCountDoesNotDependOnTheTargetSize() {
        int d = 8;
        int h = 64;
        int chunk = 256;
        int k = 8;
        HyperTarget small = HyperTarget.of(Mlp.of(List.of(3, 4, 2), Activation.RELU));
        HyperTarget large = HyperTarget.of(Mlp.of(List.of(784, 256, 256, 10), Activation.RELU));
        RecurrentHyperNetwork a = new RecurrentHyperNetwork(small.generated(), d, h, chunk, k, HEAD);
        RecurrentHyperNetwork b = new RecurrentHyperNetwork(large.generated(), d, h, chunk, k, HEAD);
        // By hand from the formula: LSTM (d + k)·4H + H·4H + 4H, shared head H·chunk + chunk.
        long generator = (8 + 8) * 256 + 64 * 256 + 256 + 64 * 256 + 256;
        assertEquals(37_376, generator);
        assertEquals(generator, count(a.generatorParameters()));
        assertEquals(generator, count(b.generatorParameters()));
        // Only the chunk embeddings grow: [3,4,2] has 3·4+4+4·2+2 = 26 values (1 chunk);
        // 784-256-256-10 has 784·256+256+256·256+256+256·10+10 = 269,322 values, ⌈269,322 / 256⌉ = 1,053 chunks.
        assertEquals(1, a.chunks());
        assertEquals(1_053, b.chunks());
        assertEquals(generator + 8, a.parameterCount());
        assertEquals(generator + 1_053 * 8, b.parameterCount());
    }

    /** Target [2, 3, 2]: 6 + 3 + 6 + 2 = 17 values; chunk 4 gives 5 chunks, the last holding one value. */
    private static RecurrentHyperNetwork tiny() {
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(2, 3, 2), Activation.TANH));
        return new RecurrentHyperNetwork(target.generated(), 2, 3, 4, 2, HEAD);
    }

    private static double[] flat(Params generated) {
        List<Double> all = new java.util.ArrayList<>();
        for (Tensor t : generated.values()) {
            for (double v : t.toDoubles()) {
                all.add(v);
            }
        }
        return all.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void aLaterChunkDependsOnAnEarlierChunkThroughTheStateButNotTheReverse() {
        RecurrentHyperNetwork hyper = tiny();
        assertEquals(5, hyper.chunks());
        Params h = hyper.init(engine, RandomStream.of(1));
        Tensor ctx = engine.tensor(new double[] {0.4, -0.3}, 2);
        double[] base = flat(hyper.generate(h, ctx));
        assertEquals(17, base.length);
        // Perturb chunk 1's embedding (an input of step 1 only).
        double[] rows = h.get("chunks").toDoubles();
        rows[1 * 2] += 0.5;
        Map<String, Tensor> moved = new LinkedHashMap<>(h.asMap());
        moved.put("chunks", engine.tensor(rows, 5, 2));
        double[] after = flat(hyper.generate(Params.of(moved), ctx));
        for (int i = 0; i < 4; i++) {
            assertEquals(base[i], after[i], 0.0, "chunk 0 (value " + i + ") must not depend on chunk 1's input");
        }
        for (int chunk = 1; chunk < 5; chunk++) {
            double change = 0;
            for (int i = chunk * 4; i < Math.min(17, chunk * 4 + 4); i++) {
                change += Math.abs(after[i] - base[i]);
            }
            assertTrue(change > 1e-6, "chunk " + chunk + " must change when chunk 1's input changes: " + change);
        }
    }

    @Test
    void chunksMatchAnLstmComputedByHand() {
        RecurrentHyperNetwork hyper = tiny();
        Params h = hyper.init(engine, RandomStream.of(7));
        double[] ctx = {0.4, -0.3};
        double[] got = flat(hyper.generate(h, engine.tensor(ctx, 2)));
        double[] emb = h.get("chunks").toDoubles();
        double[] wc = h.get("cell.context_weight").toDoubles();
        double[] wk = h.get("cell.chunk_weight").toDoubles();
        double[] wh = h.get("cell.hidden_weight").toDoubles();
        double[] bias = h.get("cell.bias").toDoubles();
        double[] wo = h.get("head.weight").toDoubles();
        double[] bo = h.get("head.bias").toDoubles();
        int hs = 3;
        double[] state = new double[hs];
        double[] cell = new double[hs];
        for (int t = 0; t < 5; t++) {
            double[] gate = new double[4 * hs];
            for (int j = 0; j < 4 * hs; j++) {
                double g = bias[j];
                for (int q = 0; q < 2; q++) {
                    g += ctx[q] * wc[q * 4 * hs + j] + emb[t * 2 + q] * wk[q * 4 * hs + j];
                }
                for (int q = 0; q < hs; q++) {
                    g += state[q] * wh[q * 4 * hs + j];
                }
                gate[j] = g;
            }
            for (int j = 0; j < hs; j++) {
                double in = 1 / (1 + Math.exp(-gate[j]));
                double forget = 1 / (1 + Math.exp(-gate[hs + j]));
                double cand = Math.tanh(gate[2 * hs + j]);
                double out = 1 / (1 + Math.exp(-gate[3 * hs + j]));
                cell[j] = forget * cell[j] + in * cand;
                state[j] = out * Math.tanh(cell[j]);
            }
            for (int v = 0; v < 4 && t * 4 + v < 17; v++) {
                double value = bo[v];
                for (int q = 0; q < hs; q++) {
                    value += state[q] * wo[q * 4 + v];
                }
                assertEquals(value, got[t * 4 + v], 1e-12, "chunk " + t + " value " + v);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        RecurrentHyperNetwork hyper = tiny();
        Params p = hyper.init(engine, RandomStream.of(5));
        Tensor ctx = engine.tensor(new double[] {0.1, 0.2, -0.4, 0.5}, 2, 2);
        GradientCheck.check(engine, p, q -> {
            Tensor sum = null;
            for (Tensor t : hyper.generate(q, ctx).values()) {
                Tensor part = t.tanh().square().sum();
                sum = sum == null ? part : sum.add(part);
            }
            return sum;
        }, 1e-6, 6, 9);
    }

    @Test
    void aBatchOfContextsEqualsOneCallPerContext() {
        RecurrentHyperNetwork hyper = tiny();
        Params h = hyper.init(engine, RandomStream.of(3));
        Tensor contexts = engine.tensor(new double[] {0.1, 0.2, -0.4, 0.5, 0.9, -0.7}, 3, 2);
        Params batched = hyper.generate(h, contexts);
        assertEquals(Shape.of(3, 2, 3), batched.get("0.weight").shape());
        for (int b = 0; b < 3; b++) {
            Params single = hyper.generate(h, contexts.slice(0, b, b + 1).reshape(2));
            for (String name : single.names()) {
                assertArrayEquals(single.get(name).toDoubles(), batched.get(name).slice(0, b, b + 1).toDoubles(), 1e-12,
                        "'" + name + "' of context " + b);
            }
        }
    }
}
