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
 * A dependency-preserving recurrent hypernetwork: a GRU (Cho et al. 2014) walks over the target's
 * generated parameters in order (layer by layer) and emits each one from its hidden state, so the
 * weights of layer l are generated conditioned on everything generated before them, rather than
 * independently per layer as with the layer embeddings of Ha, Dai and Le ("HyperNetworks",
 * ICLR 2017). The recurrence over parameter tokens follows the recurrent parameter generator of
 * Wang et al. ("Recurrent Diffusion for Large-Scale Parameter Generation", 2025), here trained
 * directly rather than as a diffusion prior.
 *
 * <p>Step l: input {@code [context, layer embedding l]}, hidden state carried from step l−1
 * (which produced parameter l−1), output {@code θ_l = h_l W_l + b_l} through a per-parameter head.
 * The initial state is {@code tanh(context W_s + b_s)}. All B networks of a weight batch advance
 * together, one batched GRU step per parameter; the context's share of the input projection is
 * computed once for all steps.
 *
 * <p>Parameters: {@code start.weight/bias}, {@code layers} [L, k], {@code cell.input_weight}
 * [d + k, 3H], {@code cell.hidden_weight} [H, 3H], {@code cell.input_bias}, {@code cell.hidden_bias}
 * [3H] (gate order: reset, update, candidate), {@code head.<l>.weight} [H, P_l],
 * {@code head.<l>.bias} [P_l].
 */
public final class RecurrentHyperNetwork implements HyperNetwork {
    private final List<ParamSpec> generated;
    private final int contextSize;
    private final int hiddenSize;
    private final int layerEmbeddingSize;
    private final Initializer headInit;

    public RecurrentHyperNetwork(List<ParamSpec> generated, int contextSize, int hiddenSize, int layerEmbeddingSize,
                                 Initializer headInit) {
        this.generated = List.copyOf(requireNonNull(generated, "generated is null"));
        if (generated.isEmpty()) {
            throw new IllegalArgumentException("recurrent hypernetwork: nothing to generate");
        }
        if (contextSize <= 0 || hiddenSize <= 0 || layerEmbeddingSize <= 0) {
            throw new IllegalArgumentException("recurrent hypernetwork: contextSize, hiddenSize and layerEmbeddingSize must be positive, got "
                    + contextSize + ", " + hiddenSize + ", " + layerEmbeddingSize);
        }
        this.contextSize = contextSize;
        this.hiddenSize = hiddenSize;
        this.layerEmbeddingSize = layerEmbeddingSize;
        this.headInit = requireNonNull(headInit, "headInit is null");
    }

    @Override
    public List<ParamSpec> generated() {
        return generated;
    }

    @Override
    public List<ParamSpec> parameters() {
        int h = hiddenSize;
        int in = contextSize + layerEmbeddingSize;
        // PyTorch's GRU initialisation: every cell tensor U(-1/sqrt(H), 1/sqrt(H)), i.e. fan-in H.
        Initializer gru = Initializer.torchDefault();
        List<ParamSpec> out = new ArrayList<>();
        out.add(new ParamSpec("start.weight", Shape.of(contextSize, h), ParamKind.WEIGHT, contextSize, h, Initializer.xavierUniform()));
        out.add(new ParamSpec("start.bias", Shape.of(h), ParamKind.BIAS, contextSize, h, Initializer.zeros()));
        out.add(new ParamSpec("layers", Shape.of(generated.size(), layerEmbeddingSize), ParamKind.EMBEDDING, layerEmbeddingSize,
                layerEmbeddingSize, Initializer.normal(1.0)));
        out.add(new ParamSpec("cell.input_weight", Shape.of(in, 3 * h), ParamKind.WEIGHT, h, 3 * h, gru));
        out.add(new ParamSpec("cell.hidden_weight", Shape.of(h, 3 * h), ParamKind.WEIGHT, h, 3 * h, gru));
        out.add(new ParamSpec("cell.input_bias", Shape.of(3 * h), ParamKind.BIAS, h, 3 * h, gru));
        out.add(new ParamSpec("cell.hidden_bias", Shape.of(3 * h), ParamKind.BIAS, h, 3 * h, gru));
        for (int l = 0; l < generated.size(); l++) {
            int p = (int) generated.get(l).shape().size();
            out.add(new ParamSpec("head." + l + ".weight", Shape.of(h, p), ParamKind.WEIGHT, h, p, headInit));
            out.add(new ParamSpec("head." + l + ".bias", Shape.of(p), ParamKind.BIAS, h, p, Initializer.zeros()));
        }
        return out;
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
        Tensor c = batch == 0 ? context.reshape(1, contextSize) : context;
        int h3 = 3 * hiddenSize;
        Tensor wIn = params.get("cell.input_weight");
        Tensor wHidden = params.get("cell.hidden_weight");
        Tensor bHidden = params.get("cell.hidden_bias");
        Tensor state = c.linear(params.get("start.weight"), params.get("start.bias")).tanh();
        // The context part of the input projection is the same at every step: compute it once.
        Tensor fromContext = c.linear(wIn.slice(0, 0, contextSize), params.get("cell.input_bias"));
        Tensor fromLayers = params.get("layers").matmul(wIn.slice(0, contextSize, contextSize + layerEmbeddingSize));
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < generated.size(); l++) {
            Tensor gx = fromContext.add(fromLayers.slice(0, l, l + 1));
            Tensor gh = state.linear(wHidden, bHidden);
            Tensor reset = gx.slice(1, 0, hiddenSize).add(gh.slice(1, 0, hiddenSize)).sigmoid();
            Tensor update = gx.slice(1, hiddenSize, 2 * hiddenSize).add(gh.slice(1, hiddenSize, 2 * hiddenSize)).sigmoid();
            Tensor candidate = gx.slice(1, 2 * hiddenSize, h3).add(reset.mul(gh.slice(1, 2 * hiddenSize, h3))).tanh();
            state = candidate.add(update.mul(state.sub(candidate)));
            ParamSpec spec = generated.get(l);
            Tensor flat = state.linear(params.get("head." + l + ".weight"), params.get("head." + l + ".bias"));
            out.put(spec.name(), flat.reshape(withBatch(batch == 0 ? 0 : c.dim(0), spec.shape())));
        }
        return Params.of(out);
    }

    private static int[] withBatch(int batch, Shape shape) {
        if (batch == 0) {
            return shape.dims();
        }
        int[] d = new int[shape.rank() + 1];
        d[0] = batch;
        System.arraycopy(shape.dims(), 0, d, 1, shape.rank());
        return d;
    }
}
