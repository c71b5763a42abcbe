package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;

/**
 * {@code {"type": "moe-sequence-classification", "model": {...}, "sequences": {...}, "batch": 64, "evalBatch": 512}}:
 * a sequence classifier (any module mapping INT64 tokens [N, length] to logits [N, classes], e.g. a
 * {@code sequential} of {@code embedding}, {@code residual} attention and {@code residual}
 * {@code moe} blocks, {@code flatten} and {@code linear}) trained on the synthetic
 * {@link ModeSequences} task by softmax cross-entropy plus every auxiliary loss of its modules.
 * Routing statistics go to {@code metrics.jsonl}; evaluation reports accuracy, the majority-class
 * baseline, accuracy per mode and, per MoE layer, the expert load within each mode and the mutual
 * information between mode and expert (see {@link SequenceObjective}).
 *
 * @param model     the classifier
 * @param sequences the synthetic task
 * @param batch     training sequences per step (default 64)
 * @param evalBatch sequences per evaluation chunk (default 512)
 */
public record MoeSequenceSpec(
        ModuleSpec model,
        ModeSequences sequences,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "training batch size") int batch,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "evaluation batch size") int evalBatch)
        implements ExperimentSpec {
    public MoeSequenceSpec {
        Fields.required(model, "model", "a module mapping tokens [N, length] to logits [N, classes], e.g. a sequential of "
                + "embedding, residual attention, residual moe, flatten and linear");
        Fields.required(sequences, "sequences", "the synthetic task, e.g. {\"modes\": 4, \"classes\": 4, \"vocab\": 16, "
                + "\"length\": 12}");
        Fields.positive(batch, "batch");
        Fields.positive(evalBatch, "evalBatch");
    }

    @JsonCreator
    static MoeSequenceSpec fromJson(@JsonProperty("model") ModuleSpec model, @JsonProperty("sequences") ModeSequences sequences,
                                    @JsonProperty("batch") Integer batch, @JsonProperty("evalBatch") Integer evalBatch) {
        return new MoeSequenceSpec(model, sequences, Fields.orDefault(batch, 64), Fields.orDefault(evalBatch, 512));
    }

    @Override
    public Objective build(BuildContext context) {
        return new SequenceObjective(context.engine(), model.build(), sequences, batch, evalBatch);
    }
}
