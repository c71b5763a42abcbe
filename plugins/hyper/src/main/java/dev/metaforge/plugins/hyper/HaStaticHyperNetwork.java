package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Ha et al.'s static hypernetwork ("HyperNetworks", 2016, §3.1): every generated tensor, seen as a
 * matrix [first axis, product of the rest], is tiled into blocks of [chunkIn, chunkOut]; each block j
 * has its own learned embedding z_j of size d, and <b>one shared two-layer generator</b> turns every
 * embedding into its block: a = (z_j ⊕ context)·W1 + b1 reshaped to [chunkIn, d] (Ha's a_i = W_i z + B_i,
 * one vector per input slice), then K = a·W2 + b2 of shape [chunkIn, chunkOut]. Blocks are laid side by
 * side and cut to the tensor's shape.
 *
 * <p>Defining property: the generator's parameter count, (d + c)·chunkIn·d + chunkIn·d + d·chunkOut +
 * chunkOut, does not depend on the target's depth or width; only the embeddings (d per block) grow
 * with the target. {@code HaStaticHyperNetworkTest} proves it. The context (size c, e.g. a task
 * embedding) is joined to every z_j; a weight batch of B contexts yields B networks.
 */
public final class HaStaticHyperNetwork implements HyperNetwork {
    private final List<ParamSpec> generated;
    private final int contextSize;
    private final int embedding;
    private final int chunkIn;
    private final int chunkOut;
    private final List<int[]> tiles = new ArrayList<>();

    public HaStaticHyperNetwork(List<ParamSpec> generated, int contextSize, int embedding, int chunkIn, int chunkOut) {
        this.generated = List.copyOf(requireNonNull(generated, "generated is null"));
        if (contextSize <= 0 || embedding <= 0 || chunkIn <= 0 || chunkOut <= 0) {
            throw new IllegalArgumentException("ha-static hypernetwork: contextSize, embeddingSize, chunkIn and chunkOut must be positive,"
                    + " got " + contextSize + ", " + embedding + ", " + chunkIn + ", " + chunkOut);
        }
        this.contextSize = contextSize;
        this.embedding = embedding;
        this.chunkIn = chunkIn;
        this.chunkOut = chunkOut;
        for (ParamSpec spec : this.generated) {
            int[] m = matrix(spec.shape());
            tiles.add(new int[] {ceil(m[0], chunkIn), ceil(m[1], chunkOut)});
        }
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }

    /** [first axis, product of the rest]; a vector is one row. */
    private static int[] matrix(Shape shape) {
        int[] dims = shape.dims();
        if (dims.length == 0) {
            return new int[] {1, 1};
        }
        if (dims.length == 1) {
            return new int[] {1, dims[0]};
        }
        return new int[] {dims[0], Math.toIntExact(shape.size() / dims[0])};
    }

    @Override
    public List<ParamSpec> generated() {
        return generated;
    }

    /** The shared generator ("gen.*"), then one embedding table per generated tensor ("z.NAME", [blocks, d]). */
    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>(generatorParameters());
        for (int i = 0; i < generated.size(); i++) {
            int blocks = tiles.get(i)[0] * tiles.get(i)[1];
            out.add(new ParamSpec("z." + generated.get(i).name(), Shape.of(blocks, embedding), ParamKind.WEIGHT, blocks, embedding,
                    Initializer.normal(1.0)));
        }
        return out;
    }

    /** The shared two-layer generator's parameters: the same for every target. */
    public List<ParamSpec> generatorParameters() {
        int hidden = chunkIn * embedding;
        return List.of(
                new ParamSpec("gen.wz", Shape.of(embedding, hidden), ParamKind.WEIGHT, embedding + contextSize, hidden, Initializer.torchDefault()),
                new ParamSpec("gen.wc", Shape.of(contextSize, hidden), ParamKind.WEIGHT, embedding + contextSize, hidden, Initializer.torchDefault()),
                new ParamSpec("gen.b1", Shape.of(hidden), ParamKind.BIAS, embedding + contextSize, hidden, Initializer.zeros()),
                new ParamSpec("gen.w2", Shape.of(embedding, chunkOut), ParamKind.WEIGHT, embedding, chunkOut, Initializer.torchDefault()),
                new ParamSpec("gen.b2", Shape.of(chunkOut), ParamKind.BIAS, embedding, chunkOut, Initializer.zeros()));
    }

    @Override
    public String kind() {
        return "ha-static";
    }

    @Override
    public Shape contextShape() {
        return Shape.of(contextSize);
    }

    @Override
    public Params generate(Params params, Tensor context) {
        requireNonNull(params, "params is null");
        int batch = contextBatch(context);
        int b = Math.max(batch, 1);
        // The context's share of the first layer, once per network: the ⊕ of z_j and the context, split in two matmuls.
        Tensor fromContext = context.reshape(b, contextSize).matmul(params.get("gen.wc")).add(params.get("gen.b1"))
                .reshape(b, 1, chunkIn * embedding);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < generated.size(); i++) {
            ParamSpec spec = generated.get(i);
            int rowsT = tiles.get(i)[0];
            int colsT = tiles.get(i)[1];
            int[] m = matrix(spec.shape());
            Tensor z = params.get("z." + spec.name());                                   // [T, d]
            Tensor a = z.matmul(params.get("gen.wz")).reshape(1, rowsT * colsT, chunkIn * embedding).add(fromContext)
                    .reshape(b, rowsT * colsT, chunkIn, embedding);                        // [B, T, chunkIn, d]
            Tensor k = a.matmul(params.get("gen.w2")).add(params.get("gen.b2"));          // [B, T, chunkIn, chunkOut]
            Tensor w = k.reshape(b, rowsT, colsT, chunkIn, chunkOut).transpose(0, 1, 3, 2, 4)
                    .reshape(b, rowsT * chunkIn, colsT * chunkOut)
                    .slice(new int[] {0, 0, 0}, new int[] {b, m[0], m[1]});
            int[] dims = spec.shape().dims();
            int[] full = new int[dims.length + 1];
            full[0] = b;
            System.arraycopy(dims, 0, full, 1, dims.length);
            Tensor shaped = w.reshape(full);
            out.put(spec.name(), batch == 0 ? shaped.reshape(dims) : shaped);
        }
        return Params.of(out);
    }
}
