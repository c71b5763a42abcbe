package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;

/**
 * {@code {"type": "moe-classification", "model": {...}, "clusters": {...} | "idx": {...}, "batch": 128, "evalBatch": 1000}}:
 * a classifier (any module mapping [N, features] to [N, classes] logits, typically a
 * {@code sequential} holding {@code moe} layers) trained by softmax cross-entropy plus every
 * auxiliary loss its modules return. Each logged step writes the auxiliary losses and routing
 * statistics (per-expert load, drop rate, router entropy) to {@code metrics.jsonl}; module state
 * (e.g. an auxiliary-loss-free balancing bias) is checkpointed with the run. Evaluation reports
 * {@code accuracy} and {@code loss} on the held-out set.
 *
 * @param model     the classifier
 * @param clusters  synthetic data (exactly one of clusters and idx)
 * @param idx       MNIST-format files (e.g. Fashion-MNIST)
 * @param batch     training examples per step (default 128)
 * @param evalBatch examples per evaluation chunk (default 1000)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MoeClassificationSpec(
        ModuleSpec model,
        ClustersData clusters,
        IdxData idx,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "training batch size") int batch,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "evaluation batch size") int evalBatch)
        implements ExperimentSpec {
    public MoeClassificationSpec {
        Fields.required(model, "model", "a module mapping [N, features] to [N, classes], e.g. a sequential with a moe layer");
        if ((clusters == null) == (idx == null)) {
            throw new IllegalArgumentException("exactly one of the fields 'clusters' (synthetic data) and 'idx' (MNIST-format "
                    + "files) is required");
        }
        Fields.positive(batch, "batch");
        Fields.positive(evalBatch, "evalBatch");
    }

    @JsonCreator
    static MoeClassificationSpec fromJson(@JsonProperty("model") ModuleSpec model, @JsonProperty("clusters") ClustersData clusters,
                                          @JsonProperty("idx") IdxData idx, @JsonProperty("batch") Integer batch,
                                          @JsonProperty("evalBatch") Integer evalBatch) {
        return new MoeClassificationSpec(model, clusters, idx, Fields.orDefault(batch, 128), Fields.orDefault(evalBatch, 1000));
    }

    @Override
    public Objective build(BuildContext context) {
        LabelledDataset[] data = clusters != null ? clusters.generate() : idx.load(context);
        return new ClassificationObjective(context.engine(), model.build(), data[0], data[1], batch, evalBatch);
    }
}
