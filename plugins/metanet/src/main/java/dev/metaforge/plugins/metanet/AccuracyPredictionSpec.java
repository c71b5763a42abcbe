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

/**
 * {@code {"type": "accuracy-prediction", "zoo": {...}, "metanetwork": {"type": "gnn"}, "batch": 32, "holdout": 0.25}}:
 * predicts a network's test accuracy from its weights. The model zoo ({@link ZooSpec}) is built
 * (or read from its cache) when the experiment is built; the metanetwork's invariant head is
 * trained by mean squared error on the standardised accuracies of the training networks.
 * Evaluation on the held-out networks reports {@code kendallTau} and {@code rmse} of the
 * metanetwork, and {@code baselineKendallTau} and {@code baselineRmse} of ridge regression on
 * weight statistics (Unterthiner et al. 2020) fitted on the same training networks.
 *
 * @param zoo         the networks
 * @param metanetwork what reads them (its {@code outputs} must be 1)
 * @param batch       networks per training step (default 32)
 * @param holdout     fraction of the zoo held out for evaluation (default 0.25)
 */
public record AccuracyPredictionSpec(
        ZooSpec zoo,
        MetaNetworkSpec metanetwork,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "networks per batch") int batch,
        @Range(min = 0, max = 1, minExclusive = true, maxExclusive = true, what = "held-out fraction") double holdout) implements ExperimentSpec {
    public AccuracyPredictionSpec {
        Checks.required(zoo, "zoo", "the model zoo, e.g. {\"model\": {\"type\": \"mlp\", \"sizes\": [8, 32, 32, 4]}}");
        Checks.required(metanetwork, "metanetwork", "e.g. {\"type\": \"gnn\"}");
        Checks.positive(batch, "batch");
        Checks.fraction(holdout, "holdout");
    }

    @JsonCreator
    static AccuracyPredictionSpec fromJson(@JsonProperty("zoo") ZooSpec zoo, @JsonProperty("metanetwork") MetaNetworkSpec metanetwork,
                                           @JsonProperty("batch") Integer batch, @JsonProperty("holdout") Double holdout) {
        return new AccuracyPredictionSpec(zoo, metanetwork, Checks.orDefault(batch, 32), Checks.orDefault(holdout, 0.25));
    }

    @Override
    public Objective build(BuildContext context) {
        ModelZoo z = ModelZoo.load(zoo, context, new PrintWriter(System.err, true));
        AccuracyPredictionObjective o = new AccuracyPredictionObjective(context.engine(), z, metanetwork, batch, holdout);
        System.err.println("accuracy prediction: " + (z.size() - o.heldOut()) + " training networks, " + o.heldOut() + " held out");
        return o;
    }
}
