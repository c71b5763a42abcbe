package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.GaussianClusters;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Task samplers against the distributions they promise, recomputed independently in Java. */
class TaskSamplerTest {
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

    @Test
    void sinusoidTasksFollowTheStatedDistributionDrawForDraw() {
        SinusoidTasks sampler = SinusoidTasks.standard(10, 7);
        TaskBatch batch = sampler.sample(engine, 50, RandomStream.of(42));
        assertEquals(Shape.of(50, 10, 1), batch.supportInputs().shape());
        assertEquals(Shape.of(50, 7, 1), batch.queryTargets().shape());
        assertEquals(TaskLoss.MSE, sampler.loss());
        // Replay the documented draw order: A, phase, then support x's, then query x's, per task.
        RandomStream replay = RandomStream.of(42);
        double[] xs = batch.supportInputs().toDoubles();
        double[] ys = batch.supportTargets().toDoubles();
        double[] xq = batch.queryInputs().toDoubles();
        double[] yq = batch.queryTargets().toDoubles();
        for (int t = 0; t < 50; t++) {
            double amplitude = 0.1 + 4.9 * replay.nextDouble();
            double phase = Math.PI * replay.nextDouble();
            assertTrue(amplitude >= 0.1 && amplitude <= 5 && phase >= 0 && phase <= Math.PI);
            for (int i = 0; i < 10; i++) {
                double x = -5 + 10 * replay.nextDouble();
                assertEquals(x, xs[t * 10 + i], 0.0);
                assertEquals(amplitude * Math.sin(x - phase), ys[t * 10 + i], 1e-15);
            }
            for (int i = 0; i < 7; i++) {
                double x = -5 + 10 * replay.nextDouble();
                assertEquals(x, xq[t * 7 + i], 0.0);
                assertEquals(amplitude * Math.sin(x - phase), yq[t * 7 + i], 1e-15);
            }
        }
    }

    @Test
    void sinusoidSamplesCoverTheRangesAndRepeatPerSeed() {
        SinusoidTasks sampler = SinusoidTasks.standard(10, 10);
        double[] x = sampler.sample(engine, 400, RandomStream.of(1)).supportInputs().toDoubles();
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (double v : x) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min >= -5 && min < -4.9 && max < 5 && max > 4.9, "x range [" + min + ", " + max + "]");
        assertArrayEquals(sampler.sample(engine, 3, RandomStream.of(9)).queryTargets().toDoubles(),
                sampler.sample(engine, 3, RandomStream.of(9)).queryTargets().toDoubles(), 0.0);
        assertThrows(IllegalArgumentException.class, () -> SinusoidTasks.standard(0, 5));
    }

    /** Examples that name themselves: value [label, index within class] (labels 10, 20, ... so remapping is visible). */
    private static LabelledDataset selfDescribing(int classes, int perClass) {
        float[] values = new float[classes * perClass * 2];
        int[] labels = new int[classes * perClass];
        for (int c = 0; c < classes; c++) {
            for (int e = 0; e < perClass; e++) {
                int row = c * perClass + e;
                labels[row] = 10 * (c + 1);
                values[2 * row] = labels[row];
                values[2 * row + 1] = e;
            }
        }
        return LabelledDataset.ofFloats(values, Shape.of(2), labels);
    }

    @Test
    void fewShotEpisodesRemapClassesAndDrawDistinctExamples() {
        FewShotEpisodes episodes = new FewShotEpisodes(selfDescribing(12, 9), 5, 3, 4, true);
        int tasks = 40;
        TaskBatch batch = episodes.sample(engine, tasks, RandomStream.of(3));
        assertEquals(Shape.of(tasks, 15, 2), batch.supportInputs().shape());
        assertEquals(Shape.of(tasks, 15, 5), batch.supportTargets().shape());
        assertEquals(Shape.of(tasks, 20, 2), batch.queryInputs().shape());
        double[] sx = batch.supportInputs().toDoubles();
        double[] sy = batch.supportTargets().toDoubles();
        double[] qx = batch.queryInputs().toDoubles();
        double[] qy = batch.queryTargets().toDoubles();
        Set<String> mappings = new HashSet<>();
        for (int t = 0; t < tasks; t++) {
            double[] originalOf = new double[5];
            Set<Double> originals = new HashSet<>();
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 15; i++) {
                int c = oneHotClass(sy, (t * 15 + i) * 5, 5);
                double original = sx[(t * 15 + i) * 2];
                if (originalOf[c] == 0) {
                    originalOf[c] = original;
                    originals.add(original);
                }
                assertEquals(originalOf[c], original, 0.0, "task " + t + ": remapped class " + c + " mixes original classes");
                assertTrue(seen.add(original + "/" + sx[(t * 15 + i) * 2 + 1]), "duplicate support example in task " + t);
            }
            assertEquals(5, originals.size(), "5 distinct original classes in task " + t);
            for (int i = 0; i < 20; i++) {
                int c = oneHotClass(qy, (t * 20 + i) * 5, 5);
                assertEquals(originalOf[c], qx[(t * 20 + i) * 2], 0.0, "query label agrees with the support's remapping");
                assertTrue(seen.add(qx[(t * 20 + i) * 2] + "/" + qx[(t * 20 + i) * 2 + 1]), "query repeats an example in task " + t);
            }
            mappings.add(java.util.Arrays.toString(originalOf));
        }
        assertTrue(mappings.size() > tasks / 2, "class choices and label orders vary across tasks: " + mappings.size() + " distinct");
    }

    @Test
    void everyClassAppearsUnderEveryRemappedLabel() {
        FewShotEpisodes episodes = new FewShotEpisodes(selfDescribing(6, 3), 3, 1, 1, true);
        TaskBatch batch = episodes.sample(engine, 600, RandomStream.of(5));
        double[] sx = batch.supportInputs().toDoubles();
        double[] sy = batch.supportTargets().toDoubles();
        Set<String> pairs = new HashSet<>();
        for (int i = 0; i < 600 * 3; i++) {
            pairs.add(sx[2 * i] + "->" + oneHotClass(sy, i * 3, 3));
        }
        assertEquals(6 * 3, pairs.size(), "each of 6 classes seen as each of 3 labels: " + pairs);
    }

    @Test
    void fewShotKeepsTheExampleShapeWhenNotFlattening() {
        float[] values = new float[4 * 3 * 2 * 2];
        int[] labels = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3};
        FewShotEpisodes episodes = new FewShotEpisodes(LabelledDataset.ofFloats(values, Shape.of(2, 2), labels), 2, 1, 2, false);
        TaskBatch batch = episodes.sample(engine, 3, RandomStream.of(0));
        assertEquals(Shape.of(3, 2, 2, 2), batch.supportInputs().shape());
        assertEquals(4, episodes.classCount());
    }

    @Test
    void tooFewUsableClassesIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FewShotEpisodes(selfDescribing(4, 3), 5, 1, 1, true));
        assertTrue(e.getMessage().contains("5 classes with at least 2 examples"), e.getMessage());
        IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
                () -> new FewShotEpisodes(selfDescribing(8, 3), 5, 2, 2, true));
        assertTrue(few.getMessage().contains("only 0 such classes"), few.getMessage());
    }

    @Test
    void taskBatchRejectsMismatchedShapes() {
        var x = engine.zeros(2, 3, 1);
        var y = engine.zeros(3, 3, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TaskBatch(x, y, x, x));
        assertTrue(e.getMessage().contains("supportTargets"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TaskBatch(x, engine.zeros(2, 4, 1), x, x));
    }

    @Test
    void gaussianClustersAreDeterminedByClassIndexAlone() {
        LabelledDataset all = GaussianClusters.generate(7, 0, 10, 4, 3, 2, 0.3, 2.0);
        LabelledDataset tail = GaussianClusters.generate(7, 6, 10, 4, 3, 2, 0.3, 2.0);
        assertEquals(Shape.of(5), all.exampleShape());
        float[] a = new float[5];
        float[] b = new float[5];
        for (int i = 0; i < tail.size(); i++) {
            all.copyExample(24 + i, a, 0);
            tail.copyExample(i, b, 0);
            assertArrayEquals(a, b, 0f, "example " + i + " of class " + tail.label(i));
            assertEquals(all.label(24 + i), tail.label(i));
        }
        assertEquals(List.of(6, 6, 6, 6, 7), List.of(tail.label(0), tail.label(1), tail.label(2), tail.label(3), tail.label(4)));
        assertNotEquals(all.label(0), all.label(4));
    }

    private static int oneHotClass(double[] oneHot, int from, int classes) {
        int found = -1;
        for (int c = 0; c < classes; c++) {
            if (oneHot[from + c] == 1.0) {
                assertEquals(-1, found, "one-hot row with two ones");
                found = c;
            } else {
                assertEquals(0.0, oneHot[from + c], 0.0);
            }
        }
        assertTrue(found >= 0, "one-hot row without a one");
        return found;
    }
}
