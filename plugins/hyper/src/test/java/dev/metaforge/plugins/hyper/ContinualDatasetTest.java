package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.ElementType;
import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.IdxArray;
import dev.metaforge.api.hyper.LabelledBatch;
import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.hyper.TaskSequenceSpec;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Permuted and Split task sequences over small IDX files written here; every input and label is checked against
 * the pixel values and labels this test wrote (float64), not against the reader.
 */
class ContinualDatasetTest {
    private static final int SIDE = 3;
    private static final int PIXELS = SIDE * SIDE;
    private static final int CLASSES = 4;
    private static final double MEAN = 0.3;
    private static final double STD = 0.5;

    @TempDir
    Path dir;

    private final SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private double[] testPixels;
    private double[] testLabels;

    @BeforeEach
    void writeData() throws IOException {
        write("train", 120, 1);
        double[][] test = write("test", 40, 2);
        testPixels = test[0];
        testLabels = test[1];
    }

    private double[][] write(String prefix, int count, long seed) throws IOException {
        RandomStream rng = RandomStream.of(seed);
        double[] pixels = new double[count * PIXELS];
        double[] labels = new double[count];
        for (int i = 0; i < count; i++) {
            labels[i] = (i * 7) % CLASSES;
            for (int j = 0; j < PIXELS; j++) {
                pixels[i * PIXELS + j] = Math.floor(255 * rng.nextDouble());
            }
        }
        Idx.write(dir.resolve(prefix + "-images.gz"), IdxArray.of(ElementType.UBYTE, new int[] {count, SIDE, SIDE}, pixels));
        Idx.write(dir.resolve(prefix + "-labels.gz"), IdxArray.of(ElementType.UBYTE, new int[] {count}, labels));
        return new double[][] {pixels, labels};
    }

    private static String data(String prefix) {
        return "{\"type\": \"idx\", \"images\": \"" + prefix + "-images.gz\", \"labels\": \"" + prefix + "-labels.gz\"}";
    }

    private TaskSequence sequence(String json) {
        TaskSequenceSpec spec = specs.read(json, TaskSequenceSpec.class, "tasks.json");
        assertEquals(spec, specs.read(specs.write(spec), TaskSequenceSpec.class, "written"), "spec round trip");
        return spec.build(new BuildContext(engine, specs, dir, 0));
    }

    private String permuted(long seed) {
        return "{\"type\": \"permuted\", \"train\": " + data("train") + ", \"test\": " + data("test") + ", \"tasks\": 3, \"mean\": "
                + MEAN + ", \"std\": " + STD + ", \"evaluationSize\": 25, \"seed\": " + seed + "}";
    }

    @Test
    void permutedTasksShuffleThePixelsOfTheSameExamples() {
        TaskSequence tasks = sequence(permuted(4));
        assertEquals(3, tasks.tasks());
        assertEquals(PIXELS, tasks.inputSize());
        assertEquals(CLASSES, tasks.classes());
        try (Scope s = Scope.open()) {
            LabelledBatch plain = tasks.evaluation(engine, 0);
            double[] x = plain.inputs().toDoubles();
            long[] labels = plain.labels().toLongs();
            assertEquals(25, labels.length);
            // Task 0 is the data itself: find each held-out row among the written test rows.
            int[] rows = new int[labels.length];
            for (int i = 0; i < labels.length; i++) {
                rows[i] = findRow(Arrays.copyOfRange(x, i * PIXELS, (i + 1) * PIXELS));
                assertEquals((long) testLabels[rows[i]], labels[i], "label of held-out row " + i);
            }
            assertEquals(25, Arrays.stream(rows).distinct().count(), "held-out rows are distinct");
            int[] permutation = ((DatasetTaskSequence) tasks).permutation(1);
            assertArrayEquals(java.util.stream.IntStream.range(0, PIXELS).toArray(), Arrays.stream(permutation).sorted().toArray());
            assertFalse(Arrays.equals(permutation, java.util.stream.IntStream.range(0, PIXELS).toArray()), "task 1 is permuted");
            double[] shuffled = tasks.evaluation(engine, 1).inputs().toDoubles();
            for (int i = 0; i < labels.length; i++) {
                for (int j = 0; j < PIXELS; j++) {
                    assertEquals(x[i * PIXELS + permutation[j]], shuffled[i * PIXELS + j], 0.0, "row " + i + " pixel " + j);
                }
            }
            assertArrayEquals(labels, tasks.evaluation(engine, 1).labels().toLongs(), "every task keeps the labels");
            assertFalse(Arrays.equals(permutation, ((DatasetTaskSequence) tasks).permutation(2)), "each task its own permutation");
        }
        assertArrayEquals(((DatasetTaskSequence) tasks).permutation(1), ((DatasetTaskSequence) sequence(permuted(4))).permutation(1),
                "the seed fixes the permutations");
        assertFalse(Arrays.equals(((DatasetTaskSequence) tasks).permutation(1), ((DatasetTaskSequence) sequence(permuted(5))).permutation(1)));
    }

    /** The written test row whose normalised pixels are {@code normalised}. */
    private int findRow(double[] normalised) {
        for (int row = 0; row * PIXELS < testPixels.length; row++) {
            boolean same = true;
            for (int j = 0; j < PIXELS && same; j++) {
                same = Math.abs((testPixels[row * PIXELS + j] / 255 - MEAN) / STD - normalised[j]) < 1e-12;
            }
            if (same) {
                return row;
            }
        }
        throw new AssertionError("no written test row normalises to " + Arrays.toString(normalised));
    }

    @Test
    void splitTasksHoldTheirOwnClassesRenumbered() {
        TaskSequence tasks = sequence("{\"type\": \"split\", \"train\": " + data("train") + ", \"test\": " + data("test")
                + ", \"classesPerTask\": 2, \"mean\": " + MEAN + ", \"std\": " + STD + "}");
        assertEquals(2, tasks.tasks());
        assertEquals(2, tasks.classes());
        try (Scope s = Scope.open()) {
            for (int task = 0; task < 2; task++) {
                LabelledBatch held = tasks.evaluation(engine, task);
                double[] x = held.inputs().toDoubles();
                long[] labels = held.labels().toLongs();
                long expectedCount = Arrays.stream(testLabels).filter(l -> l >= 0).filter(l -> (int) l / 2 == 0).count();
                assertEquals(task == 0 ? expectedCount : testLabels.length - expectedCount, labels.length,
                        "every test example of the task's classes (fewer than evaluationSize)");
                for (int i = 0; i < labels.length; i++) {
                    int row = findRow(Arrays.copyOfRange(x, i * PIXELS, (i + 1) * PIXELS));
                    assertEquals((long) testLabels[row] - 2L * task, labels[i], "task " + task + " renumbers class " + testLabels[row]);
                }
                LabelledBatch batch = tasks.sample(engine, task, RandomStream.of(3), 16);
                assertTrue(Arrays.stream(batch.labels().toLongs()).allMatch(l -> l == 0 || l == 1));
            }
        }
    }

    @Test
    void badSequencesAreRefusedWithTheirReason() {
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class, () -> sequence("{\"type\": \"split\", \"train\": "
                + data("train") + ", \"test\": " + data("test") + ", \"classesPerTask\": 2, \"tasks\": 3}"));
        assertTrue(tooMany.getMessage().contains("4 classes make only 2 tasks of 2 classes, not 3"), tooMany.getMessage());
        SpecException field = assertThrows(SpecException.class, () -> specs.read("{\"type\": \"permuted\", \"train\": " + data("train")
                + ", \"test\": " + data("test") + ", \"classesPerTask\": 2}", TaskSequenceSpec.class, "tasks.json"));
        assertTrue(field.getMessage().contains("classesPerTask"), field.getMessage());
        SpecException missing = assertThrows(SpecException.class,
                () -> specs.read("{\"type\": \"split\", \"train\": " + data("train") + "}", TaskSequenceSpec.class, "tasks.json"));
        assertTrue(missing.getMessage().contains("'test' is required"), missing.getMessage());
    }

    @Test
    void aHypernetworkLearnsThePermutedTasksOneAfterAnother() {
        String json = "{\"type\": \"continual\", \"target\": {\"type\": \"mlp\", \"sizes\": [9, 6, 4], \"activation\": \"relu\"},"
                + " \"hypernetwork\": {\"type\": \"task-conditioned\", \"tasks\": 3, \"embeddingSize\": 4, \"hidden\": [8]},"
                + " \"tasks\": " + permuted(4) + ", \"stepsPerTask\": 4, \"batchSize\": 8}";
        ExperimentSpec spec = specs.read(json, ExperimentSpec.class, "continual.json");
        Objective objective = spec.build(new BuildContext(engine, specs, dir, 0));
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(1e-2), 1)) {
            for (int i = 0; i < 12; i++) {
                assertTrue(Double.isFinite(loop.step()));
            }
            Map<String, Double> eval = loop.evaluate();
            assertTrue(eval.keySet().containsAll(java.util.List.of("task1.accuracy", "task2.accuracy", "task3.accuracy", "accuracy")),
                    eval.toString());
        }
    }
}
