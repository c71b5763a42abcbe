package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.Arrays;

/**
 * Shape helpers shared by the layers that run a weight batch (parameters with a leading axis B).
 * A batch of one always takes the unbatched code path (squeeze, run, add the axis back), so it
 * equals the unbatched call bit for bit on every backend.
 */
final class WeightBatches {
    private WeightBatches() {
    }

    /** Every tensor of a batch of one without its leading axis. */
    static Params squeezeLeading(Params params) {
        return params.map(t -> t.squeeze(0));
    }

    /** Every tensor with a leading axis of one added (the state of a batch of one, after an unbatched call). */
    static Params expandLeading(Params params) {
        return params.map(t -> t.expandDims(0));
    }

    /**
     * A per-channel vector reshaped to broadcast against a tensor of {@code rank} whose channel axis
     * is {@code channelAxis}: [C] becomes [1, C, 1, 1] for NCHW; [B, C] becomes [B, 1, C, 1, 1] for
     * a per-network [B, N, C, H, W].
     */
    static Tensor alongAxis(Tensor vector, int rank, int channelAxis) {
        int[] dims = new int[rank];
        Arrays.fill(dims, 1);
        if (vector.rank() == 2) {
            dims[0] = vector.dim(0);
        }
        dims[channelAxis] = vector.dim(-1);
        return vector.reshape(Shape.of(dims));
    }

    /** Dimensions of {@code shape} with {@code lead} prepended. */
    static Shape prepend(int lead, Shape shape) {
        int[] dims = new int[shape.rank() + 1];
        dims[0] = lead;
        System.arraycopy(shape.dims(), 0, dims, 1, shape.rank());
        return Shape.of(dims);
    }
}
