package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperNetworkSpec;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.List;

/**
 * {@code "hmlp"}: {@link HmlpHyperNetwork}, one MLP from a context vector to every generated
 * weight at once (hypnettorch's HMLP). It is not Ha et al.'s static hypernetwork, which shares one
 * small generator across per-layer embeddings; this type was called {@code "standard"} before and
 * was renamed so its name says what it is.
 *
 * <pre>{@code {"type": "hmlp", "contextSize": 1, "hidden": [64, 64], "activation": "relu", "init": "kaiming-fan-out"}}</pre>
 *
 * @param contextSize scalars per context (required)
 * @param hidden      hidden widths (default [64, 64])
 * @param activation  hidden activation (default relu)
 * @param init        weight initializer (default kaiming-fan-out; biases are zero)
 */
public record HmlpHyperNetworkSpec(
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "context size") Integer contextSize,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> hidden,
        String activation,
        String init)
        implements HyperNetworkSpec {
    static final String TYPE = "hmlp";

    public HmlpHyperNetworkSpec {
        SpecChecks.required(contextSize, TYPE, "contextSize");
        hidden = Initializers.hidden(hidden, List.of(64, 64));
        activation = activation == null ? "relu" : activation;
        init = init == null ? "kaiming-fan-out" : init;
        Initializers.activation(activation);
        Initializers.parse(init);
    }

    @Override
    public HyperNetwork build(HyperTarget target) {
        return new HmlpHyperNetwork(target.generated(), contextSize, hidden, Initializers.activation(activation), Initializers.parse(init));
    }
}
