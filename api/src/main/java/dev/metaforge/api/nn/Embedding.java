package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.List;
import java.util.Map;

/**
 * A lookup table (PyTorch's {@code nn.Embedding}): INT64 indices of any shape [...] in
 * [0, vocab) pick rows of {@code weight} [vocab, dim], giving [..., dim]. The weight's axes are
 * (INDEX, OUT); it starts N(0, 1) as in PyTorch. The gradient reaches only the rows picked
 * (repeated indices add up).
 *
 * <p>Weight batch, as {@link Linear}: with {@code weight} [B, vocab, dim], indices [N] are shared
 * by the B networks and indices of rank 2 or more, [B, N, ...], give each network its own (to share
 * sequences [N, T], broadcast them to [B, N, T]); the output is [B, N, ..., dim], one gather from
 * the flattened [B * vocab, dim] table. A batch of one takes the unbatched path and equals it
 * exactly.
 *
 * <p>Indices are checked to lie in [0, vocab) (one small copy of their minimum and maximum to the
 * host), so a bad index is an error naming the layer rather than a backend-specific failure.
 *
 * @param vocab the number of rows
 * @param dim   the size of each row
 */
public record Embedding(int vocab, int dim) implements Module {
    public Embedding {
        if (vocab <= 0 || dim <= 0) {
            throw new IllegalArgumentException("Embedding needs positive sizes, got vocab=" + vocab + " dim=" + dim);
        }
    }

    @Override
    public List<ParamSpec> parameters() {
        return List.of(new ParamSpec("weight", Shape.of(vocab, dim), ParamKind.EMBEDDING, List.of(Axis.INDEX, Axis.OUT), vocab, dim,
                Initializer.normal(1.0)));
    }

    @Override
    public String kind() {
        return "embedding";
    }

    /** Reads the vocabulary (an index is a one-hot row of it) and writes a new group of {@code dim} features. */
    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup in = b.resolve(input, vocab);
        NeuronGroup out = b.group(StructureBuilder.join(prefix, "out"), dim);
        b.layer(prefix, kind(), in, out, Map.of("weight", StructureBuilder.join(prefix, "weight")), Map.of());
        return out;
    }

    @Override
    public Tensor apply(Params params, Tensor indices) {
        if (indices.dtype() != DType.INT64) {
            throw new IllegalArgumentException(this + ": input must be INT64 indices, got " + indices.dtype() + " of shape "
                    + indices.shape());
        }
        checkRange(indices);
        Tensor w = params.get("weight");
        int batch = weightBatch(params);
        if (batch == 0) {
            return w.gather(indices, 0);
        }
        boolean shared = indices.rank() == 1;
        if (!shared && indices.dim(0) != batch) {
            throw new IllegalArgumentException(this + " with weight batch " + batch + ": index shape " + indices.shape()
                    + " must be [N] (shared) or [" + batch + ", N, ...]");
        }
        if (batch == 1) {
            // Same gather as the unbatched call, so B = 1 agrees bit for bit.
            return w.squeeze(0).gather(shared ? indices : indices.squeeze(0), 0).expandDims(0);
        }
        Tensor perNetwork = shared ? indices.expandDims(0) : indices;
        // Network b's rows start at b * vocab in the flattened table.
        long[] starts = new long[batch];
        for (int b = 0; b < batch; b++) {
            starts[b] = (long) b * vocab;
        }
        int[] offsetDims = new int[perNetwork.rank()];
        java.util.Arrays.fill(offsetDims, 1);
        offsetDims[0] = batch;
        Tensor offsets = indices.engine().indices(starts, offsetDims);
        return w.reshape(batch * vocab, dim).gather(perNetwork.add(offsets), 0);
    }

    private void checkRange(Tensor indices) {
        if (indices.size() == 0) {
            return;
        }
        long low = (long) indices.min(new int[0], false).item();
        long high = (long) indices.max(new int[0], false).item();
        if (low < 0 || high >= vocab) {
            throw new IllegalArgumentException(this + ": index " + (low < 0 ? low : high) + " is outside [0, " + vocab
                    + ") (index shape " + indices.shape() + ")");
        }
    }

    @Override
    public String toString() {
        return "Embedding(" + vocab + ", " + dim + ")";
    }
}
