package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.LabelledDatasetSpec;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.spi.Shape;
import java.util.HashSet;
import java.util.List;

/**
 * {@code {"type": "few-shot", "ways": 5, "shots": 1, "queries": 15, "dataset": {...}}}:
 * {@link FewShotEpisodes} over any labelled dataset spec. {@code classes} restricts the episodes to
 * some classes of the dataset, so one dataset gives disjoint meta-training and meta-test classes,
 * e.g. Fashion-MNIST:
 * <pre>{@code
 * "tasks":       {"type": "few-shot", "ways": 5, "classes": [0, 1, 2, 3, 4], "dataset": {"type": "idx"}},
 * "evalSampler": {"type": "few-shot", "ways": 5, "classes": [5, 6, 7, 8, 9], "dataset": {"type": "idx", "split": "test"}}
 * }</pre>
 *
 * @param dataset    the labelled examples
 * @param ways       N, classes per episode (default 5)
 * @param shots      K, support examples per class (default 1)
 * @param queries    query examples per class (default 15)
 * @param flatten    give the network vectors instead of the example shape (default true unless {@code inputShape} is set)
 * @param classes    the dataset's class labels episodes draw from (default: all of them)
 * @param inputShape the layout of one example for the network, e.g. [1, 28, 28] for a convolution
 *                   (the example's size; instead of {@code flatten})
 */
public record FewShotSpec(
        LabelledDatasetSpec dataset,
        @Range(min = 2, max = 4096, what = "classes per episode") Integer ways,
        @Range(min = 1, max = 65536, what = "support examples per class") Integer shots,
        @Range(min = 1, max = 65536, what = "query examples per class") Integer queries,
        Boolean flatten,
        @Range(min = 0, max = Limits.MAX_COUNT, what = "class label") List<Integer> classes,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "input dimension") List<Integer> inputShape)
        implements TaskSamplerSpec {
    public FewShotSpec {
        requireNonNull(dataset, "few-shot: \"dataset\" is required");
        ways = ways == null ? 5 : ways;
        shots = shots == null ? 1 : shots;
        queries = queries == null ? 15 : queries;
        if (inputShape != null) {
            if (flatten != null) {
                throw new IllegalArgumentException("few-shot: give \"inputShape\" or \"flatten\", not both (\"inputShape\": [n] flattens)");
            }
            inputShape = List.copyOf(inputShape);
            if (inputShape.isEmpty() || inputShape.stream().anyMatch(d -> d == null || d <= 0)) {
                throw new IllegalArgumentException("few-shot: field 'inputShape' must list positive sizes, e.g. [1, 28, 28], got "
                        + inputShape);
            }
        } else {
            flatten = flatten == null ? Boolean.TRUE : flatten;
        }
        if (classes != null) {
            classes = List.copyOf(classes);
            if (classes.stream().anyMatch(c -> c == null || c < 0)) {
                throw new IllegalArgumentException("few-shot: field 'classes' must list class labels >= 0, got " + classes);
            }
            if (new HashSet<>(classes).size() != classes.size()) {
                throw new IllegalArgumentException("few-shot: field 'classes' lists a class twice: " + classes);
            }
            if (classes.size() < ways) {
                throw new IllegalArgumentException("few-shot: " + ways + "-way episodes need at least " + ways
                        + " classes, but field 'classes' lists " + classes.size() + ": " + classes);
            }
        }
    }

    @Override
    public TaskSampler build(BuildContext context) {
        LabelledDataset data = dataset.build(context);
        if (classes != null) {
            try {
                data = data.withClasses(classes.stream().mapToInt(Integer::intValue).toArray());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("few-shot: field 'classes': " + e.getMessage(), e);
            }
        }
        if (inputShape != null) {
            return new FewShotEpisodes(data, ways, shots, queries, Shape.of(inputShape.stream().mapToInt(Integer::intValue).toArray()));
        }
        return new FewShotEpisodes(data, ways, shots, queries, flatten);
    }
}
