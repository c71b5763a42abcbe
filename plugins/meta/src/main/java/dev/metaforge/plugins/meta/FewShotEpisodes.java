package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.LabelledDataset;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.meta.TaskLoss;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * N-way K-shot episodes over any {@link LabelledDataset}: each task draws {@code ways} distinct
 * classes, relabels them {@code 0..N-1} in random order (so a class has no fixed output unit),
 * and draws {@code shots} support and {@code queries} query examples per class, all distinct.
 * Inputs are {@code [T, N·K, example...]} (or {@code [T, N·K, features]} when {@code flatten}),
 * targets one-hot {@code [T, N·K, N]}; points are grouped by class.
 */
public final class FewShotEpisodes implements TaskSampler {
    private final LabelledDataset dataset;
    private final int ways;
    private final int shots;
    private final int queries;
    private final boolean flatten;
    private final int[][] examplesByClass;

    public FewShotEpisodes(LabelledDataset dataset, int ways, int shots, int queries, boolean flatten) {
        this.dataset = requireNonNull(dataset, "dataset is null");
        if (ways < 2 || shots < 1 || queries < 1) {
            throw new IllegalArgumentException("few-shot episodes need ways >= 2, shots >= 1 and queries >= 1, got ways=" + ways
                    + " shots=" + shots + " queries=" + queries);
        }
        this.ways = ways;
        this.shots = shots;
        this.queries = queries;
        this.flatten = flatten;
        Map<Integer, List<Integer>> byLabel = new TreeMap<>();
        for (int i = 0; i < dataset.size(); i++) {
            byLabel.computeIfAbsent(dataset.label(i), l -> new ArrayList<>()).add(i);
        }
        List<int[]> usable = new ArrayList<>();
        for (List<Integer> members : byLabel.values()) {
            if (members.size() >= shots + queries) {
                usable.add(members.stream().mapToInt(Integer::intValue).toArray());
            }
        }
        if (usable.size() < ways) {
            throw new IllegalArgumentException(ways + "-way " + shots + "-shot episodes with " + queries + " queries need " + ways
                    + " classes with at least " + (shots + queries) + " examples each, but " + dataset + " has only "
                    + usable.size() + " such classes (of " + byLabel.size() + ")");
        }
        this.examplesByClass = usable.toArray(new int[0][]);
    }

    /** The number of classes episodes are drawn from. */
    public int classCount() {
        return examplesByClass.length;
    }

    @Override
    public TaskBatch sample(Engine engine, int tasks, RandomStream rng) {
        requireNonNull(engine, "engine is null");
        requireNonNull(rng, "rng is null");
        if (tasks <= 0) {
            throw new IllegalArgumentException("number of tasks must be positive, got " + tasks);
        }
        int exampleSize = dataset.exampleShape().sizeAsInt();
        int nSupport = ways * shots;
        int nQuery = ways * queries;
        float[] supportX = new float[tasks * nSupport * exampleSize];
        float[] queryX = new float[tasks * nQuery * exampleSize];
        double[] supportY = new double[tasks * nSupport * ways];
        double[] queryY = new double[tasks * nQuery * ways];
        int[] classOrder = identity(examplesByClass.length);
        for (int t = 0; t < tasks; t++) {
            // The first `ways` entries of a partial Fisher-Yates shuffle: distinct classes in random order.
            partialShuffle(classOrder, ways, rng);
            for (int c = 0; c < ways; c++) {
                int[] members = examplesByClass[classOrder[c]].clone();
                partialShuffle(members, shots + queries, rng);
                for (int j = 0; j < shots; j++) {
                    int row = t * nSupport + c * shots + j;
                    dataset.copyExample(members[j], supportX, row * exampleSize);
                    supportY[row * ways + c] = 1.0;
                }
                for (int j = 0; j < queries; j++) {
                    int row = t * nQuery + c * queries + j;
                    dataset.copyExample(members[shots + j], queryX, row * exampleSize);
                    queryY[row * ways + c] = 1.0;
                }
            }
        }
        return new TaskBatch(engine.tensor(supportX, inputDims(tasks, nSupport)), engine.tensor(supportY, tasks, nSupport, ways),
                engine.tensor(queryX, inputDims(tasks, nQuery)), engine.tensor(queryY, tasks, nQuery, ways));
    }

    private int[] inputDims(int tasks, int points) {
        int[] example = flatten ? new int[] {dataset.exampleShape().sizeAsInt()} : dataset.exampleShape().dims();
        int[] dims = new int[example.length + 2];
        dims[0] = tasks;
        dims[1] = points;
        System.arraycopy(example, 0, dims, 2, example.length);
        return dims;
    }

    private static void partialShuffle(int[] values, int count, RandomStream rng) {
        for (int i = 0; i < count; i++) {
            int j = i + rng.nextInt(values.length - i);
            int tmp = values[i];
            values[i] = values[j];
            values[j] = tmp;
        }
    }

    private static int[] identity(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    @Override
    public TaskLoss loss() {
        return TaskLoss.CROSS_ENTROPY;
    }

    @Override
    public String toString() {
        return ways + "-way " + shots + "-shot episodes (" + queries + " queries per class) over " + dataset;
    }
}
