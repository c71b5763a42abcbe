package dev.metaforge.api.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Module;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.List;

/**
 * E copies of one module run as a single weight batch over a {@link RoutingPlan}: the dispatch
 * and combine of {@link MixtureOfExperts}, usable on its own (a layer stack whose routing was
 * computed ahead of time, experts mixed from other weights). All on the backend, no host copy:
 * <ul>
 *   <li><b>capacity</b> (token choice, C > 0): buffers [E, C, d] filled through an inverse map
 *       (one scatter of token ids onto slots), one batched expert call, each kept assignment's
 *       output gathered back and weighted; dropped assignments are never computed;</li>
 *   <li><b>dropless</b> (token choice, no capacity): assignments grouped by expert (their slots
 *       are ranks after a stable sort), each group padded to whole blocks of b rows, the
 *       [blocks, b, d] buffer run with the experts' parameters gathered per block; the number of
 *       blocks {@code ⌊(A + E(b−1))/b⌋} bounds every grouping, so no shape depends on the data;</li>
 *   <li><b>expert choice</b>: the picked tokens gathered into [E, C, d], outputs weighted and
 *       scattered back onto their tokens.</li>
 * </ul>
 *
 * @param expert    one expert; it must accept a weight batch (parameters with a leading axis) and
 *                  an input [B, rows, d]
 * @param experts   E
 * @param blockSize rows per dropless block; 0 chooses one from the batch
 */
public record ExpertBatch(Module expert, int experts, int blockSize) {
    public ExpertBatch {
        requireNonNull(expert, "expert is null");
        if (experts <= 0) {
            throw new IllegalArgumentException("experts must be > 0, got " + experts);
        }
        if (blockSize < 0) {
            throw new IllegalArgumentException("blockSize must be >= 0 (0: automatic), got " + blockSize);
        }
    }

    /**
     * {@code y[n] = Σ over n's kept assignments of weight · expert_e(x[n])} [N, d_out] for tokens
     * {@code x} [N, d]; {@code expertParams} carry the leading expert axis E.
     */
    public Tensor combine(Params expertParams, Tensor x, RoutingPlan plan) {
        requireNonNull(expertParams, "expertParams is null");
        requireNonNull(x, "x is null");
        requireNonNull(plan, "plan is null");
        if (plan.experts() != experts || x.rank() != 2 || plan.tokens() != x.dim(0)) {
            throw new IllegalArgumentException("a plan for " + plan.tokens() + " tokens and " + plan.experts()
                    + " experts does not fit tokens " + x.shape() + " and " + experts + " experts");
        }
        if (!plan.isTokenChoice()) {
            return expertChoice(expertParams, x, plan);
        }
        return plan.isDropless() ? dropless(expertParams, x, plan) : withCapacity(expertParams, x, plan);
    }

    private Tensor withCapacity(Params expertParams, Tensor x, RoutingPlan plan) {
        Engine engine = x.engine();
        int n = x.dim(0);
        int d = x.dim(1);
        int c = plan.capacity();
        int a = plan.assignments();
        int rows = experts * c;
        DType dtype = plan.weight().dtype();
        Tensor kept = plan.kept().cast(DType.INT64);
        Tensor position = plan.expert().mul((double) c).add(plan.slot());
        // Dropped assignments write into one extra row that is discarded.
        Tensor target = position.mul(kept).add(kept.neg().add(1.0).mul((double) rows));
        Tensor source = sourceRows(engine, target, plan.token(), n, rows + 1, dtype).slice(0, 0, rows);
        Tensor buffer = padded(x).gather(source, 0).reshape(experts, c, d);
        Tensor out = expert.apply(expertParams, buffer);
        int dOut = out.dim(-1);
        Tensor perAssignment = out.reshape(rows, dOut).gather(position.mul(kept), 0).mul(plan.weight().reshape(a, 1));
        return perAssignment.reshape(n, plan.k(), dOut).sum(1, false);
    }

    private Tensor dropless(Params expertParams, Tensor x, RoutingPlan plan) {
        Engine engine = x.engine();
        int n = x.dim(0);
        int d = x.dim(1);
        int a = plan.assignments();
        int b = blockSize > 0 ? blockSize : automaticBlock(a, experts);
        int blocks = (int) (((long) a + (long) experts * (b - 1)) / b);
        int rows = blocks * b;
        DType dtype = plan.weight().dtype();
        Tensor perExpertBlocks = Routing.counts(plan.expert(), experts, dtype).add(b - 1.0).div((double) b)
                .cast(DType.INT64).cast(dtype);
        Tensor paddedCounts = perExpertBlocks.mul((double) b);
        Tensor paddedEnd = paddedCounts.cumsum(0);
        Tensor paddedStart = paddedEnd.sub(paddedCounts);
        Tensor position = paddedStart.gather(plan.expert(), 0).add(plan.slot().cast(dtype)).cast(DType.INT64);
        Tensor source = sourceRows(engine, position, plan.token(), n, rows, dtype);
        Tensor buffer = padded(x).gather(source, 0).reshape(blocks, b, d);
        // Block j belongs to the first expert whose padded range ends after j·b; trailing blocks are empty.
        Tensor blockStart = engine.arange(blocks).cast(dtype).mul((double) b).reshape(blocks, 1);
        Tensor blockExpert = paddedEnd.reshape(1, experts).le(blockStart).sum(1, false).minimum(experts - 1.0)
                .cast(DType.INT64);
        Params blockParams = expertParams.map(t -> t.gather(blockExpert, 0));
        Tensor out = expert.apply(blockParams, buffer);
        int dOut = out.dim(-1);
        Tensor perAssignment = out.reshape(rows, dOut).gather(position, 0).mul(plan.weight().reshape(a, 1));
        return perAssignment.reshape(n, plan.k(), dOut).sum(1, false);
    }

    private Tensor expertChoice(Params expertParams, Tensor x, RoutingPlan plan) {
        int n = x.dim(0);
        int d = x.dim(1);
        int c = plan.capacity();
        int a = plan.assignments();
        Tensor buffer = x.gather(plan.token(), 0).reshape(experts, c, d);
        Tensor out = expert.apply(expertParams, buffer);
        int dOut = out.dim(-1);
        Tensor contributions = out.reshape(a, dOut).mul(plan.weight().reshape(a, 1));
        return x.engine().zeros(Shape.of(n, dOut), contributions.dtype()).scatterAdd(plan.token(), contributions, 0);
    }

    /**
     * The block size of the dropless dispatch for A assignments over E experts. Rows computed are
     * about {@code A + E·b} and the experts' weights are gathered once per block (about
     * {@code A/b + E} copies), so b ≈ √(128·A/E) balances the two; a power of two in 16..512.
     */
    static int automaticBlock(int assignments, int experts) {
        double best = Math.sqrt(128.0 * assignments / experts);
        int b = Integer.highestOneBit((int) Math.max(1, best));
        if (b * 1.5 < best) {
            b *= 2;
        }
        return Math.max(16, Math.min(512, b));
    }

    /**
     * For every buffer row, the token it holds ({@code tokens} = the zero row when empty): an
     * inverse map built by one scatter of {@code token - N} onto rows initialised to N.
     */
    private static Tensor sourceRows(Engine engine, Tensor target, Tensor token, int tokens, int rows, DType dtype) {
        Tensor shifted = token.cast(dtype).sub((double) tokens);
        return engine.full(Shape.of(rows), tokens, dtype).scatterAdd(target, shifted, 0).cast(DType.INT64);
    }

    /** x [N, d] with one zero row appended (row N: what empty buffer rows read). */
    private static Tensor padded(Tensor x) {
        return Tensor.concat(List.of(x, x.engine().zeros(Shape.of(1, x.dim(1)), x.dtype())), 0);
    }

}
