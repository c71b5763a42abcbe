package dev.metaforge.plugins.metanet;

import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;

/** Dense layers of a metanetwork's own parameters: {@code name.weight} [in, out] and {@code name.bias} [out]. */
final class Dense {
    private Dense() {
    }

    static void declare(List<ParamSpec> specs, String name, int in, int out, boolean bias) {
        specs.add(new ParamSpec(name + ".weight", Shape.of(in, out), ParamKind.WEIGHT, in, out, Initializer.torchDefault()));
        if (bias) {
            specs.add(new ParamSpec(name + ".bias", Shape.of(out), ParamKind.BIAS, in, out, Initializer.torchDefault()));
        }
    }

    /** {@code x @ weight + bias} on the last axis of {@code x} (any leading axes). */
    static Tensor apply(Params p, String name, Tensor x) {
        String b = name + ".bias";
        return x.linear(p.get(name + ".weight"), p.contains(b) ? p.get(b) : null);
    }
}
