package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.ParamLayout;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;

/**
 * JSON type {@code "hmlp"} (hypnettorch's HMLP): one MLP from a context vector to every generated
 * scalar at once, split into the target's parameter shapes. Its output layer alone has
 * (last hidden + 1) x (target parameter count) parameters, so unlike Ha, Dai and Le's static
 * hypernetwork (per-layer embeddings through one small shared generator) it is larger than its
 * target; the name {@code "standard"} it had before suggested otherwise.
 * Parameters: {@code net.<i>.weight}, {@code net.<i>.bias}.
 *
 * <p>A weight batch of B contexts [B, d] is one batched MLP call producing [B, P], split into
 * [B, ...shape] tensors; an unbatched context [d] gives the same values without the leading axis.
 * With Kaiming fan-out weights and zero biases this is also the "default parametrization" MIP is
 * compared against (raw condition in, θ = H(γ) out).
 */
public final class HmlpHyperNetwork implements HyperNetwork {
    private final List<ParamSpec> generated;
    private final int contextSize;
    private final ParamLayout layout;
    private final MlpGenerator net;

    public HmlpHyperNetwork(List<ParamSpec> generated, int contextSize, List<Integer> hidden, Activation activation,
                                Initializer weightInit) {
        this.generated = List.copyOf(requireNonNull(generated, "generated is null"));
        if (contextSize <= 0) {
            throw new IllegalArgumentException("hmlp hypernetwork: contextSize must be positive, got " + contextSize);
        }
        this.contextSize = contextSize;
        this.layout = new ParamLayout(this.generated);
        this.net = new MlpGenerator("net", MlpGenerator.sizes(contextSize, requireNonNull(hidden, "hidden is null"), layout.size()),
                requireNonNull(activation, "activation is null"), requireNonNull(weightInit, "weightInit is null"));
    }

    @Override
    public List<ParamSpec> generated() {
        return generated;
    }

    @Override
    public List<ParamSpec> parameters() {
        return net.parameters();
    }

    @Override
    public String kind() {
        return "hmlp";
    }

    @Override
    public Shape contextShape() {
        return Shape.of(contextSize);
    }

    @Override
    public Params generate(Params params, Tensor context) {
        requireNonNull(params, "params is null");
        int batch = contextBatch(context);
        Tensor x = batch == 0 ? context.reshape(1, contextSize) : context;
        Tensor flat = net.apply(params, x);
        return layout.split(batch == 0 ? flat.reshape(layout.size()) : flat);
    }
}
