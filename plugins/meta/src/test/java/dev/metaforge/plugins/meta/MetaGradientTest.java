package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.GaussianClusters;
import dev.metaforge.api.meta.MetaGradientCheck;
import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Meta-gradients against independent references, in float64 on the pure-Java reference backend:
 * central finite differences of the post-adaptation loss (second-order MAML, Meta-SGD's learning
 * rates, ANIL, prototypical networks), and Java loops over single tasks (batched adaptation,
 * FOMAML, Reptile).
 */
class MetaGradientTest {
    private static final double H = 1e-6;
    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static Mlp tinyTanh() {
        return Mlp.of(List.of(1, 5, 5, 1), Activation.TANH);
    }

    private TaskBatch sinusoids(int tasks, int k, long seed) {
        return SinusoidTasks.standard(k, k).sample(engine, tasks, RandomStream.of(seed));
    }

    @Test
    void secondOrderMamlMatchesFiniteDifferencesThroughSeveralInnerSteps() {
        Maml maml = new Maml(tinyTanh(), TaskLoss.MSE, 3, 0.05, false);
        Params theta = maml.init(engine, RandomStream.of(3));
        TaskBatch batch = sinusoids(3, 4, 11);
        Params analytic = maml.metaGradient(theta, batch);
        Params numeric = MetaGradientCheck.finiteDifference(maml, theta, batch, H);
        double error = MetaGradientCheck.maxRelativeError(analytic, numeric, 1e-3);
        assertTrue(error < 1e-6, "second-order MAML vs finite differences: max relative error " + error);
    }

    @Test
    void firstOrderMamlDiffersFromTheTrueMetaGradient() {
        Maml exact = new Maml(tinyTanh(), TaskLoss.MSE, 3, 0.05, false);
        Maml firstOrder = new Maml(tinyTanh(), TaskLoss.MSE, 3, 0.05, true);
        Params theta = exact.init(engine, RandomStream.of(3));
        TaskBatch batch = sinusoids(3, 4, 11);
        Params numeric = MetaGradientCheck.finiteDifference(exact, theta, batch, H);
        Params fo = firstOrder.metaGradient(theta, batch);
        double error = MetaGradientCheck.maxRelativeError(fo, numeric, 1e-3);
        // The Hessian terms FOMAML drops are not small at this inner rate: a clear, measurable gap.
        assertTrue(error > 1e-2, "FOMAML should differ from the true meta-gradient, max relative difference " + error);
        double cosine = MetaGradientCheck.dot(fo, numeric)
                / Math.sqrt(MetaGradientCheck.dot(fo, fo) * MetaGradientCheck.dot(numeric, numeric));
        assertTrue(cosine > 0.5, "FOMAML should still point roughly along the meta-gradient, cosine " + cosine);
    }

    @Test
    void secondOrderMamlOnTheReluSinusoidNetworkMatchesDirectionalDifferences() {
        Maml maml = new Maml(Mlp.of(List.of(1, 40, 40, 1), Activation.RELU), TaskLoss.MSE, 1, 0.01, false);
        Params theta = maml.init(engine, RandomStream.of(5));
        TaskBatch batch = sinusoids(5, 10, 13);
        Params analytic = maml.metaGradient(theta, batch);
        for (long seed = 0; seed < 3; seed++) {
            Params direction = randomLike(theta, 100 + seed);
            // A small step keeps the difference from straddling a ReLU kink (the loss is piecewise smooth).
            double numeric = MetaGradientCheck.directionalDerivative(maml, theta, direction, batch, 1e-8);
            double predicted = MetaGradientCheck.dot(analytic, direction);
            assertEquals(numeric, predicted, 1e-6 * Math.max(1, Math.abs(numeric)), "directional derivative along direction " + seed);
        }
    }

    @Test
    void batchedAdaptationEqualsAdaptingEachTaskAlone() {
        Maml maml = new Maml(tinyTanh(), TaskLoss.MSE, 2, 0.1, false);
        Params theta = maml.init(engine, RandomStream.of(4));
        TaskBatch batch = sinusoids(4, 6, 17);
        Params adapted = maml.adapt(theta, batch);
        for (int t = 0; t < batch.tasks(); t++) {
            Params alone = manualSgd(tinyTanh(), theta, task(batch, t), 2, 0.1);
            for (String name : theta.names()) {
                assertArrayEquals(alone.get(name).toDoubles(), adapted.get(name).slice(0, t, t + 1).squeeze(0).toDoubles(), 1e-12,
                        "task " + t + " parameter " + name);
            }
        }
    }

    @Test
    void firstOrderMamlEqualsTheMeanQueryGradientAtEachTasksAdaptedWeights() {
        Maml fo = new Maml(tinyTanh(), TaskLoss.MSE, 2, 0.1, true);
        Params theta = fo.init(engine, RandomStream.of(4));
        TaskBatch batch = sinusoids(4, 6, 19);
        Params analytic = fo.metaGradient(theta, batch);
        Map<String, double[]> expected = new LinkedHashMap<>();
        for (int t = 0; t < batch.tasks(); t++) {
            TaskBatch one = task(batch, t);
            Params phi = manualSgd(tinyTanh(), theta, one, 2, 0.1).requiringGrad();
            Tensor queryLoss = tinyTanh().apply(phi, one.queryInputs().squeeze(0)).sub(one.queryTargets().squeeze(0)).square().mean();
            Params g = Grad.of(queryLoss).wrt(phi);
            for (String name : theta.names()) {
                double[] acc = expected.computeIfAbsent(name, n -> new double[(int) theta.get(n).size()]);
                double[] gi = g.get(name).toDoubles();
                for (int i = 0; i < acc.length; i++) {
                    acc[i] += gi[i] / batch.tasks();
                }
            }
        }
        for (String name : theta.names()) {
            assertArrayEquals(expected.get(name), analytic.get(name).toDoubles(), 1e-12, name);
        }
    }

    @Test
    void metaSgdLearningRateGradientsMatchFiniteDifferences() {
        MetaSgd metaSgd = new MetaSgd(tinyTanh(), TaskLoss.MSE, 2, 0.05, false);
        Params theta = metaSgd.init(engine, RandomStream.of(6));
        // Move the rates off their common start so each one matters individually.
        theta = theta.mapNamed((n, t) -> n.startsWith(MetaSgd.RATE_PREFIX) ? t.mul(engine.uniform(t.shape(), 0.5, 1.5, n.hashCode())) : t);
        assertEquals(2 * tinyTanh().parameters().size(), theta.size(), "one learning rate tensor per parameter");
        TaskBatch batch = sinusoids(3, 4, 23);
        Params analytic = metaSgd.metaGradient(theta, batch);
        Params numeric = MetaGradientCheck.finiteDifference(metaSgd, theta, batch, H);
        double error = MetaGradientCheck.maxRelativeError(analytic, numeric, 1e-3);
        assertTrue(error < 1e-6, "Meta-SGD vs finite differences (rates included): max relative error " + error);
        assertTrue(norm(analytic.filter(n -> n.startsWith(MetaSgd.RATE_PREFIX))) > 1e-3, "the rates get a real gradient");
    }

    @Test
    void anilMetaGradientMatchesFiniteDifferencesAndLeavesTheBodyUnadapted() {
        Anil anil = Anil.withLastLayerHead(tinyTanh(), TaskLoss.MSE, 2, 0.1, false);
        assertEquals(List.of("2.weight", "2.bias"), List.copyOf(anil.headNames()));
        Params theta = anil.init(engine, RandomStream.of(8));
        TaskBatch batch = sinusoids(3, 4, 29);
        Params analytic = anil.metaGradient(theta, batch);
        Params numeric = MetaGradientCheck.finiteDifference(anil, theta, batch, H);
        double error = MetaGradientCheck.maxRelativeError(analytic, numeric, 1e-3);
        assertTrue(error < 1e-6, "ANIL vs finite differences: max relative error " + error);
        Params adapted = anil.adapt(theta, batch);
        for (int t = 0; t < 3; t++) {
            assertArrayEquals(theta.get("0.weight").toDoubles(), adapted.get("0.weight").slice(0, t, t + 1).toDoubles(), 0.0);
        }
        double headMoved = adapted.get("2.weight").sub(theta.get("2.weight")).abs().sum().item();
        assertTrue(headMoved > 1e-4, "the head adapts, moved " + headMoved);
    }

    @Test
    void reptileGradientIsThetaMinusTheMeanOfIndependentlyAdaptedWeights() {
        Reptile reptile = new Reptile(tinyTanh(), TaskLoss.MSE, 3, 0.05);
        Params theta = reptile.init(engine, RandomStream.of(9));
        TaskBatch batch = sinusoids(4, 5, 31);
        Params analytic = reptile.metaGradient(theta, batch);
        List<Params> adapted = new ArrayList<>();
        for (int t = 0; t < batch.tasks(); t++) {
            adapted.add(manualSgd(tinyTanh(), theta, task(batch, t), 3, 0.05));
        }
        for (String name : theta.names()) {
            double[] expected = theta.get(name).toDoubles();
            for (Params phi : adapted) {
                double[] v = phi.get(name).toDoubles();
                for (int i = 0; i < expected.length; i++) {
                    expected[i] -= v[i] / adapted.size();
                }
            }
            assertArrayEquals(expected, analytic.get(name).toDoubles(), 1e-12, name);
        }
    }

    @Test
    void prototypicalNetworkGradientMatchesFiniteDifferencesAndPrototypesAreClassMeans() {
        Mlp embedding = Mlp.of(List.of(6, 5, 3), Activation.TANH);
        PrototypicalNetwork protonet = new PrototypicalNetwork(embedding);
        Params theta = protonet.init(engine, RandomStream.of(10));
        FewShotEpisodes episodes = new FewShotEpisodes(GaussianClusters.generate(1, 0, 8, 6, 3, 3, 0.5, 1.0), 3, 2, 2, true);
        TaskBatch batch = episodes.sample(engine, 2, RandomStream.of(12));
        Params analytic = protonet.metaGradient(theta, batch);
        Params numeric = MetaGradientCheck.finiteDifference(protonet, theta, batch, H);
        double error = MetaGradientCheck.maxRelativeError(analytic, numeric, 1e-3);
        assertTrue(error < 1e-6, "prototypical network vs finite differences: max relative error " + error);

        // Prototype of class c in task t: the mean embedding of its support examples, by a Java loop.
        Tensor prototypes = protonet.adapt(theta, batch).get(PrototypicalNetwork.PROTOTYPES);
        double[] z = embedding.apply(theta, batch.supportInputs().reshape(-1, 6)).toDoubles();
        double[] y = batch.supportTargets().toDoubles();
        double[] got = prototypes.toDoubles();
        int n = batch.supportSize();
        for (int t = 0; t < 2; t++) {
            for (int c = 0; c < 3; c++) {
                for (int d = 0; d < 3; d++) {
                    double sum = 0;
                    int count = 0;
                    for (int i = 0; i < n; i++) {
                        if (y[(t * n + i) * 3 + c] == 1.0) {
                            sum += z[(t * n + i) * 3 + d];
                            count++;
                        }
                    }
                    assertEquals(2, count);
                    assertEquals(sum / count, got[(t * 3 + c) * 3 + d], 1e-12);
                }
            }
        }
    }

    /** Task t of a batch as a batch of one. */
    private static TaskBatch task(TaskBatch batch, int t) {
        return new TaskBatch(batch.supportInputs().slice(0, t, t + 1), batch.supportTargets().slice(0, t, t + 1),
                batch.queryInputs().slice(0, t, t + 1), batch.queryTargets().slice(0, t, t + 1));
    }

    /** Plain SGD on one task's support set with the unbatched module: the reference for the batched inner loop. */
    private static Params manualSgd(Mlp module, Params theta, TaskBatch one, int steps, double lr) {
        Params phi = theta.stopGradient();
        Tensor x = one.supportInputs().squeeze(0);
        Tensor y = one.supportTargets().squeeze(0);
        for (int s = 0; s < steps; s++) {
            Params leaf = phi.requiringGrad();
            Params g = Grad.of(module.apply(leaf, x).sub(y).square().mean()).wrt(leaf);
            phi = phi.zip(g, (p, gi) -> p.sub(gi.mul(lr)));
        }
        return phi;
    }

    private Params randomLike(Params like, long seed) {
        RandomStream rng = RandomStream.of(seed);
        return like.map(t -> engine.normal(t.shape(), 0, 1, rng.nextSeed()));
    }

    private static double norm(Params p) {
        return Math.sqrt(MetaGradientCheck.dot(p, p));
    }

    @Test
    void metaLearnerInterfaceDefaultsAreConsistent() {
        MetaLearner maml = new Maml(tinyTanh(), TaskLoss.MSE, 1, 0.01, false);
        Params theta = maml.init(engine, RandomStream.of(1));
        assertEquals(tinyTanh().parameters().size(), theta.size(), "MAML declares no extra meta-parameters");
        TaskBatch batch = sinusoids(2, 3, 1);
        Params adapted = maml.adapt(theta, batch, 0);
        assertEquals(List.of(2, 1, 5), List.of(adapted.get("0.weight").shape().dims()[0], adapted.get("0.weight").dim(1),
                adapted.get("0.weight").dim(2)), "zero steps: the meta-parameters broadcast to [T, ...]");
    }
}
