package dev.metaforge.api.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleStructure;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Interval bound propagation (interval arithmetic in midpoint-radius form) through networks with
 * interval-valued inputs and parameters, as HyperInterval needs both in the hypernetwork (interval
 * embeddings, point weights) and in the target (point inputs, interval weights).
 *
 * <p>Rules (Rump's midpoint-radius product, a sound enclosure): for {@code y = x W + b} with
 * {@code x = <xc, xr>}, {@code W = <Wc, Wr>}, {@code b = <bc, br>}:
 * {@code yc = xc Wc + bc}, {@code yr = |xc| Wr + xr (|Wc| + Wr) + br}. A monotone activation maps
 * the bounds: {@code [f(c - r), f(c + r)]}. Every true output for inputs and weights inside their
 * intervals lies inside the result. Weight batches work as in {@link Linear}.
 *
 * <p>The walk reads the module's {@link Module#structure() structure}, never its class: any module
 * whose layers are a chain of "linear" layers and monotone "activation" layers is supported (so
 * {@link Linear}, {@link Mlp}, {@link Sequential} of them, and a third-party module describing the
 * same layers). Another layer kind is an error naming it.
 *
 * <pre>{@code
 * Interval logits = IntervalBounds.apply(mlp, new IntervalParams(center, radius), IntervalBounds.point(x));
 * }</pre>
 */
public final class IntervalBounds {
    private IntervalBounds() {
    }

    /** An exact input: radius zero. */
    public static Interval point(Tensor x) {
        requireNonNull(x, "x is null");
        return new Interval(x, x.engine().zeros(x.shape(), x.dtype()));
    }

    /** Propagates {@code input} through {@code module} with interval parameters. */
    public static Interval apply(Module module, IntervalParams params, Interval input) {
        requireNonNull(module, "module is null");
        requireNonNull(params, "params is null");
        requireNonNull(input, "input is null");
        return propagate(module, params, input.center(), input.radius()).toInterval();
    }

    /**
     * As {@link #apply} for an exact input: skips the radius terms an exact input would make zero.
     */
    public static Interval applyToPoint(Module module, IntervalParams params, Tensor x) {
        requireNonNull(module, "module is null");
        requireNonNull(params, "params is null");
        requireNonNull(x, "x is null");
        return propagate(module, params, x, null).toInterval();
    }

    /**
     * Worst-case logits for classification (IBP training, Gowal et al. 2018): the lower bound for
     * the true class and the upper bound for every other class.
     *
     * @param logits  interval logits [..., C]
     * @param oneHot  the true classes as 0/1 in the logits' dtype, same shape
     */
    public static Tensor worstCaseLogits(Interval logits, Tensor oneHot) {
        requireNonNull(logits, "logits is null");
        requireNonNull(oneHot, "oneHot is null");
        return Tensor.where(oneHot, logits.lower(), logits.upper());
    }

    /** Midpoint and radius; a null radius is an exact value. */
    private record Box(Tensor center, Tensor radius) {
        Interval toInterval() {
            return new Interval(center, radius != null ? radius : center.engine().zeros(center.shape(), center.dtype()));
        }
    }

    private static Box propagate(Module module, IntervalParams params, Tensor center, Tensor radius) {
        ModuleStructure structure = module.structure();
        Box box = new Box(center, radius);
        for (LayerInfo layer : structure.layers()) {
            switch (layer.kind()) {
                case "linear" -> {
                    String weight = layer.param("weight");
                    String bias = layer.param("bias");
                    Linear shape = new Linear(structure.group(layer.input()).size(), structure.group(layer.output()).size(),
                            bias != null, Initializer.zeros());
                    box = linear(shape, params, weight, bias, box.center, box.radius);
                }
                case "activation" -> box = activation(Activation.parse(layer.attribute("activation")), box.center, box.radius);
                default -> throw new UnsupportedOperationException("interval bound propagation does not support layer '"
                        + layer.name() + "' of kind '" + layer.kind() + "' in module '" + module.kind()
                        + "'; supported: chains of linear layers and monotone activations."
                        + " Generate point weights for this target instead");
            }
        }
        return box;
    }

    private static Box linear(Linear layer, IntervalParams params, String weightName, String biasName, Tensor xc, Tensor xr) {
        Tensor wc = params.center().get(weightName);
        Tensor bc = biasName != null ? params.center().get(biasName) : null;
        Tensor wr = params.radius().contains(weightName) ? params.radius().get(weightName) : null;
        Tensor br = biasName != null && params.radius().contains(biasName) ? params.radius().get(biasName) : null;
        Tensor yc = layer.apply(pair(wc, bc), xc);
        Linear noBias = new Linear(layer.in(), layer.out(), false, Initializer.zeros());
        Tensor yr = null;
        if (wr != null) {
            yr = noBias.apply(pair(wr, null), xc.abs());
        }
        if (xr != null) {
            Tensor spread = wr == null ? wc.abs() : wc.abs().add(wr);
            Tensor term = noBias.apply(pair(spread, null), xr);
            yr = yr == null ? term : yr.add(term);
        }
        if (br != null) {
            Tensor bias = br.rank() == 1 || yc.rank() == br.rank() ? br : br.expandDims(1);
            yr = yr == null ? bias.broadcastTo(yc.shape()) : yr.add(bias);
        }
        return new Box(yc, yr);
    }

    private static Box activation(Activation activation, Tensor c, Tensor r) {
        if (activation == Activation.IDENTITY) {
            return new Box(c, r);
        }
        if (activation == Activation.SIN) {
            throw new UnsupportedOperationException("interval bound propagation needs a monotone activation; SIN is not."
                    + " Use relu, tanh, sigmoid, leaky_relu or softplus in interval networks");
        }
        if (r == null) {
            return new Box(activation.apply(c), null);
        }
        Tensor lo = activation.apply(c.sub(r));
        Tensor hi = activation.apply(c.add(r));
        return new Box(lo.add(hi).mul(0.5), hi.sub(lo).mul(0.5));
    }

    private static Params pair(Tensor weight, Tensor bias) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("weight", weight);
        if (bias != null) {
            m.put("bias", bias);
        }
        return Params.of(m);
    }
}
