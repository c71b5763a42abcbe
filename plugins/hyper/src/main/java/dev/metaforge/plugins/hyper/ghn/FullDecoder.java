package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;

/**
 * GHN-2's full decoder: a node embedding goes through an MLP that emits one max-size matrix
 * [maxOut, maxIn·k²], sliced to the node's [rows, cols]. Size {@link DecoderSize#full()}; compare
 * {@link LowRankDecoder}. (GHN-2 also tiles when a layer exceeds the max; this one refuses instead.)
 */
public final class FullDecoder {
    private final DecoderSize size;
    private final Mlp mlp;

    public FullDecoder(DecoderSize size) {
        this.size = size;
        long out = (long) size.maxOut() * size.maxIn() * size.kernel() * size.kernel();
        if (out > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("full decoder output of " + out + " values is too large; use the LoGAH decoder");
        }
        this.mlp = Mlp.of(List.of(size.embed(), size.hidden(), (int) out), Activation.RELU);
    }

    /** The decoder MLP's parameters (their count is {@code size.full()}). */
    public List<ParamSpec> parameters() {
        return mlp.parameters();
    }

    /** The decoder MLP, for initialisation. */
    public Mlp mlp() {
        return mlp;
    }

    /** The weight matrix [rows, cols] for one node from its embedding [1, embed]. */
    public Tensor decode(Params params, Tensor embedding, int rows, int cols) {
        int maxCols = size.maxIn() * size.kernel() * size.kernel();
        if (rows > size.maxOut() || cols > maxCols) {
            throw new IllegalArgumentException("node of " + rows + " x " + cols + " exceeds the decoder's "
                    + size.maxOut() + " x " + maxCols);
        }
        return mlp.apply(params, embedding).reshape(size.maxOut(), maxCols).slice(new int[] {0, 0}, new int[] {rows, cols});
    }
}
