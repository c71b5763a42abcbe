package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.ParamLayout;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * A chunked hypernetwork (von Oswald et al., "Continual learning with hypernetworks", ICLR 2020;
 * the {@code ChunkedHMLP} of hypnettorch): a shared generator emits the target's flat parameter
 * vector in fixed-size chunks, each chunk selected by its own learned chunk embedding, so a small
 * hypernetwork generates a large target (a 784-256-256-10 MLP from chunks of 4096 needs 66 chunk
 * embeddings and one generator whose output layer is 4096 wide).
 *
 * <p>Parameters: {@code chunks} [C, e] (chunk embeddings), {@code net.<i>.weight/bias} (the
 * generator, input [context, chunk embedding]). For a weight batch [B, d] all B × C chunks are one
 * batched call; the first layer is split into its context and chunk halves so the [B, C, d + e]
 * input is never materialised. The last chunk's unused tail is dropped.
 */
public final class ChunkedHyperNetwork implements HyperNetwork {
    private final List<ParamSpec> generated;
    private final int contextSize;
    private final int chunkSize;
    private final int chunkEmbeddingSize;
    private final int chunks;
    private final ParamLayout layout;
    private final MlpGenerator net;

    public ChunkedHyperNetwork(List<ParamSpec> generated, int contextSize, int chunkSize, int chunkEmbeddingSize,
                               List<Integer> hidden, Activation activation, Initializer weightInit) {
        this.generated = List.copyOf(requireNonNull(generated, "generated is null"));
        if (contextSize <= 0 || chunkSize <= 0 || chunkEmbeddingSize <= 0) {
            throw new IllegalArgumentException("chunked hypernetwork: contextSize, chunkSize and chunkEmbeddingSize must be positive, got "
                    + contextSize + ", " + chunkSize + ", " + chunkEmbeddingSize);
        }
        this.contextSize = contextSize;
        this.chunkSize = chunkSize;
        this.chunkEmbeddingSize = chunkEmbeddingSize;
        this.layout = new ParamLayout(this.generated);
        this.chunks = (layout.size() + chunkSize - 1) / chunkSize;
        this.net = new MlpGenerator("net", MlpGenerator.sizes(contextSize + chunkEmbeddingSize, requireNonNull(hidden, "hidden is null"),
                chunkSize), requireNonNull(activation, "activation is null"), requireNonNull(weightInit, "weightInit is null"));
    }

    /** The number of chunks C = ceil(P / chunkSize). */
    public int chunks() {
        return chunks;
    }

    public int chunkSize() {
        return chunkSize;
    }

    @Override
    public List<ParamSpec> generated() {
        return generated;
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        out.add(new ParamSpec("chunks", Shape.of(chunks, chunkEmbeddingSize), ParamKind.EMBEDDING, chunkEmbeddingSize,
                chunkEmbeddingSize, Initializer.normal(1.0)));
        out.addAll(net.parameters());
        return out;
    }

    @Override
    public String kind() {
        return "chunked";
    }

    @Override
    public Shape contextShape() {
        return Shape.of(contextSize);
    }

    @Override
    public Params generate(Params params, Tensor context) {
        requireNonNull(params, "params is null");
        int batch = contextBatch(context);
        Tensor ctx = batch == 0 ? context.reshape(1, contextSize) : context;
        int b = ctx.dim(0);
        List<Linear> layers = net.mlp().layers();
        Params p = params.scoped("net");
        // Layer 0 on [context, chunk embedding] = context @ W[:d] + chunk @ W[d:] + bias, broadcast to [B, C, h].
        Tensor w0 = p.get("0.weight");
        Tensor h = ctx.matmul(w0.slice(0, 0, contextSize)).expandDims(1)
                .add(params.get("chunks").matmul(w0.slice(0, contextSize, contextSize + chunkEmbeddingSize)))
                .add(p.get("0.bias"));
        for (int i = 1; i < layers.size(); i++) {
            h = net.mlp().hidden().apply(h);
            h = layers.get(i).apply(p.scoped(Integer.toString(i)), h);
        }
        // The parameters are sliced straight out of the chunks (the last chunk's tail is left unused), so the
        // backward pass assembles their cotangents and the tail's zeros in one concat.
        Tensor flat = batch == 0 ? h.reshape(chunks * chunkSize) : h.reshape(b, chunks * chunkSize);
        return layout.splitLeading(flat);
    }
}
