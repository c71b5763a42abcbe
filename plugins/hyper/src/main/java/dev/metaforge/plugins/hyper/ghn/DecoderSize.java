package dev.metaforge.plugins.hyper.ghn;

/**
 * Parameter counts of the two graph-hypernetwork decoders, for a node embedding of width
 * {@code embed}, a hidden layer of width {@code hidden}, and the largest layer the decoder must
 * serve ({@code maxOut} x {@code maxIn} x {@code kernel}²).
 *
 * <p>Full (GHN-2): embed -> hidden -> one max-size tensor (k²·maxOut·maxIn), sliced to each node's
 * shape. Low-rank (LoGAH): embed -> hidden -> per kernel tap A [maxOut, r] and B [maxIn, r],
 * W[:, :, tap] = A·Bᵀ (see {@link LowRankDecoder}), so the output layer grows with
 * k²·(maxOut + maxIn) instead of k²·maxOut·maxIn.
 *
 * @param embed  node-embedding width
 * @param hidden decoder hidden width
 * @param maxOut largest output channels
 * @param maxIn  largest input channels
 * @param kernel largest kernel side (1 for linear layers)
 */
public record DecoderSize(int embed, int hidden, int maxOut, int maxIn, int kernel) {
    public DecoderSize {
        if (embed < 1 || hidden < 1 || maxOut < 1 || maxIn < 1 || kernel < 1) {
            throw new IllegalArgumentException("decoder sizes must be >= 1: embed " + embed + ", hidden " + hidden
                    + ", max-out " + maxOut + ", max-in " + maxIn + ", kernel " + kernel);
        }
    }

    /** Weights and biases of the full decoder. */
    public long full() {
        long outSize = (long) maxOut * maxIn * kernel * kernel;
        return mlp(outSize);
    }

    /** Weights and biases of the LoGAH decoder of rank {@code rank}. */
    public long lowRank(int rank) {
        if (rank < 1) {
            throw new IllegalArgumentException("rank must be >= 1, got " + rank);
        }
        long outSize = (long) rank * kernel * kernel * ((long) maxOut + maxIn);
        return mlp(outSize);
    }

    private long mlp(long outSize) {
        return (long) embed * hidden + hidden + hidden * outSize + outSize;
    }
}
