package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;

/**
 * LoGAH's low-rank decoder: a node embedding goes through a small MLP that emits factors
 * A [maxOut, r] and B [maxIn·k², r]; a node of shape [out, in·k²] gets W = A[:out]·B[:in·k²]ᵀ, of
 * rank at most r. Its size is {@link DecoderSize#lowRank(int)}; the full GHN-2 decoder would emit
 * the whole maxOut·maxIn·k² tensor instead ({@link DecoderSize#full()}).
 */
public final class LowRankDecoder {
    private final DecoderSize size;
    private final int rank;
    private final Mlp mlp;

    public LowRankDecoder(DecoderSize size, int rank) {
        this.size = size;
        this.rank = rank;
        long out = (long) rank * (size.maxOut() + (long) size.maxIn() * size.kernel() * size.kernel());
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

    /**
     * The weight matrix [rows, cols] for one node from its embedding [1, embed]: rows = the weight's
     * first axis, cols = the product of the rest (in·k² for a conv; a linear weight is [in, out]),
     * reshaped by the caller to the layer's own shape.
     */
    public Tensor decode(Params params, Tensor embedding, int out, int fanIn) {
        int maxFanIn = size.maxIn() * size.kernel() * size.kernel();
        if (out > size.maxOut() || fanIn > maxFanIn) {
            throw new IllegalArgumentException("node of " + out + " x " + fanIn + " exceeds the decoder's "
                    + size.maxOut() + " x " + maxFanIn);
        }
        Tensor factors = mlp.apply(params, embedding).reshape(rank * (size.maxOut() + maxFanIn));
        Tensor a = factors.slice(0, 0, rank * size.maxOut()).reshape(size.maxOut(), rank).slice(0, 0, out);
        Tensor b = factors.slice(0, rank * size.maxOut(), rank * (size.maxOut() + maxFanIn)).reshape(maxFanIn, rank)
                .slice(0, 0, fanIn);
        return a.matmul(b.transpose(1, 0));
    }
}
