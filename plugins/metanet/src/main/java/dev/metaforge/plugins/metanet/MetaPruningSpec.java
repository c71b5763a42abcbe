package dev.metaforge.plugins.metanet;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.metanet.MetaNetworkSpec;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import java.io.PrintWriter;
import java.util.List;

/**
 * {@code {"type": "meta-pruning", "zoo": {...}, "metanetwork": {"type": "gnn", "editScale": 0.1}, ...}}:
 * meta-pruning in the manner of Liu et al. 2024 ("Meta Pruning via Graph Metanetworks to Prune
 * Neural Networks"): the metanetwork's equivariant head is trained on zoo networks to turn a trained
 * network into one that is easier to prune — its loss is the edited network's cross-entropy on the
 * task plus {@code sparsity} times a group lasso over hidden neurons. Evaluation takes the
 * {@code targets} most accurate held-out networks and, for each ratio, prunes that fraction of every
 * hidden layer's neurons by norm (1) from the original weights (magnitude pruning) and (2) from the
 * metanetwork's edit of them, then finetunes both the same way; it reports test accuracy before and
 * after finetuning ({@code magnitude@R}, {@code magnitude@R+ft}, {@code meta@R}, {@code meta@R+ft}).
 *
 * <p>The paper's defining claim — pruning the metanetwork's edit of a network loses less accuracy than
 * pruning the network itself at the same ratio — is measured by these metrics, not asserted by a test
 * (it is an empirical result; the README gives this repository's numbers). {@code ExperimentsTest}
 * checks the pipeline; {@code METANET-EQUIVARIANT-1} checks that the edit is equivariant.
 *
 * @param zoo                  the networks (metanetwork training uses all but the targets)
 * @param metanetwork          a metanetwork with an equivariant head (gnn, or nfn for MLPs)
 * @param batch                networks per training step (default 16)
 * @param dataBatch            task points per training step (default 128)
 * @param sparsity             weight of the group lasso (default 0.05)
 * @param targets              held-out networks to prune (default 16)
 * @param ratios               pruned fractions of each hidden layer (default [0.5, 0.7, 0.8, 0.9])
 * @param finetuneSteps        SGD-with-momentum steps after pruning (default 100)
 * @param finetuneLearningRate their learning rate (default 0.02)
 */
public record MetaPruningSpec(
        ZooSpec zoo,
        MetaNetworkSpec metanetwork,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "networks per batch") int batch,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "data batch size") int dataBatch,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "group-lasso weight") double sparsity,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "networks to prune") int targets,
        @Range(min = 0, max = 1, minExclusive = true, maxExclusive = true, what = "pruned fraction") List<Double> ratios,
        @Range(min = 0, max = Integer.MAX_VALUE, what = "finetuning steps") int finetuneSteps,
        @Range(min = 0, max = 1000, what = "finetuning learning rate") double finetuneLearningRate) implements ExperimentSpec {
    public MetaPruningSpec {
        Checks.required(zoo, "zoo", "the model zoo");
        Checks.required(metanetwork, "metanetwork", "e.g. {\"type\": \"gnn\", \"editScale\": 0.1}");
        Checks.positive(batch, "batch");
        Checks.positive(dataBatch, "dataBatch");
        Checks.nonNegative(sparsity, "sparsity");
        Checks.positive(targets, "targets");
        ratios = List.copyOf(Checks.required(ratios, "ratios", "pruned fractions, e.g. [0.5, 0.9]"));
        for (Double r : ratios) {
            if (r == null || !(r > 0 && r < 1)) {
                throw new IllegalArgumentException("field 'ratios' must hold fractions in (0, 1), got " + ratios);
            }
        }
        Checks.nonNegative(finetuneSteps, "finetuneSteps");
        Checks.positive(finetuneLearningRate, "finetuneLearningRate");
    }

    @JsonCreator
    static MetaPruningSpec fromJson(@JsonProperty("zoo") ZooSpec zoo, @JsonProperty("metanetwork") MetaNetworkSpec metanetwork,
                                    @JsonProperty("batch") Integer batch, @JsonProperty("dataBatch") Integer dataBatch,
                                    @JsonProperty("sparsity") Double sparsity, @JsonProperty("targets") Integer targets,
                                    @JsonProperty("ratios") List<Double> ratios, @JsonProperty("finetuneSteps") Integer finetuneSteps,
                                    @JsonProperty("finetuneLearningRate") Double finetuneLearningRate) {
        return new MetaPruningSpec(zoo, metanetwork, Checks.orDefault(batch, 16), Checks.orDefault(dataBatch, 128),
                Checks.orDefault(sparsity, 0.05), Checks.orDefault(targets, 16), Checks.orDefault(ratios, List.of(0.5, 0.7, 0.8, 0.9)),
                Checks.orDefault(finetuneSteps, 100), Checks.orDefault(finetuneLearningRate, 0.02));
    }

    @Override
    public Objective build(BuildContext context) {
        ModelZoo z = ModelZoo.load(zoo, context, new PrintWriter(System.err, true));
        return new MetaPruningObjective(context.engine(), z, this);
    }
}
