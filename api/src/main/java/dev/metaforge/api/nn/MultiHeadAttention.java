package dev.metaforge.api.nn;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Multi-head self-attention (PyTorch's {@code nn.MultiheadAttention} with {@code batch_first=True},
 * query = key = value): for input [N, T, d],
 * {@code q = x Wq + bq, k = x Wk + bk, v = x Wv + bv} split into {@code heads} heads of d / heads,
 * {@code softmax(q k^T / sqrt(d / heads)) v} per head (with a causal mask, position t attends to
 * positions <= t), heads joined and projected by {@code out}. Parameters {@code q.weight} [d, d]
 * ([in, out], as {@link Linear}), {@code q.bias} [d], and the same for {@code k}, {@code v},
 * {@code out}.
 *
 * <p>Initialisation is PyTorch's: q, k, v weights U(-b, b) with b = sqrt(6 / (d + 3d)) (Xavier on its
 * packed [3d, d] projection), the out weight U(-1/sqrt(d), 1/sqrt(d)), every bias 0.
 *
 * <p>Weight batch: with parameters [B, ...], an input [N, T, d] is shared by the B networks and an
 * input [B, N, T, d] gives each its own; the output is [B, N, T, d]. A batch of one takes the
 * unbatched path and equals it exactly.
 *
 * <p>Structure: q and k write one group of d neurons split into {@code heads} blocks (a score is a
 * dot product of q and k, so they are permuted together, within heads), v writes another such group,
 * an {@code attention} layer mixes positions within the v group, and {@code out} maps it to a new
 * group of d.
 *
 * @param d      model width, divisible by {@code heads}
 * @param heads  number of heads
 * @param causal whether position t sees only positions up to t
 * @param bias   whether the four projections have biases
 */
public record MultiHeadAttention(int d, int heads, boolean causal, boolean bias) implements Module {
    private static final List<String> PROJECTIONS = List.of("q", "k", "v", "out");

    public MultiHeadAttention {
        if (d <= 0 || heads <= 0) {
            throw new IllegalArgumentException("MultiHeadAttention needs positive sizes, got d=" + d + " heads=" + heads);
        }
        if (d % heads != 0) {
            throw new IllegalArgumentException("MultiHeadAttention: heads = " + heads + " does not divide d = " + d);
        }
    }

    public int headSize() {
        return d / heads;
    }

    @Override
    public List<ParamSpec> parameters() {
        Initializer inProjection = Initializer.uniform(Math.sqrt(6.0 / (d + 3.0 * d)));
        List<ParamSpec> specs = new ArrayList<>(8);
        for (String name : PROJECTIONS) {
            Initializer weightInit = name.equals("out") ? Initializer.torchDefault() : inProjection;
            specs.add(new ParamSpec(name + ".weight", Shape.of(d, d), ParamKind.WEIGHT, List.of(Axis.IN, Axis.OUT), d, d, weightInit));
            if (bias) {
                specs.add(new ParamSpec(name + ".bias", Shape.of(d), ParamKind.BIAS, List.of(Axis.OUT), d, d, Initializer.zeros()));
            }
        }
        return specs;
    }

    @Override
    public String kind() {
        return "attention";
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup in = b.resolve(input, d);
        NeuronGroup queryKey = b.group(StructureBuilder.join(prefix, "qk"), d, heads);
        NeuronGroup value = b.group(StructureBuilder.join(prefix, "v"), d, heads);
        b.layer(StructureBuilder.join(prefix, "q"), "linear", in, queryKey, roles(prefix, "q"), Map.of());
        b.layer(StructureBuilder.join(prefix, "k"), "linear", in, queryKey, roles(prefix, "k"), Map.of());
        b.layer(StructureBuilder.join(prefix, "v"), "linear", in, value, roles(prefix, "v"), Map.of());
        b.layer(prefix, kind(), value, value, Map.of(), Map.of("heads", Integer.toString(heads), "causal",
                Boolean.toString(causal), "scores", queryKey.id()));
        return new Linear(d, d, bias, Initializer.zeros()).describe(b, StructureBuilder.join(prefix, "out"), value);
    }

    private Map<String, String> roles(String prefix, String projection) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("weight", StructureBuilder.join(prefix, projection + ".weight"));
        if (bias) {
            params.put("bias", StructureBuilder.join(prefix, projection + ".bias"));
        }
        return params;
    }

    @Override
    public Tensor apply(Params params, Tensor x) {
        int batch = weightBatch(params);
        boolean shared = x.rank() == 3;
        if (!shared && (batch == 0 || x.rank() != 4 || x.dim(0) != batch) || x.dim(-1) != d) {
            throw new IllegalArgumentException(this + ": input shape " + x.shape() + " must be [N, T, " + d + "]"
                    + (batch > 0 ? " (shared) or [" + batch + ", N, T, " + d + "]" : ""));
        }
        if (batch == 0) {
            return attend(params, x);
        }
        if (batch == 1) {
            // Same code as the unbatched call, so B = 1 agrees bit for bit.
            Tensor y = attend(WeightBatches.squeezeLeading(params), shared ? x : x.squeeze(0));
            return y.expandDims(0);
        }
        if (!shared) {
            return attend(params, x);
        }
        // A shared input is projected by all B networks at once: [N*T, d] -> [B, N*T, d].
        int n = x.dim(0);
        int t = x.dim(1);
        Tensor rows = x.reshape(n * t, d);
        Tensor q = project(params, "q", rows).reshape(batch, n, t, d);
        Tensor k = project(params, "k", rows).reshape(batch, n, t, d);
        Tensor v = project(params, "v", rows).reshape(batch, n, t, d);
        return project(params, "out", mix(q, k, v));
    }

    /** Attention over [..., T, d] with parameters of the matching batch form. */
    private Tensor attend(Params params, Tensor x) {
        return project(params, "out", mix(project(params, "q", x), project(params, "k", x), project(params, "v", x)));
    }

    private Tensor project(Params params, String name, Tensor x) {
        return new Linear(d, d, bias, Initializer.zeros()).apply(params.scoped(name), x);
    }

    /** Scaled dot-product attention per head of q, k, v [..., T, d]; returns [..., T, d] with heads joined. */
    private Tensor mix(Tensor q, Tensor k, Tensor v) {
        int t = q.dim(-2);
        Tensor scores = splitHeads(q).matmul(splitHeads(k).mT()).mul(1.0 / Math.sqrt(headSize()));
        if (causal) {
            scores = Tensor.where(causalMask(q, t), scores, q.engine().full(Shape.scalar(), Double.NEGATIVE_INFINITY, scores.dtype()));
        }
        Tensor mixed = scores.softmax(-1).matmul(splitHeads(v));
        return joinHeads(mixed);
    }

    /** 1 where query t may see key s (s <= t). */
    private static Tensor causalMask(Tensor like, int t) {
        double[] mask = new double[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j <= i; j++) {
                mask[i * t + j] = 1;
            }
        }
        return like.engine().tensor(mask, Shape.of(t, t), like.dtype());
    }

    /** [..., T, d] to [..., heads, T, d / heads]. */
    private Tensor splitHeads(Tensor x) {
        int[] dims = x.shape().dims();
        int rank = dims.length;
        int[] split = new int[rank + 1];
        System.arraycopy(dims, 0, split, 0, rank - 1);
        split[rank - 1] = heads;
        split[rank] = headSize();
        return x.reshape(Shape.of(split)).transpose(swapped(rank + 1, rank - 2, rank - 1));
    }

    /** [..., heads, T, d / heads] to [..., T, d]. */
    private Tensor joinHeads(Tensor x) {
        int rank = x.rank();
        Tensor positionsFirst = x.transpose(swapped(rank, rank - 3, rank - 2));
        int[] dims = positionsFirst.shape().dims();
        int[] joined = new int[rank - 1];
        System.arraycopy(dims, 0, joined, 0, rank - 2);
        joined[rank - 2] = d;
        return positionsFirst.reshape(Shape.of(joined));
    }

    private static int[] swapped(int rank, int a, int b) {
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) {
            perm[i] = i;
        }
        perm[a] = b;
        perm[b] = a;
        return perm;
    }

    @Override
    public String toString() {
        return "MultiHeadAttention(d " + d + ", heads " + heads + (causal ? ", causal" : "") + (bias ? "" : ", no bias") + ")";
    }
}
