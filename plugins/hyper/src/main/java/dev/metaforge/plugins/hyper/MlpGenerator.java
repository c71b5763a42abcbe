package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.Interval;
import dev.metaforge.api.hyper.IntervalBounds;
import dev.metaforge.api.hyper.IntervalParams;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The MLP inside a hypernetwork: an api {@link Mlp} whose parameters live under a prefix, with
 * the given weight initializer and zero biases (the hypernetwork convention of Ortiz et al.).
 */
final class MlpGenerator {
    private final String prefix;
    private final Mlp mlp;

    MlpGenerator(String prefix, List<Integer> sizes, Activation hidden, Initializer weightInit) {
        this.prefix = requireNonNull(prefix, "prefix is null");
        this.mlp = new Mlp(sizes, hidden, Activation.IDENTITY, weightInit);
    }

    Mlp mlp() {
        return mlp;
    }

    String prefix() {
        return prefix;
    }

    List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        for (ParamSpec s : mlp.parameters()) {
            ParamSpec p = s.prefixed(prefix);
            out.add(s.kind() == ParamKind.BIAS ? p.withInit(Initializer.zeros()) : p);
        }
        return out;
    }

    Tensor apply(Params params, Tensor x) {
        return mlp.apply(params.scoped(prefix), x);
    }

    Interval applyInterval(Params params, Interval x) {
        return IntervalBounds.apply(mlp, IntervalParams.point(params.scoped(prefix)), x);
    }

    /** Sizes of every layer including input and output. */
    static List<Integer> sizes(int in, List<Integer> hidden, int out) {
        List<Integer> sizes = new ArrayList<>();
        sizes.add(in);
        for (int h : hidden) {
            if (h <= 0) {
                throw new IllegalArgumentException("hidden layer sizes must be positive, got " + hidden);
            }
            sizes.add(h);
        }
        sizes.add(out);
        return sizes;
    }
}
