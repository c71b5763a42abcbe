package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.ParamLayout;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
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

/** Chunked hypernetworks: a small hypernetwork for a large target, and the chunk assembly. */
class ChunkedHyperNetworkTest {
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

    @Test
    void smallHypernetworkGeneratesA784To10MlpFromChunksOf4096() {
        Mlp mlp = Mlp.of(List.of(784, 256, 256, 10), Activation.RELU);
        HyperTarget target = HyperTarget.of(mlp);
        ChunkedHyperNetwork hyper = new ChunkedHyperNetwork(target.generated(), 8, 4096, 8, List.of(32, 32), Activation.RELU,
                Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT));
        long targetCount = mlp.parameterCount();
        assertEquals(269_322, targetCount);
        assertEquals(66, hyper.chunks());
        assertTrue(hyper.parameterCount() * 1.9 < targetCount,
                "hypernetwork " + hyper.parameterCount() + " vs target " + targetCount);
        Params h = hyper.init(engine, RandomStream.of(1));
        Params generated = hyper.generate(h, HyperFixtures.uniform(engine, 2, 2, 8));
        assertEquals(2, target.weightBatch(generated));
        assertEquals(Shape.of(2, 784, 256), generated.get("0.weight").shape());
        assertEquals(Shape.of(2, 10), generated.get("2.bias").shape());
        Tensor y = target.apply(generated, Params.empty(), HyperFixtures.uniform(engine, 3, 2, 5, 784));
        assertEquals(Shape.of(2, 5, 10), y.shape());
    }

    @Test
    void chunkCIsTheGeneratorAppliedToContextAndChunkEmbeddingC() {
        // Independent reference: the generator MLP on the explicit concatenation [context, chunk c].
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(3, 4, 2), Activation.TANH)); // P = 16 + 10 = 26
        int chunk = 6;
        ChunkedHyperNetwork hyper = new ChunkedHyperNetwork(target.generated(), 2, chunk, 3, List.of(5), Activation.TANH,
                Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT));
        assertEquals(5, hyper.chunks());
        Params h = hyper.init(engine, RandomStream.of(4));
        Tensor contexts = HyperFixtures.uniform(engine, 5, 2, 2);
        Tensor flat = new ParamLayout(target.generated()).flatten(hyper.generate(h, contexts), 2);
        Mlp generator = new Mlp(List.of(5, 5, chunk), Activation.TANH, Activation.IDENTITY, Initializer.zeros());
        double[] chunks = h.get("chunks").toDoubles();
        double[] ctx = contexts.toDoubles();
        double[] got = flat.toDoubles();
        for (int b = 0; b < 2; b++) {
            for (int c = 0; c < hyper.chunks(); c++) {
                double[] input = {ctx[2 * b], ctx[2 * b + 1], chunks[3 * c], chunks[3 * c + 1], chunks[3 * c + 2]};
                double[] out = generator.apply(h.scoped("net"), engine.tensor(input, 1, 5)).toDoubles();
                for (int j = 0; j < chunk && c * chunk + j < 26; j++) {
                    assertEquals(out[j], got[b * 26 + c * chunk + j], 1e-12, "network " + b + " chunk " + c + " entry " + j);
                }
            }
        }
    }

    @Test
    void aChunkSizeThatDividesTheTargetNeedsNoTrimming() {
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(3, 4, 2), Activation.TANH)); // P = 26
        ChunkedHyperNetwork hyper = new ChunkedHyperNetwork(target.generated(), 1, 13, 2, List.of(), Activation.TANH,
                Initializer.torchDefault());
        assertEquals(2, hyper.chunks());
        Params g = hyper.generate(hyper.init(engine, RandomStream.of(1)), engine.tensor(new double[] {0.3}, 1));
        assertArrayEquals(new int[] {3, 4}, g.get("0.weight").shape().dims());
    }

    @Test
    void gradientsThroughTheTrimmedChunksMatchCentralDifferences() {
        // P = 26 from chunks of 6: five chunks, the last one's 4 trailing outputs unused. The parameters are sliced
        // out of the chunks, so the backward pass joins their cotangents and the tail's zeros (api SliceGradients).
        // Reference: float64 central differences of the loss itself, for one context and for a batch of two.
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(3, 4, 2), Activation.TANH));
        ChunkedHyperNetwork hyper = new ChunkedHyperNetwork(target.generated(), 2, 6, 3, List.of(5), Activation.TANH,
                Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT));
        Params h = hyper.init(engine, RandomStream.of(9));
        Tensor x = HyperFixtures.uniform(engine, 11, 4, 3);
        for (Tensor context : List.of(HyperFixtures.uniform(engine, 12, 2), HyperFixtures.uniform(engine, 13, 2, 2))) {
            java.util.function.Function<Params, Tensor> loss = p -> {
                Tensor y = target.apply(hyper.generate(p, context), Params.empty(), x);
                return y.mul(y.add(0.3)).sum();
            };
            Params tracked = h.requiringGrad();
            Params grads = Grad.of(loss.apply(tracked)).wrt(tracked);
            double step = 1e-6;
            for (String name : h.names()) {
                double[] base = h.get(name).toDoubles();
                double[] analytic = grads.get(name).toDoubles();
                for (int i = 0; i < base.length; i++) {
                    double up = loss.apply(with(h, name, base, i, step)).item();
                    double down = loss.apply(with(h, name, base, i, -step)).item();
                    double fd = (up - down) / (2 * step);
                    assertEquals(fd, analytic[i], 1e-6 * Math.max(1, Math.abs(fd)),
                            name + "[" + i + "] with context " + context.shape());
                }
            }
        }
    }

    /** {@code params} with entry {@code i} of {@code name} moved by {@code delta}. */
    private Params with(Params params, String name, double[] base, int i, double delta) {
        double[] moved = base.clone();
        moved[i] += delta;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : params.names()) {
            out.put(n, n.equals(name) ? engine.tensor(moved, params.get(n).shape().dims()) : params.get(n));
        }
        return Params.of(out);
    }
}
