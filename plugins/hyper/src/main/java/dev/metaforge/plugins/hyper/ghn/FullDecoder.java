package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;

/**
 * GHN-2's full decoder: a node embedding goes through an MLP that emits one max-size tensor
 * [K, K, maxOut, maxIn] (a channel matrix per kernel tap), of which a node takes the centre k×k taps
 * and the top-left [rows, cols] block, laid out like {@link LowRankDecoder}'s. Size
 * {@link DecoderSize#full()}. (GHN-2 also tiles when a layer exceeds the max; this one refuses instead.)
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

    /** The weight for one node, shaped as {@link LowRankDecoder#decode} shapes it. */
    public Tensor decode(Params params, Tensor embedding, int rows, int cols, int kernel) {
        int grid = size.kernel();
        if (rows > size.maxOut() || cols > size.maxIn() || kernel > grid || (grid - kernel) % 2 != 0) {
            throw new IllegalArgumentException("node of " + rows + " x " + cols + " x " + kernel + "x" + kernel + " does not fit the"
                    + " decoder's " + size.maxOut() + " x " + size.maxIn() + " x " + grid + "x" + grid);
        }
        int off = (grid - kernel) / 2;
        Tensor w = mlp.apply(params, embedding).reshape(grid, grid, size.maxOut(), size.maxIn())
                .slice(new int[] {off, off, 0, 0}, new int[] {off + kernel, off + kernel, rows, cols});
        return kernel == 1 ? w.reshape(rows, cols) : w.transpose(2, 3, 0, 1);
    }
}
