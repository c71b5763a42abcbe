package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.List;

/**
 * {@code "mip"}: {@link MipHyperNetwork} (Ortiz, Guttag, Dalca, ICLR 2024). The default for
 * scalar-conditioned hypernetworks. H is a standard MLP (Kaiming fan-out, zero biases) unless
 * {@code generator} names another hypernetwork taking the 2k-wide encoded context.
 *
 * <pre>{@code {"type": "mip", "inputs": 1, "hidden": [64, 64], "activation": "relu"}}</pre>
 * <pre>{@code {"type": "mip", "inputs": 1, "generator": {"type": "chunked", "contextSize": 2, "chunkSize": 4096}}}</pre>
 *
 * @param inputs     conditions k per context, each in [0, 1] (default 1)
 * @param hidden     H's hidden widths when no generator is given (default [64, 64])
 * @param activation H's activation when no generator is given (default relu)
 * @param generator  optional inner hypernetwork H (its contextSize must be 2k)
 */
public record MipHyperNetworkSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "conditions per context") Integer inputs,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> hidden,
        String activation,
        HyperNetworkSpec generator)
        implements HyperNetworkSpec {
    static final String TYPE = "mip";

    public MipHyperNetworkSpec {
        inputs = inputs == null ? 1 : SpecChecks.positive(inputs, TYPE, "inputs");
        if (generator != null && (hidden != null || activation != null)) {
            throw new IllegalArgumentException("spec 'mip': give either 'generator' or 'hidden'/'activation', not both:"
                    + " with a generator, H's shape is the generator's");
        }
        if (generator == null) {
            hidden = Initializers.hidden(hidden, List.of(64, 64));
            activation = activation == null ? "relu" : activation;
            Initializers.activation(activation);
        }
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        if (generator == null) {
            return MipHyperNetwork.standard(target.generated(), inputs, hidden, Initializers.activation(activation));
        }
        return new MipHyperNetwork(target.generated(), inputs, generator.build(target));
    }
}
