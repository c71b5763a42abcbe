package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mixture-of-Supernets (Jawahar et al. 2024, "Mixture-of-Supernets: Improving Weight-Sharing
 * Supernet Training with Architecture-Routed Mixture-of-Experts"), layer-wise variant, for a
 * two-layer supernet {@code in → h → out} whose sub-networks differ in hidden width h ≤ H. Instead
 * of every sub-network slicing one shared weight, each layer has E expert weights, and a router
 * reading only the <em>architecture encoding</em> ({@code h / H}) gives mixing coefficients
 * {@code α(a) = softmax(router(enc(a)))}; the sub-network's weights are
 * {@code W(a) = Σᵢ αᵢ(a) Wᵢ}, cut to its width ({@code W1[:, :h]}, {@code W2[:h, :]}), and the
 * sub-network is a plain MLP with those weights: one set of weights per architecture, computed
 * once, not per token.
 *
 * <p>Defining property, tested in {@code SupernetTest}: the sub-network's weights are the convex
 * combination of the experts' weights with coefficients that depend on the architecture alone
 * (checked against a float64 Java computation, for inputs of any value), its output is that of a
 * plain MLP with those weights, architectures of different widths get different mixtures, and
 * gradients reach router and experts (finite differences).
 *
 * @param in           input width
 * @param maxHidden    H, the largest hidden width
 * @param out          output width
 * @param experts      E weight experts per layer
 * @param routerHidden hidden width of the router MLP (1 → routerHidden → E)
 * @param activation   the sub-networks' hidden activation
 */
public record MixtureOfSupernets(int in, int maxHidden, int out, int experts, int routerHidden, Activation activation) {
    static final String ROUTER = "router";

    public MixtureOfSupernets {
        Fields.positive(in, "in");
        Fields.positive(maxHidden, "maxHidden");
        Fields.positive(out, "out");
        Fields.positive(experts, "experts");
        Fields.positive(routerHidden, "routerHidden");
        requireNonNull(activation, "activation is null");
    }

    /** The router: architecture encoding (1 feature) → E logits. */
    Mlp router() {
        return new Mlp(List.of(1, routerHidden, experts), Activation.TANH, Activation.IDENTITY, Initializer.torchDefault());
    }

    /** The largest sub-network; its parameters, with a leading E, are the experts'. */
    Mlp supernet() {
        return Mlp.of(List.of(in, maxHidden, out), activation);
    }

    /** The sub-network of hidden width {@code hidden}. */
    Mlp subnetwork(int hidden) {
        checkWidth(hidden);
        return Mlp.of(List.of(in, hidden, out), activation);
    }

    /** Router parameters, then each supernet parameter with a leading expert axis. */
    List<ParamSpec> parameters() {
        List<ParamSpec> specs = new ArrayList<>();
        router().parameters().forEach(s -> specs.add(s.prefixed(ROUTER)));
        supernet().parameters().forEach(s -> specs.add(MixtureOfExperts.expertSpec(s, experts)));
        return specs;
    }

    Params init(Engine engine, RandomStream rng) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : parameters()) {
            out.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
        }
        return Params.of(out);
    }

    /** α(a) [E]: the mixing coefficients of the architecture with hidden width {@code hidden}. */
    Tensor coefficients(Params params, int hidden, Engine engine) {
        checkWidth(hidden);
        Tensor encoding = engine.full(Shape.of(1, 1), hidden / (double) maxHidden, engine.defaultDType());
        return router().apply(params.scoped(ROUTER), encoding).softmax(-1).reshape(experts);
    }

    /** The weights of the sub-network of width {@code hidden}: {@code Σᵢ αᵢ Wᵢ}, cut to the width. */
    Params subnetworkParams(Params params, int hidden, Engine engine) {
        Tensor alpha = coefficients(params, hidden, engine);
        Params experts = params.scoped(MixtureOfExperts.EXPERTS);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : experts.names()) {
            Tensor stacked = experts.get(name);
            int[] dims = new int[stacked.rank()];
            java.util.Arrays.fill(dims, 1);
            dims[0] = this.experts;
            Tensor mixed = stacked.mul(alpha.reshape(dims)).sum(0, false);
            out.put(name, cut(name, mixed, hidden));
        }
        return Params.of(out);
    }

    /** The sub-network of width {@code hidden} applied to {@code x}. */
    Tensor apply(Params params, Tensor x, int hidden) {
        return subnetwork(hidden).apply(subnetworkParams(params, hidden, x.engine()), x);
    }

    private static Tensor cut(String name, Tensor mixed, int hidden) {
        return switch (name) {
            case "0.weight" -> mixed.slice(1, 0, hidden);
            case "0.bias" -> mixed.slice(0, 0, hidden);
            case "1.weight" -> mixed.slice(0, 0, hidden);
            default -> mixed;
        };
    }

    private void checkWidth(int hidden) {
        if (hidden <= 0 || hidden > maxHidden) {
            throw new IllegalArgumentException("a sub-network's hidden width must be in 1.." + maxHidden + ", got " + hidden);
        }
    }
}
