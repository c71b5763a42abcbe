package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.ConditionedBatch;
import dev.metaforge.api.hyper.LabelledBatch;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The built-in task families against closed forms computed here in plain Java. */
class TaskFamiliesTest {
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
    void lossWeightingLossIsDistanceToOptimumPlusIrreducibleTerm() {
        ConditionedBatch batch = LossWeightingTask.standard().sample(engine, RandomStream.of(3), 4, 9);
        assertEquals(Shape.of(4, 1), batch.context().shape());
        assertEquals(Shape.of(4, 9, 1), batch.inputs().shape());
        Tensor prediction = HyperFixtures.uniform(engine, 4, 4, 9, 1);
        double[] g = prediction.toDoubles();
        double[] gamma = batch.context().toDoubles();
        double[] x = batch.inputs().toDoubles();
        double loss = 0;
        double mse = 0;
        double irreducible = 0;
        for (int i = 0; i < x.length; i++) {
            double w = gamma[i / 9];
            double a = Math.sin(x[i]);
            double b = Math.cos(2 * x[i]);
            loss += w * (g[i] - a) * (g[i] - a) + (1 - w) * (g[i] - b) * (g[i] - b);
            double best = w * a + (1 - w) * b;
            mse += (g[i] - best) * (g[i] - best);
            irreducible += w * (1 - w) * (a - b) * (a - b);
        }
        int n = x.length;
        assertEquals(loss / n, batch.loss(prediction).item(), 1e-12);
        assertEquals(mse / n, batch.metrics(prediction).get("mse"), 1e-12);
        assertEquals(loss / n, mse / n + irreducible / n, 1e-12);
    }

    @Test
    void lossWeightingEvaluationIsTheElevenByOneTwentyEightGrid() {
        ConditionedBatch eval = LossWeightingTask.standard().evaluation(engine);
        assertEquals(Shape.of(11, 128, 1), eval.inputs().shape());
        assertArrayEquals(new double[] {0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1},
                eval.context().toDoubles(), 1e-15);
        double[] x = eval.inputs().toDoubles();
        assertEquals(-Math.PI, x[0], 1e-15);
        assertEquals(Math.PI, x[127], 1e-15);
        assertEquals(0.0, eval.metrics(optimum(eval)).get("mse"), 1e-24);
    }

    private Tensor optimum(ConditionedBatch batch) {
        double[] gamma = batch.context().toDoubles();
        double[] x = batch.inputs().toDoubles();
        int n = x.length / gamma.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double w = gamma[i / n];
            y[i] = w * Math.sin(x[i]) + (1 - w) * Math.cos(2 * x[i]);
        }
        return engine.tensor(y, batch.inputs().shape().dims());
    }

    @Test
    void sinusoidFamilyScoresTheTrueFunctionAsZero() {
        SinusoidFamilyTask task = new SinusoidFamilyTask(0.1, 5.0, Math.PI, 5.0);
        ConditionedBatch batch = task.sample(engine, RandomStream.of(2), 3, 10);
        double[] c = batch.context().toDoubles();
        double[] x = batch.inputs().toDoubles();
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int b = i / 10;
            y[i] = (0.1 + c[2 * b] * 4.9) * Math.sin(x[i] - c[2 * b + 1] * Math.PI);
            assertTrue(x[i] >= -5 && x[i] <= 5);
        }
        for (double v : c) {
            assertTrue(v >= 0 && v <= 1);
        }
        assertEquals(0.0, batch.metrics(engine.tensor(y, 3, 10, 1)).get("mse"), 1e-24);
        assertEquals(Shape.of(25, 100, 1), task.evaluation(engine).inputs().shape());
    }

    @Test
    void splitBlobsTasksAreEachLinearlySeparableAndTheLastContradictsTheFirst() {
        SplitBlobsSequence tasks = new SplitBlobsSequence(5, 0.4, 400, 7);
        for (int t = 0; t < 5; t++) {
            // The closed-form classifier of task t: label 0 on the side of angle tπ/5.
            assertTrue(accuracy(tasks.evaluation(engine, t), t) > 0.95, "task " + t);
        }
        assertTrue(accuracy(tasks.evaluation(engine, 0), 4) < 0.2, "task 5's classifier on task 1");
        LabelledBatch again = tasks.evaluation(engine, 2);
        assertArrayEquals(tasks.evaluation(engine, 2).inputs().toDoubles(), again.inputs().toDoubles(), 0.0, "held-out sets are fixed");
    }

    private static double accuracy(LabelledBatch batch, int classifierTask) {
        double angle = Math.PI * classifierTask / 5;
        double[] x = batch.inputs().toDoubles();
        long[] labels = batch.labels().toLongs();
        int hits = 0;
        for (int i = 0; i < labels.length; i++) {
            long predicted = Math.cos(angle) * x[2 * i] + Math.sin(angle) * x[2 * i + 1] > 0 ? 0 : 1;
            hits += predicted == labels[i] ? 1 : 0;
        }
        return hits / (double) labels.length;
    }
}
