package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Layer normalisation over the last axis (PyTorch's {@code nn.LayerNorm(features)}): each row is
 * normalised by its own mean and biased variance, then scaled by {@code weight} [d] and shifted by
 * {@code bias} [d] (when {@code affine}; initialised to 1 and 0). No state, no batch statistics:
 * train and eval agree.
 *
 * <p>Weight batch, as {@link Linear}: with {@code weight} [B, d], an input [N, d] is shared by the B
 * networks and an input of rank 3 or more, [B, N, ..., d], gives each network its own; the output
 * is [B, N, ..., d]. A batch of one takes the unbatched path and equals it exactly.
 *
 * @param features the size d of the last axis
 * @param eps      added to the variance before the square root
 * @param affine   whether there are {@code weight} and {@code bias}
 */
public record LayerNorm(int features, double eps, boolean affine) implements Module {
    public LayerNorm {
        if (features <= 0) {
            throw new IllegalArgumentException("LayerNorm needs features > 0, got " + features);
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("LayerNorm needs a finite eps > 0, got " + eps);
        }
    }

    /** PyTorch's defaults: eps 1e-5, affine. */
    public static LayerNorm of(int features) {
        return new LayerNorm(features, 1e-5, true);
    }

    @Override
    public List<ParamSpec> parameters() {
        if (!affine) {
            return List.of();
        }
        List<ParamSpec> specs = new ArrayList<>(2);
        specs.add(new ParamSpec("weight", Shape.of(features), ParamKind.SCALE, List.of(Axis.OUT), 1, 1, Initializer.constant(1.0)));
        specs.add(new ParamSpec("bias", Shape.of(features), ParamKind.BIAS, List.of(Axis.OUT), 1, 1, Initializer.zeros()));
        return specs;
    }

    @Override
    public String kind() {
        return "layernorm";
    }

    /** Scales each feature of its input group: reads and writes that group (tied to it). */
    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup in = b.resolve(input, features);
        Map<String, String> params = new LinkedHashMap<>();
        if (affine) {
            params.put("scale", StructureBuilder.join(prefix, "weight"));
            params.put("bias", StructureBuilder.join(prefix, "bias"));
        }
        b.layer(prefix, kind(), in, in, params, Map.of("eps", Double.toString(eps)));
        return in;
    }

    @Override
    public Tensor apply(Params params, Tensor x) {
        if (x.rank() < 1 || x.dim(-1) != features) {
            throw new IllegalArgumentException(this + ": input shape " + x.shape() + " does not end in " + features);
        }
        int batch = affine ? weightBatch(params) : 0;
        if (batch == 0) {
            return affineMap(normalise(x), params, x.rank());
        }
        boolean shared = x.rank() == 2;
        if (!shared && x.dim(0) != batch) {
            throw new IllegalArgumentException(this + " with weight batch " + batch + ": input shape " + x.shape() + " must be [N, "
                    + features + "] (shared) or [" + batch + ", N, ..., " + features + "]");
        }
        if (batch == 1) {
            // Same code as the unbatched call, so B = 1 agrees bit for bit.
            Tensor xs = shared ? x : x.squeeze(0);
            return affineMap(normalise(xs), WeightBatches.squeezeLeading(params), xs.rank()).expandDims(0);
        }
        Tensor xb = shared ? x.expandDims(0) : x;
        return affineMap(normalise(xb), params, xb.rank());
    }

    private Tensor normalise(Tensor x) {
        Tensor centred = x.sub(x.mean(-1, true));
        Tensor var = centred.square().mean(-1, true);
        return centred.div(var.add(eps).sqrt());
    }

    /** {@code y * weight + bias} with [d] or [B, d] parameters broadcast over a rank-{@code rank} tensor. */
    private Tensor affineMap(Tensor y, Params params, int rank) {
        if (!affine) {
            return y;
        }
        return y.mul(lastAxis(params.get("weight"), rank)).add(lastAxis(params.get("bias"), rank));
    }

    private static Tensor lastAxis(Tensor v, int rank) {
        if (v.rank() == 1) {
            return v;
        }
        int[] dims = new int[rank];
        Arrays.fill(dims, 1);
        dims[0] = v.dim(0);
        dims[rank - 1] = v.dim(1);
        return v.reshape(Shape.of(dims));
    }

    @Override
    public String toString() {
        return "LayerNorm(" + features + ", eps " + eps + (affine ? "" : ", no affine") + ")";
    }
}
