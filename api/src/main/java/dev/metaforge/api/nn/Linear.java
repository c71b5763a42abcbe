package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code y = x @ weight + bias} with {@code weight} of shape [in, out] and {@code bias} [out].
 *
 * <p>Weight batch: with {@code weight} [B, in, out] and {@code bias} [B, out], an input
 * [N, in] is shared by all B networks and an input [B, N, in] gives each network its own
 * rows; the output is [B, N, out], computed by one batched matmul. B = 1 uses the unbatched
 * kernel, so a batch of one equals the unbatched call exactly.
 *
 * @param in     input features
 * @param out    output features
 * @param bias   whether there is a bias
 * @param weightInit initializer of the weight (bias: PyTorch's default)
 */
public record Linear(int in, int out, boolean bias, Initializer weightInit) implements Module {
    public Linear {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("Linear needs positive sizes, got in=" + in + " out=" + out);
        }
        java.util.Objects.requireNonNull(weightInit, "weightInit is null");
    }

    /** A Linear layer with PyTorch's default initialization. */
    public static Linear of(int in, int out) {
        return new Linear(in, out, true, Initializer.torchDefault());
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> specs = new ArrayList<>(2);
        specs.add(new ParamSpec("weight", Shape.of(in, out), ParamKind.WEIGHT, in, out, weightInit));
        if (bias) {
            specs.add(new ParamSpec("bias", Shape.of(out), ParamKind.BIAS, in, out, Initializer.torchDefault()));
        }
        return specs;
    }

    @Override
    public String kind() {
        return "linear";
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup inGroup = b.resolve(input, in);
        NeuronGroup outGroup = b.group(StructureBuilder.join(prefix, "out"), out);
        java.util.Map<String, String> params = new java.util.LinkedHashMap<>();
        params.put("weight", StructureBuilder.join(prefix, "weight"));
        if (bias) {
            params.put("bias", StructureBuilder.join(prefix, "bias"));
        }
        b.layer(prefix, kind(), inGroup, outGroup, params, java.util.Map.of());
        return outGroup;
    }

    @Override
    public Tensor apply(Params params, Tensor x) {
        Tensor w = params.get("weight");
        Tensor b = bias ? params.get("bias") : null;
        if (x.dim(-1) != in) {
            throw new IllegalArgumentException("Linear(" + in + "->" + out + "): input shape " + x.shape()
                    + " does not end in " + in);
        }
        if (w.rank() == 2) {
            return x.linear(w, b);
        }
        if (w.rank() != 3 || w.dim(1) != in || w.dim(2) != out) {
            throw new IllegalArgumentException("Linear(" + in + "->" + out + "): weight shape " + w.shape()
                    + " is neither [" + in + ", " + out + "] nor [B, " + in + ", " + out + "]");
        }
        int batch = w.dim(0);
        if (batch == 1) {
            // Same kernel as the unbatched call, so B = 1 agrees bit for bit.
            Tensor xs = x.rank() >= 3 ? x.squeeze(0) : x;
            return xs.linear(w.squeeze(0), b == null ? null : b.squeeze(0)).expandDims(0);
        }
        Tensor xb;
        if (x.rank() == 2) {
            xb = x;
        } else if (x.dim(0) == batch) {
            xb = x.rank() == 3 ? x : x.reshape(batch, -1, in);
        } else {
            throw new IllegalArgumentException("Linear with weight batch " + batch + ": input shape " + x.shape()
                    + " must be [N, " + in + "] (shared) or [" + batch + ", N, " + in + "]");
        }
        // One fused call for product and bias (the bias broadcast over each task's rows), as in the unbatched case.
        Tensor y = xb.linear(w, b == null ? null : b.expandDims(1));
        if (x.rank() > 3) {
            int[] dims = x.shape().dims();
            dims[dims.length - 1] = out;
            y = y.reshape(dims);
        }
        return y;
    }
}
