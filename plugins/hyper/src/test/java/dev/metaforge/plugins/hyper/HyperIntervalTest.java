package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.Interval;
import dev.metaforge.api.hyper.IntervalBounds;
import dev.metaforge.api.hyper.IntervalParams;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HyperInterval: interval embeddings, soundness of interval propagation (every sampled point's
 * image lies in the propagated bounds: the independent reference is plain point evaluation), and
 * the universal embedding.
 */
class HyperIntervalTest {
    private Engine engine;
    private Scope scope;
    private HyperTarget target;
    private HyperIntervalNetwork hyper;
    private Params h;

    @BeforeEach
    void open() {
        engine = HyperFixtures.engine();
        scope = Scope.open();
        target = HyperTarget.of(Mlp.of(List.of(2, 5, 3), Activation.RELU));
        hyper = new HyperIntervalNetwork(target.generated(), 4, 3, List.of(6, 6), Activation.RELU, 0.8);
        h = hyper.init(engine, RandomStream.of(8));
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void embeddingIntervalsHaveRadiiSummingToEpsilonAndCentresInTheSigmaBox() {
        Interval e = hyper.embeddingInterval(h, hyper.taskIds(engine, 0, 1, 2, 3));
        double sigma = 0.5 * 0.8 / 3;
        double[] r = e.radius().toDoubles();
        double[] c = e.center().toDoubles();
        for (int t = 0; t < 4; t++) {
            assertEquals(0.8, r[3 * t] + r[3 * t + 1] + r[3 * t + 2], 1e-12, "radii of task " + t);
            for (int j = 0; j < 3; j++) {
                assertTrue(Math.abs(c[3 * t + j]) <= sigma + 1e-15 && r[3 * t + j] > 0);
            }
        }
    }

    @Test
    void everyEmbeddingInsideTheIntervalGeneratesWeightsInsideTheWeightInterval() {
        SplittableRandom random = new SplittableRandom(3);
        for (int task = 0; task < 4; task++) {
            Tensor id = hyper.taskIds(engine, task).reshape();
            Interval emb = hyper.embeddingInterval(h, id);
            IntervalParams box = hyper.generateInterval(h, id);
            Params lower = box.lower();
            Params upper = box.upper();
            double[] c = emb.center().toDoubles();
            double[] r = emb.radius().toDoubles();
            for (int s = 0; s < 30; s++) {
                double[] point = new double[3];
                for (int j = 0; j < 3; j++) {
                    // Corners and interior points.
                    double u = s < 8 ? ((s >> j) & 1) * 2 - 1 : 2 * random.nextDouble() - 1;
                    point[j] = c[j] + u * r[j];
                }
                Params w = hyper.generateFromEmbedding(h, engine.tensor(point, 3));
                assertInside(w, lower, upper, "task " + task + " sample " + s);
            }
        }
    }

    @Test
    void targetOutputsForWeightsInsideTheIntervalLieInsideThePropagatedBounds() {
        Tensor x = HyperFixtures.uniform(engine, 4, 7, 2);
        IntervalParams box = hyper.generateInterval(h, hyper.taskIds(engine, 1).reshape());
        Interval out = IntervalBounds.applyToPoint(target.module(), box, x);
        double[] lo = out.lower().toDoubles();
        double[] hi = out.upper().toDoubles();
        SplittableRandom random = new SplittableRandom(5);
        for (int s = 0; s < 40; s++) {
            Map<String, Tensor> w = new LinkedHashMap<>();
            for (String name : box.center().names()) {
                double[] c = box.center().get(name).toDoubles();
                double[] r = box.radius().get(name).toDoubles();
                double[] v = new double[c.length];
                for (int i = 0; i < c.length; i++) {
                    v[i] = c[i] + (2 * random.nextDouble() - 1) * r[i];
                }
                w.put(name, engine.tensor(v, box.center().get(name).shape().dims()));
            }
            double[] y = target.module().apply(Params.of(w), x).toDoubles();
            for (int i = 0; i < y.length; i++) {
                assertTrue(y[i] >= lo[i] - 1e-12 && y[i] <= hi[i] + 1e-12, "output " + i + " = " + y[i] + " outside [" + lo[i] + ", " + hi[i] + "]");
            }
        }
    }

    @Test
    void intervalInputsThroughSequentialAreSound() {
        Sequential net = Sequential.of(Linear.of(2, 4), Activation.SIGMOID, Linear.of(4, 2));
        Params p = net.init(engine, RandomStream.of(2));
        Tensor c = HyperFixtures.uniform(engine, 6, 5, 2);
        Tensor r = engine.full(c.shape(), 0.1, c.dtype());
        Interval out = IntervalBounds.apply(net, IntervalParams.point(p), new Interval(c, r));
        double[] lo = out.lower().toDoubles();
        double[] hi = out.upper().toDoubles();
        SplittableRandom random = new SplittableRandom(6);
        for (int s = 0; s < 30; s++) {
            Tensor x = c.add(HyperFixtures.uniform(engine, random.nextLong(), 5, 2).mul(0.1));
            double[] y = net.apply(p, x).toDoubles();
            for (int i = 0; i < y.length; i++) {
                assertTrue(y[i] >= lo[i] - 1e-12 && y[i] <= hi[i] + 1e-12);
            }
        }
        Sequential bad = Sequential.of(Linear.of(2, 2), Activation.SIN);
        UnsupportedOperationException sin = assertThrows(UnsupportedOperationException.class,
                () -> IntervalBounds.apply(bad, IntervalParams.point(bad.init(engine, RandomStream.of(1))), new Interval(c, r)));
        assertTrue(sin.getMessage().contains("monotone"), sin.getMessage());
    }

    @Test
    void universalEmbeddingLiesInEveryTaskIntervalAndItsNetworkInEveryWeightInterval() {
        Tensor u = hyper.universalEmbedding(h, 4);
        Interval all = hyper.embeddingInterval(h, hyper.taskIds(engine, 0, 1, 2, 3));
        double[] lo = all.lower().toDoubles();
        double[] hi = all.upper().toDoubles();
        double[] uv = u.toDoubles();
        Interval inter = hyper.universalInterval(h, 4);
        boolean intersects = true;
        for (double rr : inter.radius().toDoubles()) {
            intersects &= rr > 0;
        }
        // Centres lie within ±σ and each radius sums to ε ≫ 2σ here, so the intervals intersect.
        assertTrue(intersects, "the task intervals should intersect for ε = 0.8, e = 3");
        for (int t = 0; t < 4; t++) {
            for (int j = 0; j < 3; j++) {
                assertTrue(uv[j] >= lo[3 * t + j] && uv[j] <= hi[3 * t + j], "universal embedding outside task " + t + " on axis " + j);
            }
        }
        Params universal = hyper.generateFromEmbedding(h, u);
        for (int t = 0; t < 4; t++) {
            IntervalParams box = hyper.generateInterval(h, hyper.taskIds(engine, t).reshape());
            assertInside(universal, box.lower(), box.upper(), "universal network vs task " + t);
        }
    }

    @Test
    void midpointWeightsAreTheCentreOfTheGeneratedInterval() {
        Tensor ids = hyper.taskIds(engine, 0, 2);
        Params mid = hyper.generate(h, ids);
        IntervalParams box = hyper.generateInterval(h, ids);
        for (String n : mid.names()) {
            double[] a = mid.get(n).toDoubles();
            double[] b = box.lower().get(n).add(box.upper().get(n)).mul(0.5).toDoubles();
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], 1e-12);
            }
        }
    }

    private static void assertInside(Params w, Params lower, Params upper, String what) {
        for (String name : w.names()) {
            double[] v = w.get(name).toDoubles();
            double[] lo = lower.get(name).toDoubles();
            double[] hi = upper.get(name).toDoubles();
            for (int i = 0; i < v.length; i++) {
                assertTrue(v[i] >= lo[i] - 1e-12 && v[i] <= hi[i] + 1e-12,
                        what + ": '" + name + "'[" + i + "] = " + v[i] + " outside [" + lo[i] + ", " + hi[i] + "]");
            }
        }
    }
}
