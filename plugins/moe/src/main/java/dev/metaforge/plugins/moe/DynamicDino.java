package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.nn.StructureBuilder;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dynamic-DINO's fine-grained MoE split of a dense feed-forward network (Lu et al. 2025,
 * "Dynamic-DINO: Fine-Grained Mixture of Experts Tuning for Real-time Open-Vocabulary Object
 * Detection"): the hidden layer of a trained dense FFN {@code y = W2ᵀ act(W1ᵀ x + b1) + b2} (hidden
 * width H) is decomposed into G pieces of H/G neurons, each piece becomes a small expert, and the
 * pieces are replicated R times, giving E = G·R experts of which the router selects G per token.
 * The weights and the router are initialised so that the MoE computes exactly the dense FFN at the
 * start of tuning:
 * <ul>
 *   <li>expert {@code r·G + g} (copy r of piece g) holds rows {@code g·H/G .. (g+1)·H/G} of W1 and b1
 *       and the matching rows of W2 multiplied by G, and the whole b2;</li>
 *   <li>the router's gate weight is zero, so every expert's probability is 1/E and the G selected
 *       gates, renormalised, are each exactly 1/G; the copies of a piece are identical, so whichever
 *       copy of each piece is chosen, {@code Σ_g (1/G)(G·W2_gᵀ h_g + b2) = W2ᵀ h + b2}.</li>
 * </ul>
 * Training then lets the router learn which copy of each piece a token uses (the enlarged subnet
 * search space of the paper), and the copies drift apart.
 *
 * <p>Defining property — function preservation at initialisation: {@code DynamicDinoTest
 * .theSplitComputesTheDenseFfnExactly} checks MoE(x) = dense(x) to 1e-12 in float64 (G a power of
 * two makes the scaling exact; otherwise the gates 1/G are rounded once), for several G and R, and
 * that it no longer holds after a training step moves the copies apart.
 *
 * <p>The interpretation of "pre-trained weight allocation" and "router initialisation" above (G·W2
 * with gates 1/G; zero router weights; top-G over identical copies) is this implementation's; the
 * paper states the property (the MoE-FFN reproduces the dense FFN at initialisation), not this
 * exact recipe.
 *
 * @param dense  the dense FFN: a two-layer {@link Mlp} [d, H, d_out] with an elementwise activation
 * @param pieces G, dividing H
 * @param copies R, copies of each piece (1: no replication)
 * @param moe    the layer the split produces (router {@code topk} with k = G, renormalised)
 */
public record DynamicDino(Mlp dense, int pieces, int copies, MixtureOfExperts moe) implements Module {
    public DynamicDino {
        requireNonNull(dense, "dense is null");
        requireNonNull(moe, "moe is null");
    }

    /** The split layer for {@code dense} into {@code pieces} pieces of {@code copies} copies each. */
    public static DynamicDino of(Mlp dense, int pieces, int copies, double balanceWeight) {
        requireNonNull(dense, "dense is null");
        if (dense.sizes().size() != 3) {
            throw new IllegalArgumentException("field 'dense' must be a two-layer mlp [d, H, d_out], got sizes " + dense.sizes());
        }
        int d = dense.sizes().get(0);
        int h = dense.sizes().get(1);
        int out = dense.sizes().get(2);
        Fields.positive(pieces, "pieces");
        Fields.positive(copies, "copies");
        if (h % pieces != 0) {
            throw new IllegalArgumentException("field 'pieces' (" + pieces + ") must divide the dense hidden width " + h);
        }
        if (dense.output() != dev.metaforge.api.nn.Activation.IDENTITY) {
            throw new IllegalArgumentException("the dense FFN must end without an output activation (a sum of pieces passes "
                    + "through it only when it is linear); got '" + dense.output().jsonName() + "'");
        }
        Mlp piece = new Mlp(List.of(d, h / pieces, out), dense.hidden(), dense.output(), dense.weightInit());
        int experts = pieces * copies;
        SoftmaxTopKRouter router = new SoftmaxTopKRouter(d, experts, pieces, true, 0, balanceWeight, 0, "dynamic-dino");
        return new DynamicDino(dense, pieces, copies, MixtureOfExperts.of(router, piece));
    }

    /**
     * The MoE parameters that reproduce {@code denseParams} (names {@code 0.weight} [d, H],
     * {@code 0.bias} [H], {@code 1.weight} [H, d_out], {@code 1.bias} [d_out]) exactly.
     */
    public Params split(Params denseParams) {
        Tensor w1 = denseParams.get("0.weight");
        Tensor b1 = denseParams.get("0.bias");
        Tensor w2 = denseParams.get("1.weight");
        Tensor b2 = denseParams.get("1.bias");
        int h = w1.dim(1);
        int size = h / pieces;
        List<Tensor> w1s = new ArrayList<>();
        List<Tensor> b1s = new ArrayList<>();
        List<Tensor> w2s = new ArrayList<>();
        List<Tensor> b2s = new ArrayList<>();
        for (int r = 0; r < copies; r++) {
            for (int g = 0; g < pieces; g++) {
                w1s.add(w1.slice(1, g * size, (g + 1) * size));
                b1s.add(b1.slice(0, g * size, (g + 1) * size));
                w2s.add(w2.slice(0, g * size, (g + 1) * size).mul((double) pieces));
                b2s.add(b2);
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        Tensor routerWeight = w1.engine().zeros(dev.metaforge.spi.Shape.of(w1.dim(0), pieces * copies), w1.dtype());
        out.put(MixtureOfExperts.ROUTER + ".weight", routerWeight);
        out.put(MixtureOfExperts.EXPERTS + ".0.weight", Tensor.stack(w1s, 0));
        out.put(MixtureOfExperts.EXPERTS + ".0.bias", Tensor.stack(b1s, 0));
        out.put(MixtureOfExperts.EXPERTS + ".1.weight", Tensor.stack(w2s, 0));
        out.put(MixtureOfExperts.EXPERTS + ".1.bias", Tensor.stack(b2s, 0));
        return Params.of(out);
    }

    /** Fresh dense parameters, split: at initialisation this layer is the dense FFN. */
    @Override
    public Params init(Engine engine, RandomStream rng) {
        return split(dense.init(engine, rng));
    }

    @Override
    public List<ParamSpec> parameters() {
        return moe.parameters();
    }

    @Override
    public List<StateSpec> stateSpecs() {
        return moe.stateSpecs();
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        return moe.apply(params, input);
    }

    @Override
    public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        return moe.forward(params, input, call);
    }

    @Override
    public NeuronGroup describe(StructureBuilder builder, String prefix, NeuronGroup input) {
        return moe.describe(builder, prefix, input);
    }

    @Override
    public String kind() {
        return "dynamic-dino";
    }
}
