package dev.metaforge.plugins.moe;

import dev.metaforge.api.spec.Range;
import dev.metaforge.api.spec.Limits;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleSpec;

/**
 * {@code {"type": "dynamic-dino", "dense": {"type": "mlp", "sizes": [64, 256, 64], "activation": "relu"}, "pieces": 4,
 * "copies": 2, "balanceWeight": 0.01}}: a dense FFN split into {@code pieces · copies} fine-grained experts that
 * reproduce it exactly at initialisation ({@link DynamicDino}).
 *
 * @param dense         a two-layer mlp without output activation
 * @param pieces        G, dividing the dense hidden width; the router selects G experts per token
 * @param copies        R, copies of each piece (default 2)
 * @param balanceWeight α of the load-balancing loss (default 0.01)
 */
public record DynamicDinoSpec(
        ModuleSpec dense,
        @Range(min = 1, max = 4096, what = "pieces per hidden layer") int pieces,
        @Range(min = 1, max = 4096, what = "copies of each piece") int copies,
        @Range(min = 0, max = Limits.MAX_MAGNITUDE, what = "balance-loss weight") double balanceWeight) implements ModuleSpec {
    public DynamicDinoSpec {
        Fields.required(dense, "dense", "the dense FFN, e.g. {\"type\": \"mlp\", \"sizes\": [64, 256, 64]}");
        Fields.positive(pieces, "pieces");
        Fields.positive(copies, "copies");
        Fields.nonNegative(balanceWeight, "balanceWeight");
        layer(dense, pieces, copies, balanceWeight);
    }

    @JsonCreator
    static DynamicDinoSpec fromJson(@JsonProperty("dense") ModuleSpec dense, @JsonProperty("pieces") Integer pieces,
                                    @JsonProperty("copies") Integer copies, @JsonProperty("balanceWeight") Double balanceWeight) {
        return new DynamicDinoSpec(dense, Fields.required(pieces, "pieces", "the number of pieces G the hidden layer is cut into"),
                Fields.orDefault(copies, 2), Fields.orDefault(balanceWeight, 0.01));
    }

    @Override
    public Module build() {
        return layer(dense, pieces, copies, balanceWeight);
    }

    private static DynamicDino layer(ModuleSpec dense, int pieces, int copies, double balanceWeight) {
        Module built = dense.build();
        if (!(built instanceof Mlp mlp)) {
            throw new IllegalArgumentException("field 'dense' must be an mlp (a two-layer FFN), got '" + built.kind() + "'");
        }
        return DynamicDino.of(mlp, pieces, copies, balanceWeight);
    }
}
