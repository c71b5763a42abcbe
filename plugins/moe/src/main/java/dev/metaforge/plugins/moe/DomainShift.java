package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * {@code {"sourceDomains": [-2, -1, 0, 1, 2], "targetDomains": [-1.5, -0.5, 0.5, 1.5], "support": 32, "query": 32}}:
 * regression domains indexed by a shift s, with both covariate and concept shift: inputs
 * x ~ N(s, 0.5²) and {@code y = (1 + s/2) sin(2x) + s/2}. Source domains train the experts and the
 * meta-learner; target domains are only seen at evaluation, through unlabeled support data.
 *
 * @param sourceDomains the shifts of the training domains (one expert each)
 * @param targetDomains the shifts of the unseen domains
 * @param support       unlabeled points per adaptation
 * @param query         labelled points per meta-objective / evaluation
 */
public record DomainShift(
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "source-domain shift") List<Double> sourceDomains,
        @Range(min = -Limits.MAX_MAGNITUDE, max = Limits.MAX_MAGNITUDE, what = "target-domain shift") List<Double> targetDomains,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "support examples") int support,
        @Range(min = 1, max = Limits.MAX_COUNT, what = "query examples") int query) {
    public DomainShift {
        sourceDomains = List.copyOf(Fields.required(sourceDomains, "sourceDomains", "the shifts of the training domains"));
        targetDomains = List.copyOf(Fields.required(targetDomains, "targetDomains", "the shifts of the unseen domains"));
        if (sourceDomains.isEmpty() || targetDomains.isEmpty()) {
            throw new IllegalArgumentException("fields 'sourceDomains' and 'targetDomains' need at least one domain each");
        }
        Fields.positive(support, "support");
        Fields.positive(query, "query");
    }

    @JsonCreator
    static DomainShift fromJson(@JsonProperty("sourceDomains") List<Double> sourceDomains,
                                @JsonProperty("targetDomains") List<Double> targetDomains,
                                @JsonProperty("support") Integer support, @JsonProperty("query") Integer query) {
        return new DomainShift(Fields.orDefault(sourceDomains, List.of(-2.0, -1.0, 0.0, 1.0, 2.0)),
                Fields.orDefault(targetDomains, List.of(-1.5, -0.5, 0.5, 1.5)), Fields.orDefault(support, 32),
                Fields.orDefault(query, 32));
    }

    static double input(double shift, double gaussian) {
        return shift + 0.5 * gaussian;
    }

    static double target(double shift, double x) {
        return (1 + shift / 2) * Math.sin(2 * x) + shift / 2;
    }
}
