package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;

/**
 * LoGAH's low-rank decoder: a node embedding goes through a small MLP that emits, for each of the
 * K×K kernel taps of the largest kernel, factors A [maxOut, r] and B [maxIn, r]; a node of shape
 * [out, in, k, k] gets {@code W[:, :, i, j] = A_ij[:out]·B_ij[:in]ᵀ}, a channel matrix of rank at
 * most r per tap. A linear weight (or any rank-2 weight [rows, cols]) is the k = 1 case.
 *
 * <p>Kernel axes. GHN-2/3 decoders emit a weight's kernel axes as the spatial axes of their output
 * (one out×in channel matrix per tap of a max-size kernel, the centre k×k taps cut out for a smaller
 * kernel); LoGAH replaces that channel matrix by a low-rank product. This decoder does the same: the
 * kernel axes are kept out of the factorisation, one rank-r product per tap, and a k×k kernel takes
 * the centre k×k taps of the K×K grid (so a 3×3 kernel of a space with 5×5 ones reuses the 5×5
 * kernel's centre, and a linear layer the centre tap). The alternative, one product
 * A [out, r]·B [in·k², r]ᵀ over the flattened kernel, has fewer outputs but ties the k² taps of a
 * channel pair to one rank-r subspace and changes meaning when k changes (the flattened axis of a
 * 3×3 kernel is not a prefix of a 5×5 one's), so it was not chosen. Size: {@link DecoderSize#lowRank(int)}
 * against {@link DecoderSize#full()} for GHN-2's full decoder.
 */
public final class LowRankDecoder {
    private final DecoderSize size;
    private final int rank;
    private final Mlp mlp;

    public LowRankDecoder(DecoderSize size, int rank) {
        this.size = size;
        this.rank = rank;
        long out = (long) rank * size.kernel() * size.kernel() * ((long) size.maxOut() + size.maxIn());
        if (out > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("LoGAH decoder output of " + out + " values is too large");
        }
        this.mlp = Mlp.of(List.of(size.embed(), size.hidden(), (int) out), Activation.RELU);
    }

    /** The decoder MLP's parameters (their count is {@code size.lowRank(rank)}). */
    public List<ParamSpec> parameters() {
        return mlp.parameters();
    }

    /** The decoder MLP, for initialisation. */
    public Mlp mlp() {
        return mlp;
    }

    /** The rank r. */
    public int rank() {
        return rank;
    }

    /** The largest layer it serves. */
    public DecoderSize size() {
        return size;
    }

    /**
     * The weight for one node from its embedding [1, embed]: [rows, cols] when {@code kernel} is 1
     * (a linear weight [in, out] is rows = in, cols = out), else [rows, cols, kernel, kernel] (a
     * convolution [out, in, k, k]). {@code kernel} must be odd, so that its taps are centred in the
     * decoder's grid.
     */
    public Tensor decode(Params params, Tensor embedding, int rows, int cols, int kernel) {
        int grid = size.kernel();
        if (rows > size.maxOut() || cols > size.maxIn() || kernel > grid || (grid - kernel) % 2 != 0) {
            throw new IllegalArgumentException("node of " + rows + " x " + cols + " x " + kernel + "x" + kernel + " does not fit the"
                    + " decoder's " + size.maxOut() + " x " + size.maxIn() + " x " + grid + "x" + grid
                    + (kernel <= grid && (grid - kernel) % 2 != 0 ? " (kernel sides must differ by an even number to be centred)" : ""));
        }
        int taps = grid * grid;
        int aSize = rank * taps * size.maxOut();
        Tensor factors = mlp.apply(params, embedding).reshape(rank * taps * (size.maxOut() + size.maxIn()));
        int off = (grid - kernel) / 2;
        Tensor a = factors.slice(0, 0, aSize).reshape(grid, grid, size.maxOut(), rank)
                .slice(new int[] {off, off, 0, 0}, new int[] {off + kernel, off + kernel, rows, rank}).reshape(kernel * kernel, rows, rank);
        Tensor b = factors.slice(0, aSize, factors.dim(0)).reshape(grid, grid, size.maxIn(), rank)
                .slice(new int[] {off, off, 0, 0}, new int[] {off + kernel, off + kernel, cols, rank}).reshape(kernel * kernel, cols, rank);
        Tensor w = a.matmul(b, false, true); // [k², rows, cols]
        return kernel == 1 ? w.reshape(rows, cols) : w.transpose(1, 2, 0).reshape(rows, cols, kernel, kernel);
    }
}
