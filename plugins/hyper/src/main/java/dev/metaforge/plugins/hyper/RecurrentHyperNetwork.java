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
 * The dependency-preserving recurrent hypernetwork of Chandra, Varshney, Srijith and Gupta
 * ("Continual Learning with Dependency Preserving Hypernetworks", WACV 2023): the target's
 * generated parameters, flattened in order and joined into one vector of P values, are cut into
 * N = ⌈P / chunkSize⌉ chunks (the last one truncated to what is left). An LSTM walks over the chunks;
 * step t reads {@code [context, c_t]} (c_t the learned embedding of chunk t) and the state left by
 * step t−1, and <b>one shared output head</b> turns its hidden state into chunk t:
 * {@code chunk_t = h_t W_head + b_head}. The state starts at zero.
 *
 * <p>Defining property: every chunk is generated conditioned on all chunks before it (the state
 * carries them), so the weights of a layer are not generated independently of the earlier layers,
 * while the generator's size, {@code (d + k)·4H + H·4H + 4H + H·chunkSize + chunkSize}
 * (context d, chunk embedding k, state H), does not depend on the target; only the chunk
 * embeddings (N·k) grow with it. {@code RecurrentHyperNetworkTest} proves both: two targets of very
 * different size give the same {@link #generatorParameters()} count, and perturbing an early
 * chunk's embedding changes later chunks but never earlier ones. Chandra et al.'s regularisation
 * (importance-weighted output regulariser) lives in {@link ContinualObjective}
 * ({@code "regularizer": "importance"} on the continual experiment).
 *
 * <p>Parameters: {@code chunks} [N, k], {@code cell.context_weight} [d, 4H],
 * {@code cell.chunk_weight} [k, 4H], {@code cell.hidden_weight} [H, 4H], {@code cell.bias} [4H]
 * (gate order: input, forget, candidate, output, as PyTorch's LSTM), {@code head.weight}
 * [H, chunkSize], {@code head.bias} [chunkSize]. All B networks of a weight batch advance together,
 * one batched LSTM step per chunk; the context's and the chunk embeddings' shares of the gates are
 * computed once, before the recurrence, and the head is one matmul over all hidden states.
 */
public final class RecurrentHyperNetwork implements HyperNetwork {
    private final List<ParamSpec> generated;
    private final int contextSize;
    private final int hiddenSize;
    private final int chunkSize;
    private final int chunkEmbeddingSize;
    private final long total;
    private final int chunks;
    private final Initializer headInit;

    public RecurrentHyperNetwork(List<ParamSpec> generated, int contextSize, int hiddenSize, int chunkSize, int chunkEmbeddingSize,
                                 Initializer headInit) {
        this.generated = List.copyOf(requireNonNull(generated, "generated is null"));
        if (generated.isEmpty()) {
            throw new IllegalArgumentException("recurrent hypernetwork: nothing to generate");
        }
        if (contextSize <= 0 || hiddenSize <= 0 || chunkSize <= 0 || chunkEmbeddingSize <= 0) {
            throw new IllegalArgumentException("recurrent hypernetwork: contextSize, hiddenSize, chunkSize and chunkEmbeddingSize must be"
                    + " positive, got " + contextSize + ", " + hiddenSize + ", " + chunkSize + ", " + chunkEmbeddingSize);
        }
        this.contextSize = contextSize;
        this.hiddenSize = hiddenSize;
        this.chunkSize = chunkSize;
        this.chunkEmbeddingSize = chunkEmbeddingSize;
        this.total = this.generated.stream().mapToLong(s -> s.shape().size()).sum();
        this.chunks = Math.toIntExact((total + chunkSize - 1) / chunkSize);
        this.headInit = requireNonNull(headInit, "headInit is null");
    }

    /** N, the number of chunks (and LSTM steps): ⌈generated values / chunkSize⌉. */
    public int chunks() {
        return chunks;
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
        out.addAll(generatorParameters());
        return out;
    }

    /** The LSTM cell and the shared head: the same for every target (only the chunk embeddings are not). */
    public List<ParamSpec> generatorParameters() {
        int h = hiddenSize;
        int g = 4 * h;
        int in = contextSize + chunkEmbeddingSize;
        // PyTorch's LSTM initialisation: every cell tensor U(-1/sqrt(H), 1/sqrt(H)), i.e. fan-in H.
        Initializer lstm = Initializer.torchDefault();
        return List.of(
                new ParamSpec("cell.context_weight", Shape.of(contextSize, g), ParamKind.WEIGHT, h, g, lstm),
                new ParamSpec("cell.chunk_weight", Shape.of(chunkEmbeddingSize, g), ParamKind.WEIGHT, h, g, lstm),
                new ParamSpec("cell.hidden_weight", Shape.of(h, g), ParamKind.WEIGHT, h, g, lstm),
                new ParamSpec("cell.bias", Shape.of(g), ParamKind.BIAS, h, g, lstm),
                new ParamSpec("head.weight", Shape.of(h, chunkSize), ParamKind.WEIGHT, h, chunkSize, headInit),
                new ParamSpec("head.bias", Shape.of(chunkSize), ParamKind.BIAS, h, chunkSize, Initializer.zeros()));
    }

    @Override
    public String kind() {
        return "recurrent";
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
        int h = hiddenSize;
        Tensor c = context.reshape(b, contextSize);
        Tensor wHidden = params.get("cell.hidden_weight");
        // Gate inputs that do not depend on the state, computed once: the context's share [B, 4H]
        // (with the bias) and every chunk embedding's share [N, 4H].
        Tensor fromContext = c.linear(params.get("cell.context_weight"), params.get("cell.bias"));
        Tensor fromChunks = params.get("chunks").matmul(params.get("cell.chunk_weight"));
        Tensor state = null;
        Tensor cell = null;
        List<Tensor> hidden = new ArrayList<>(chunks);
        for (int t = 0; t < chunks; t++) {
            Tensor gates = fromContext.add(fromChunks.slice(0, t, t + 1));
            if (state != null) {
                gates = gates.add(state.matmul(wHidden));
            }
            Tensor in = gates.slice(1, 0, h).sigmoid();
            Tensor candidate = gates.slice(1, 2 * h, 3 * h).tanh();
            Tensor out = gates.slice(1, 3 * h, 4 * h).sigmoid();
            // Zero initial state: the forget gate has nothing to forget at step 0.
            cell = cell == null ? in.mul(candidate) : gates.slice(1, h, 2 * h).sigmoid().mul(cell).add(in.mul(candidate));
            state = out.mul(cell.tanh());
            hidden.add(state);
        }
        // One shared head over all steps: [B, N, H] x [H, chunk] -> [B, N, chunk] -> [B, N·chunk], cut to P.
        Tensor flat = Tensor.stack(hidden, 1).matmul(params.get("head.weight")).add(params.get("head.bias"))
                .reshape(b, chunks * chunkSize).slice(1, 0, Math.toIntExact(total));
        Map<String, Tensor> out = new LinkedHashMap<>();
        int offset = 0;
        for (ParamSpec spec : generated) {
            int n = Math.toIntExact(spec.shape().size());
            Tensor part = flat.slice(1, offset, offset + n);
            offset += n;
            int[] dims = spec.shape().dims();
            int[] full = new int[dims.length + 1];
            full[0] = b;
            System.arraycopy(dims, 0, full, 1, dims.length);
            out.put(spec.name(), batch == 0 ? part.reshape(dims) : part.reshape(full));
        }
        return Params.of(out);
    }
}
