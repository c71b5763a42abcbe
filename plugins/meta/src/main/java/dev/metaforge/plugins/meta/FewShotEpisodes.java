package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.Sampling;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * N-way K-shot episodes over any {@link LabelledDataset}: each task draws {@code ways} distinct
 * classes, relabels them {@code 0..N-1} in random order (so a class has no fixed output unit),
 * and draws {@code shots} support and {@code queries} query examples per class, all distinct.
 * Inputs are {@code [T, N·K, ...layout]}, where the layout of one example is its own shape, its
 * flattened length ({@code flatten}), or any shape of the same size (e.g. [1, 28, 28] for a
 * convolution); targets are one-hot {@code [T, N·K, N]}; points are grouped by class. Indices are
 * drawn in Java from the sampler's random stream, so every backend sees the same episodes.
 */
public final class FewShotEpisodes implements TaskSampler {
    private final LabelledDataset dataset;
    private final int ways;
    private final int shots;
    private final int queries;
    private final Shape layout;
    private final int[][] examplesByClass;

    /** Episodes whose examples keep their shape, or are flattened to vectors when {@code flatten}. */
    public FewShotEpisodes(LabelledDataset dataset, int ways, int shots, int queries, boolean flatten) {
        this(dataset, ways, shots, queries,
                flatten ? Shape.of(requireNonNull(dataset, "dataset is null").exampleSize()) : dataset.exampleShape());
    }

    /** Episodes whose examples are laid out in {@code layout} (the same number of values as an example). */
    public FewShotEpisodes(LabelledDataset dataset, int ways, int shots, int queries, Shape layout) {
        this.dataset = requireNonNull(dataset, "dataset is null");
        this.layout = requireNonNull(layout, "layout is null");
        if (ways < 2 || shots < 1 || queries < 1) {
            throw new IllegalArgumentException("few-shot episodes need ways >= 2, shots >= 1 and queries >= 1, got ways=" + ways
                    + " shots=" + shots + " queries=" + queries);
        }
        if (layout.size() != dataset.exampleSize()) {
            throw new IllegalArgumentException("examples of " + dataset + " hold " + dataset.exampleSize()
                    + " values, which cannot be laid out as " + layout + " (" + layout.size() + " values)");
        }
        this.ways = ways;
        this.shots = shots;
        this.queries = queries;
        List<int[]> usable = new ArrayList<>();
        int classes = 0;
        for (int[] members : dataset.rowsByClass().values()) {
            classes++;
            if (members.length >= shots + queries) {
                usable.add(members);
            }
        }
        if (usable.size() < ways) {
            throw new IllegalArgumentException(ways + "-way " + shots + "-shot episodes with " + queries + " queries need " + ways
                    + " classes with at least " + (shots + queries) + " examples each, but " + dataset + " has only "
                    + usable.size() + " such classes (of " + classes + ")");
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
        int exampleSize = dataset.exampleSize();
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
                int[] members = Sampling.distinct(examplesByClass[classOrder[c]], shots + queries, rng);
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
        int[] example = layout.dims();
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
