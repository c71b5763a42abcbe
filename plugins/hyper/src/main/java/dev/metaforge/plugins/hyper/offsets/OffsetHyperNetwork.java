package dev.metaforge.plugins.hyper.offsets;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A HyperStyle-like hypernetwork (Alaluf et al. 2022): it reads an input and the frozen network's
 * current output and predicts per-channel offsets Δ for the frozen network's selected conv kernels
 * ({@link ChannelOffsets}), refined over a fixed number of steps.
 *
 * <p>Step t (1 ≤ t ≤ T) reads the input's features e = encoder(x) and the output y<sub>t−1</sub> of step
 * t − 1 (as class probabilities, softmax over the last axis), and adds to the offsets:
 * Δ<sub>t</sub> = Δ<sub>t−1</sub> + head([e, softmax(y<sub>t−1</sub>)]), then runs the frozen network with
 * θ ⊙ (1 + Δ<sub>t</sub>). Step 0 is the frozen network itself (Δ<sub>0</sub> = 0). The head's last layer
 * starts at zero, so an untrained hypernetwork leaves the frozen network exactly as it is. The same
 * encoder and head serve every step, as in HyperStyle.
 *
 * <p>The head emits {@link ChannelOffsets#size()} numbers, one per output channel of each selected
 * kernel, not one per weight. Parameters are named {@code encoder.*} and {@code head.*}; the frozen
 * network's parameters are an argument of {@link #refine}, never parameters of this network.
 */
public final class OffsetHyperNetwork {
    private final ChannelOffsets offsets;
    private final Module encoder;
    private final Mlp head;
    private final int features;
    private final int outputs;
    private final int steps;

    /**
     * @param offsets  the frozen network and its selected kernels
     * @param encoder  reads an input [N, ...] and returns features [N, features]
     * @param features the encoder's output width
     * @param outputs  the frozen network's output width (its output is [N, outputs])
     * @param hidden   hidden widths of the head
     * @param steps    refinement steps T ≥ 1
     */
    public OffsetHyperNetwork(ChannelOffsets offsets, Module encoder, int features, int outputs, List<Integer> hidden, int steps) {
        this.offsets = requireNonNull(offsets, "offsets is null");
        this.encoder = requireNonNull(encoder, "encoder is null");
        requireNonNull(hidden, "hidden is null");
        if (features < 1 || outputs < 1) {
            throw new IllegalArgumentException("features and outputs must be >= 1, got " + features + " and " + outputs);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("refinement steps must be >= 1, got " + steps);
        }
        List<Integer> sizes = new ArrayList<>();
        sizes.add(features + outputs);
        for (int h : hidden) {
            if (h < 1) {
                throw new IllegalArgumentException("hidden widths must be >= 1, got " + hidden);
            }
            sizes.add(h);
        }
        sizes.add(offsets.size());
        this.head = Mlp.of(sizes, Activation.RELU);
        this.features = features;
        this.outputs = outputs;
        this.steps = steps;
    }

    public ChannelOffsets offsets() {
        return offsets;
    }

    /** Refinement steps T. */
    public int steps() {
        return steps;
    }

    /** The trainable parameters: the encoder's under {@code encoder.}, the head's under {@code head.}, the head's last layer zero. */
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        for (ParamSpec s : encoder.parameters()) {
            out.add(s.prefixed("encoder"));
        }
        String last = Integer.toString(head.sizes().size() - 2) + ".";
        for (ParamSpec s : head.parameters()) {
            ParamSpec p = s.prefixed("head");
            // Zero last layer: Δ starts at 0, so training starts from the frozen network itself.
            out.add(s.name().startsWith(last) ? p.withInit(Initializer.zeros()) : p);
        }
        return out;
    }

    public Params init(Engine engine, RandomStream rng) {
        return ParamSpec.initAll(parameters(), engine, rng);
    }

    /** Scalars of this hypernetwork. */
    public long parameterCount() {
        return ParamSpec.count(parameters());
    }

    /**
     * The outputs and offsets of every step.
     *
     * @param outputs {@code outputs.get(t)} is the frozen network's output at step t; step 0 has no offsets
     * @param deltas  {@code deltas.get(t - 1)} is Δ<sub>t</sub> [N, size] for t = 1..T
     */
    public record Refinement(List<Tensor> outputs, List<Tensor> deltas) {
        public Refinement {
            outputs = List.copyOf(outputs);
            deltas = List.copyOf(deltas);
        }

        /** The last step's output. */
        public Tensor last() {
            return outputs.get(outputs.size() - 1);
        }
    }

    /** Runs step 0 and {@link #steps()} refinement steps on {@code input} [N, ...]. */
    public Refinement refine(Params params, Params frozen, Tensor input) {
        return refine(params, frozen, input, steps);
    }

    /** As {@link #refine(Params, Params, Tensor)} with {@code count} ≥ 0 refinement steps (0: the frozen network alone). */
    public Refinement refine(Params params, Params frozen, Tensor input, int count) {
        requireNonNull(params, "params is null");
        requireNonNull(frozen, "frozen is null");
        requireNonNull(input, "input is null");
        Tensor y = offsets.module().apply(frozen, input);
        checkOutput(y, input);
        List<Tensor> ys = new ArrayList<>();
        List<Tensor> deltas = new ArrayList<>();
        ys.add(y);
        if (count == 0) {
            return new Refinement(ys, deltas);
        }
        Tensor e = encoder.apply(params.scoped("encoder"), input);
        if (e.rank() != 2 || e.dim(0) != input.dim(0) || e.dim(1) != features) {
            throw new IllegalArgumentException("the offset encoder returned " + e.shape() + " for input " + input.shape() + "; it must"
                    + " return [N, " + features + "]");
        }
        Params headParams = params.scoped("head");
        Tensor delta = null;
        for (int t = 1; t <= count; t++) {
            Tensor step = head.apply(headParams, Tensor.concat(List.of(e, y.softmax(1)), 1));
            delta = delta == null ? step : delta.add(step);
            y = offsets.apply(frozen, delta, input);
            ys.add(y);
            deltas.add(delta);
        }
        return new Refinement(ys, deltas);
    }

    private void checkOutput(Tensor y, Tensor input) {
        if (y.rank() != 2 || y.dim(1) != outputs) {
            throw new IllegalArgumentException("the frozen network returned " + y.shape() + " for input " + input.shape() + "; the offset"
                    + " hypernetwork reads outputs [N, " + outputs + "]");
        }
    }
}
