package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Ha et al.'s static hypernetwork: generator size independent of depth, block layout, gradient. */
class HaStaticHyperNetworkTest {
    private final Engine engine = HyperFixtures.engine();

    private static HaStaticHyperNetwork forDepth(int depth) {
        List<Integer> sizes = new ArrayList<>();
        sizes.add(12);
        for (int i = 0; i < depth; i++) {
            sizes.add(20);
        }
        sizes.add(5);
        HyperTarget target = new HyperTarget(Mlp.of(sizes, Activation.RELU), ParamSelection.kinds(ParamKind.WEIGHT));
        return new HaStaticHyperNetwork(target.generated(), 2, 4, 8, 6);
    }

    private static long count(List<ParamSpec> specs) {
        return specs.stream().mapToLong(s -> s.shape().size()).sum();
    }

    @Test
    void generatorParameterCountDoesNotDependOnDepth() {
        // Reference, by hand from the paper's two layers with d = 4, c = 2, chunkIn = 8, chunkOut = 6:
        // W1 (d + c)·chunkIn·d = 192, b1 chunkIn·d = 32, W2 d·chunkOut = 24, b2 chunkOut = 6.
        long generator = 192 + 32 + 24 + 6;
        for (int depth : new int[] {1, 2, 5, 9}) {
            HaStaticHyperNetwork ha = forDepth(depth);
            assertEquals(generator, count(ha.generatorParameters()), "depth " + depth);
            // Embeddings: first layer [12, 20] = 2x4 blocks, each hidden [20, 20] = 3x4, last [20, 5] = 3x1; d = 4 each.
            long blocks = 2 * 4 + (depth - 1) * 3 * 4 + 3;
            assertEquals(generator + 4 * blocks, ha.parameterCount(), "depth " + depth);
        }
    }

    @Test
    void eachBlockIsTheSharedGeneratorAppliedToItsEmbedding() {
        HaStaticHyperNetwork ha = forDepth(1);
        try (Scope s = Scope.open()) {
            Params p = ha.init(engine, RandomStream.of(3));
            double[] ctx = {0.3, -0.7};
            Params w = ha.generate(p, engine.tensor(ctx, 2));
            // Block (row tile 1, column tile 2) of layer 0's weight [12, 20], computed by hand in Java.
            double[] z = p.get("z.0.weight").toDoubles();
            double[] wz = p.get("gen.wz").toDoubles();
            double[] wc = p.get("gen.wc").toDoubles();
            double[] b1 = p.get("gen.b1").toDoubles();
            double[] w2 = p.get("gen.w2").toDoubles();
            double[] b2 = p.get("gen.b2").toDoubles();
            int d = 4;
            int cin = 8;
            int cout = 6;
            int block = 1 * 4 + 2;
            double[] got = w.get("0.weight").toDoubles();
            for (int r = 0; r < 4; r++) {            // rows 8..11 exist (12 rows)
                for (int c = 0; c < cout; c++) {
                    double k = b2[c];
                    for (int e = 0; e < d; e++) {
                        int h = r * d + e;
                        double a = b1[h];
                        for (int q = 0; q < d; q++) {
                            a += z[block * d + q] * wz[q * cin * d + h];
                        }
                        for (int q = 0; q < 2; q++) {
                            a += ctx[q] * wc[q * cin * d + h];
                        }
                        k += a * w2[e * cout + c];
                    }
                    assertEquals(k, got[(8 + r) * 20 + 12 + c], 1e-12, "row " + (8 + r) + " column " + (12 + c));
                }
            }
            assertArrayEquals(new int[] {12, 20}, w.get("0.weight").shape().dims());
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesForAWeightBatch() {
        HaStaticHyperNetwork ha = forDepth(2);
        try (Scope s = Scope.open()) {
            Params p = ha.init(engine, RandomStream.of(5));
            Tensor ctx = engine.tensor(new double[] {0.1, 0.2, -0.4, 0.5}, 2, 2);
            GradientCheck.check(engine, p, q -> {
                Tensor sum = null;
                for (Tensor t : ha.generate(q, ctx).values()) {
                    Tensor part = t.tanh().square().sum();
                    sum = sum == null ? part : sum.add(part);
                }
                return sum;
            }, 1e-6, 5, 8);
        }
    }
}
