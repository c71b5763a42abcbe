package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
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
 * MIP, the magnitude-invariant parametrization of Ortiz, Guttag and Dalca ("Magnitude Invariant
 * Parametrizations Improve Hypernetwork Learning", ICLR 2024): conditions γ ∈ [0, 1]^k go through
 * the constant-norm {@link MipEncoding} E, and the output is additive,
 * {@code θ = θ0 + H(E(γ))}, where θ0 is an explicit, independent, visible parameter
 * ({@code theta0.<target parameter name>}) and H is any inner hypernetwork (by default a standard
 * MLP with Kaiming fan-out weights and zero biases).
 *
 * <p>θ0 starts like the target's own initialisation ({@link #init}) or as given pretrained weights
 * ({@link #initFrom}). Because H's output is small at initialisation, the generated weights start
 * near θ0 for every γ, and their scale no longer depends on γ's magnitude.
 */
public final class MipHyperNetwork implements HyperNetwork {
    static final String THETA0 = "theta0";

    private final List<ParamSpec> generated;
    private final int inputs;
    private final HyperNetwork inner;

    /**
     * @param generated the target's generated parameters
     * @param inputs    conditions k per context
     * @param inner     H: generates the same parameters from a context of size 2k
     */
    public MipHyperNetwork(List<ParamSpec> generated, int inputs, HyperNetwork inner) {
        this.generated = List.copyOf(requireNonNull(generated, "generated is null"));
        this.inner = requireNonNull(inner, "inner is null");
        if (inputs <= 0) {
            throw new IllegalArgumentException("MIP hypernetwork: inputs (conditions per context) must be positive, got " + inputs);
        }
        this.inputs = inputs;
        if (!inner.contextShape().equals(Shape.of(2 * inputs))) {
            throw new IllegalArgumentException("MIP hypernetwork: the inner hypernetwork must take the encoded context ["
                    + (2 * inputs) + "] (2 per condition), but takes " + inner.contextShape());
        }
        if (!sameLayout(inner.generated(), this.generated)) {
            throw new IllegalArgumentException("MIP hypernetwork: the inner hypernetwork generates " + describe(inner.generated())
                    + " but the target needs " + describe(this.generated));
        }
        for (ParamSpec s : inner.parameters()) {
            if (s.name().startsWith(THETA0 + ".")) {
                throw new IllegalArgumentException("MIP hypernetwork: inner parameter '" + s.name() + "' clashes with θ0's names");
            }
        }
    }

    /** MIP around a standard MLP H (Kaiming fan-out weights, zero biases), as in the paper. */
    public static MipHyperNetwork standard(List<ParamSpec> generated, int inputs, List<Integer> hidden, Activation activation) {
        HyperNetwork h = new HmlpHyperNetwork(generated, 2 * inputs, hidden, activation,
                Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT));
        return new MipHyperNetwork(generated, inputs, h);
    }

    public HyperNetwork inner() {
        return inner;
    }

    public int inputs() {
        return inputs;
    }

    @Override
    public List<ParamSpec> generated() {
        return generated;
    }

    /** θ0 ({@code theta0.<name>}, initialised like the target) followed by H's parameters. */
    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        for (ParamSpec s : generated) {
            out.add(s.prefixed(THETA0));
        }
        out.addAll(inner.parameters());
        return out;
    }

    @Override
    public String kind() {
        return "mip";
    }

    /** MIP generates Δθ added to θ0 (pretrained or learned). */
    @Override
    public boolean generatesOffsets() {
        return true;
    }

    @Override
    public Shape contextShape() {
        return Shape.of(inputs);
    }

    @Override
    public Params generate(Params params, Tensor context) {
        requireNonNull(params, "params is null");
        contextBatch(context);
        Params delta = inner.generate(innerParams(params), MipEncoding.encode(context));
        return delta.mapNamed((name, d) -> params.get(THETA0 + "." + name).add(d));
    }

    /** θ0 under the target's parameter names. */
    public Params theta0(Params params) {
        return params.scoped(THETA0);
    }

    /** H's parameters alone. */
    public Params innerParams(Params params) {
        return params.filter(n -> !n.startsWith(THETA0 + "."));
    }

    /** H's output Δθ alone (θ = θ0 + Δθ). */
    public Params delta(Params params, Tensor context) {
        contextBatch(context);
        return inner.generate(innerParams(params), MipEncoding.encode(context));
    }

    /**
     * Fresh parameters whose θ0 is a copy of {@code pretrained} (the target's weights under its own
     * names, e.g. from a checkpoint), so the hypernetwork starts from a trained network.
     */
    public Params initFrom(Engine engine, RandomStream rng, Params pretrained) {
        requireNonNull(pretrained, "pretrained is null");
        Params fresh = init(engine, rng);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : fresh.names()) {
            Tensor t = fresh.get(name);
            if (name.startsWith(THETA0 + ".")) {
                String target = name.substring(THETA0.length() + 1);
                if (!pretrained.contains(target)) {
                    throw new IllegalArgumentException("MIP θ0 from pretrained weights: no weights for '" + target
                            + "'; pretrained has " + pretrained.names());
                }
                Tensor p = pretrained.get(target);
                if (!p.shape().equals(t.shape())) {
                    throw new IllegalArgumentException("MIP θ0 from pretrained weights: '" + target + "' is " + p.shape()
                            + " but the target declares " + t.shape());
                }
                t = engine.tensor(p.toDoubles(), p.shape(), engine.defaultDType());
            }
            out.put(name, t);
        }
        return Params.of(out);
    }

    private static boolean sameLayout(List<ParamSpec> a, List<ParamSpec> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).name().equals(b.get(i).name()) || !a.get(i).shape().equals(b.get(i).shape())) {
                return false;
            }
        }
        return true;
    }

    private static List<String> describe(List<ParamSpec> specs) {
        List<String> out = new ArrayList<>();
        for (ParamSpec s : specs) {
            out.add(s.name() + s.shape());
        }
        return out;
    }
}
