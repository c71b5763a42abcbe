package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.LabelledDatasetSpec;
import dev.metaforge.api.meta.TaskSampler;
import dev.metaforge.api.meta.TaskSamplerSpec;
import dev.metaforge.api.spec.Range;
import dev.metaforge.api.train.BuildContext;

/**
 * {@code {"type": "few-shot", "ways": 5, "shots": 1, "queries": 15, "dataset": {...}}}:
 * {@link FewShotEpisodes} over any labelled dataset spec.
 *
 * @param dataset the labelled examples
 * @param ways    N, classes per episode (default 5)
 * @param shots   K, support examples per class (default 1)
 * @param queries query examples per class (default 15)
 * @param flatten give the network vectors instead of the example shape (default true)
 */
public record FewShotSpec(
        LabelledDatasetSpec dataset,
        @Range(min = 2, max = 4096, what = "classes per episode") Integer ways,
        @Range(min = 1, max = 65536, what = "support examples per class") Integer shots,
        @Range(min = 1, max = 65536, what = "query examples per class") Integer queries,
        Boolean flatten)
        implements TaskSamplerSpec {
    public FewShotSpec {
        requireNonNull(dataset, "few-shot: \"dataset\" is required");
        ways = ways == null ? 5 : ways;
        shots = shots == null ? 1 : shots;
        queries = queries == null ? 15 : queries;
        flatten = flatten == null ? Boolean.TRUE : flatten;
    }

    @Override
    public TaskSampler build(BuildContext context) {
        return new FewShotEpisodes(dataset.build(context), ways, shots, queries, flatten);
    }
}
