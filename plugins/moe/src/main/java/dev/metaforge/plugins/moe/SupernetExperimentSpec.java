package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import java.util.List;

/**
 * {@code {"type": "mixture-of-supernets", "maxHidden": 64, "widths": [8, 16, 32, 64], "experts": 4, "routerHidden": 16,
 * "activation": "tanh", "batch": 64}}: a Mixture-of-Supernets 1 → h → 1 regressor trained with the sandwich rule
 * ({@link MixtureOfSupernets}, {@link SupernetObjective}).
 *
 * @param maxHidden    H
 * @param widths       the sub-network widths trained and evaluated (each 1..H)
 * @param experts      E weight experts per layer
 * @param routerHidden the router's hidden width
 * @param activation   hidden activation (default tanh)
 * @param batch        points per step (default 64)
 */
public record SupernetExperimentSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "largest hidden width") int maxHidden,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> widths,
        @Range(min = 1, max = 4096, what = "experts") int experts,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "router hidden width") int routerHidden,
        String activation,
        @Range(min = 1, max = Limits.MAX_BATCH, what = "batch size") int batch) implements ExperimentSpec {
    public SupernetExperimentSpec {
        Fields.positive(maxHidden, "maxHidden");
        Fields.required(widths, "widths", "the sub-network widths, e.g. [8, 16, 32, 64]");
        widths = List.copyOf(widths);
        if (widths.isEmpty()) {
            throw new IllegalArgumentException("field 'widths' must list at least one width");
        }
        for (int w : widths) {
            if (w <= 0 || w > maxHidden) {
                throw new IllegalArgumentException("field 'widths' holds " + w + ", outside 1.." + maxHidden + " (maxHidden)");
            }
        }
        Fields.positive(experts, "experts");
        Fields.positive(routerHidden, "routerHidden");
        activation = Activation.parse(Fields.required(activation, "activation", "")).jsonName();
        Fields.positive(batch, "batch");
    }

    @JsonCreator
    static SupernetExperimentSpec fromJson(@JsonProperty("maxHidden") Integer maxHidden, @JsonProperty("widths") List<Integer> widths,
                                           @JsonProperty("experts") Integer experts, @JsonProperty("routerHidden") Integer routerHidden,
                                           @JsonProperty("activation") String activation, @JsonProperty("batch") Integer batch) {
        return new SupernetExperimentSpec(Fields.required(maxHidden, "maxHidden", "the largest hidden width"), widths,
                Fields.orDefault(experts, 4), Fields.orDefault(routerHidden, 16), Fields.orDefault(activation, "tanh"),
                Fields.orDefault(batch, 64));
    }

    MixtureOfSupernets supernet() {
        return new MixtureOfSupernets(1, maxHidden, 1, experts, routerHidden, Activation.parse(activation));
    }

    @Override
    public Objective build(BuildContext context) {
        return new SupernetObjective(context.engine(), supernet(), widths, batch);
    }
}
