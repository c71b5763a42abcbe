package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.hyper.LabelledBatch;
import dev.metaforge.api.hyper.TaskSequence;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The two classic continual-learning benchmarks built from a labelled image dataset (Fashion-MNIST from
 * Debian's package, in the examples), as in van de Ven and Tolias's "Three scenarios for continual learning"
 * and von Oswald et al.'s hypernetwork experiments:
 * <ul>
 *   <li><b>Permuted</b>: task t is the whole dataset with its pixels shuffled by a fixed permutation
 *       (task 0: none), all classes in every task. The tasks share nothing a network can reuse pixel by
 *       pixel, so one set of weights trained on them in turn forgets the earlier ones.</li>
 *   <li><b>Split</b>: the classes are cut into consecutive groups of {@code classesPerTask}; task t
 *       classifies its own group, with labels renumbered 0..classesPerTask-1 (the task-incremental
 *       scenario: the task is known at test time, and each task has its own generated weights).</li>
 * </ul>
 * Inputs are flattened and normalised, {@code (x - mean) / std}. Held-out sets are fixed: a seeded
 * choice of {@code evaluationSize} test examples of the task (all of them when there are fewer); training
 * batches are drawn uniformly from the task's training examples with the step's random stream.
 */
final class DatasetTaskSequence implements TaskSequence {
    /** Which benchmark. */
    enum Kind { PERMUTED, SPLIT }

    private final LabelledDataset train;
    private final LabelledDataset test;
    private final int classes;
    private final int inputSize;
    private final int[][] trainRows;
    private final int[][] evaluationRows;
    private final int[][] permutations;
    private final int[][] localLabel;
    private final double mean;
    private final double std;

    DatasetTaskSequence(Kind kind, LabelledDataset train, LabelledDataset test, int tasks, int classesPerTask, double mean,
                        double std, int evaluationSize, long seed) {
        this.train = requireNonNull(train, "train is null");
        this.test = requireNonNull(test, "test is null");
        if (train.exampleSize() != test.exampleSize()) {
            throw new IllegalArgumentException("the training examples have " + train.exampleSize() + " values and the test examples "
                    + test.exampleSize() + "; both sets must have the same shape");
        }
        if (!(std > 0) || !Double.isFinite(mean)) {
            throw new IllegalArgumentException("need a finite mean and std > 0, got mean " + mean + ", std " + std);
        }
        this.inputSize = train.exampleSize();
        this.mean = mean;
        this.std = std;
        int[] allClasses = train.classes();
        SplittableRandom random = new SplittableRandom(seed);
        if (kind == Kind.PERMUTED) {
            this.classes = allClasses.length == 0 ? 0 : Arrays.stream(allClasses).max().getAsInt() + 1;
            this.trainRows = new int[tasks][];
            this.evaluationRows = new int[tasks][];
            this.permutations = new int[tasks][];
            this.localLabel = new int[tasks][];
            int[] everyTrain = range(train.size());
            int[] held = choose(range(test.size()), evaluationSize, new SplittableRandom(seed ^ 0x5DEECE66DL));
            int[] identityLabels = range(classes);
            for (int t = 0; t < tasks; t++) {
                trainRows[t] = everyTrain;
                evaluationRows[t] = held;
                permutations[t] = t == 0 ? null : shuffled(range(inputSize), random);
                localLabel[t] = identityLabels;
            }
        } else {
            if (allClasses.length / classesPerTask < 1) {
                throw new IllegalArgumentException("split: " + allClasses.length + " classes make no task of "
                        + classesPerTask + " classes; lower classesPerTask");
            }
            int count = allClasses.length / classesPerTask;
            if (tasks > count) {
                throw new IllegalArgumentException("split: " + allClasses.length + " classes make only " + count + " tasks of "
                        + classesPerTask + " classes, not " + tasks);
            }
            this.classes = classesPerTask;
            this.trainRows = new int[tasks][];
            this.evaluationRows = new int[tasks][];
            this.permutations = new int[tasks][];
            this.localLabel = new int[tasks][];
            int maxLabel = Arrays.stream(allClasses).max().getAsInt();
            for (int t = 0; t < tasks; t++) {
                int[] labels = new int[maxLabel + 1];
                Arrays.fill(labels, -1);
                for (int c = 0; c < classesPerTask; c++) {
                    labels[allClasses[t * classesPerTask + c]] = c;
                }
                localLabel[t] = labels;
                trainRows[t] = rowsWith(train, labels);
                int[] testRows = rowsWith(test, labels);
                if (trainRows[t].length == 0 || testRows.length == 0) {
                    throw new IllegalArgumentException("split: task " + t + " (classes "
                            + Arrays.toString(Arrays.copyOfRange(allClasses, t * classesPerTask, (t + 1) * classesPerTask))
                            + ") has no " + (trainRows[t].length == 0 ? "training" : "test") + " examples");
                }
                evaluationRows[t] = choose(testRows, evaluationSize, new SplittableRandom(seed * 31 + t));
            }
        }
    }

    private static int[] range(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    private static int[] shuffled(int[] values, SplittableRandom random) {
        int[] out = values.clone();
        for (int i = out.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = out[i];
            out[i] = out[j];
            out[j] = swap;
        }
        return out;
    }

    /** {@code n} of {@code rows} chosen without replacement, in ascending order; all of them when there are fewer. */
    private static int[] choose(int[] rows, int n, SplittableRandom random) {
        if (rows.length <= n) {
            return rows.clone();
        }
        int[] picked = Arrays.copyOf(shuffled(rows, random), n);
        Arrays.sort(picked);
        return picked;
    }

    private static int[] rowsWith(LabelledDataset data, int[] localLabel) {
        List<Integer> rows = new ArrayList<>();
        for (int row = 0; row < data.size(); row++) {
            int label = data.label(row);
            if (label >= 0 && label < localLabel.length && localLabel[label] >= 0) {
                rows.add(row);
            }
        }
        return rows.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int tasks() {
        return trainRows.length;
    }

    @Override
    public int inputSize() {
        return inputSize;
    }

    @Override
    public int classes() {
        return classes;
    }

    @Override
    public LabelledBatch sample(Engine engine, int task, RandomStream rng, int size) {
        requireNonNull(rng, "rng is null");
        checkTask(task);
        int[] pool = trainRows[task];
        int[] rows = new int[size];
        for (int i = 0; i < size; i++) {
            rows[i] = pool[rng.nextInt(pool.length)];
        }
        return batch(engine, train, task, rows);
    }

    @Override
    public LabelledBatch evaluation(Engine engine, int task) {
        checkTask(task);
        return batch(engine, test, task, evaluationRows[task]);
    }

    private void checkTask(int task) {
        if (task < 0 || task >= trainRows.length) {
            throw new IllegalArgumentException("task " + task + " is out of range 0.." + (trainRows.length - 1));
        }
    }

    /** The examples at {@code rows}, permuted for the task, normalised, with the task's labels. */
    private LabelledBatch batch(Engine engine, LabelledDataset data, int task, int[] rows) {
        requireNonNull(engine, "engine is null");
        double[] raw = new double[inputSize];
        double[] x = new double[rows.length * inputSize];
        long[] labels = new long[rows.length];
        int[] permutation = permutations[task];
        for (int i = 0; i < rows.length; i++) {
            data.copyExample(rows[i], raw, 0);
            int offset = i * inputSize;
            for (int j = 0; j < inputSize; j++) {
                double v = permutation == null ? raw[j] : raw[permutation[j]];
                x[offset + j] = (v - mean) / std;
            }
            labels[i] = localLabel[task][data.label(rows[i])];
        }
        return new LabelledBatch(engine.tensor(x, rows.length, inputSize), engine.indices(labels, rows.length));
    }

    /** Task {@code task}'s permutation of the input positions (output j reads input permutation[j]); null for none. */
    int[] permutation(int task) {
        checkTask(task);
        return permutations[task] == null ? null : permutations[task].clone();
    }
}
