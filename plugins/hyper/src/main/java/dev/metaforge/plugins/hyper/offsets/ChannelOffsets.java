package dev.metaforge.plugins.hyper.offsets;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-channel multiplicative offsets on the conv kernels of a <em>frozen</em> network, as in HyperStyle
 * (Alaluf et al. 2022): θ̂ = θ ⊙ (1 + Δ), with one Δ per output channel of each selected kernel,
 * broadcast over its input channels and kernel window.
 *
 * <p>The kernels that get offsets are chosen with a {@link ParamSelection}, exactly as a
 * {@link HyperTarget} chooses the parameters a hypernetwork generates (by exact name and/or kind);
 * every selected parameter must be a conv kernel [out, in/groups, kh, kw]. The frozen network is run
 * through {@link HyperTarget#apply}: the modulated kernels are its generated parameters, everything
 * else its ordinary ones.
 *
 * <p>Defining properties, each proved by {@code ChannelOffsetsTest} against a float64 plain-Java
 * convolution:
 * <ul>
 *   <li>Δ = 0 reproduces the frozen network exactly;</li>
 *   <li>offsets are per output channel: {@link #size()} is the sum of the selected kernels' output
 *       channels, not of their weights, and channel o of a kernel is scaled by 1 + Δ[o] as a whole;</li>
 *   <li>offsets are per input: a batch of N inputs with offsets Δ [N, size] runs N modulated networks
 *       as one weight batch, and row n equals the single network with Δ[n] applied to input n alone.</li>
 * </ul>
 * The frozen parameters are passed in, never owned or changed here.
 */
public final class ChannelOffsets {
    private final HyperTarget target;
    private final List<Slot> slots;
    private final int size;

    /**
     * One selected kernel: its name, output channels, and where its offsets start in Δ.
     *
     * @param name     the kernel's parameter name in the frozen network
     * @param channels its output channels
     * @param start    its first column in Δ
     */
    public record Slot(String name, int channels, int start) {
    }

    /**
     * @throws IllegalArgumentException when the selection names a parameter the network does not declare,
     *                                  matches nothing, or matches a parameter that is not a conv kernel
     *                                  (the message lists the declared parameters)
     */
    public ChannelOffsets(Module frozen, ParamSelection selection) {
        requireNonNull(frozen, "frozen is null");
        requireNonNull(selection, "selection is null");
        this.target = new HyperTarget(frozen, selection);
        List<Slot> out = new ArrayList<>();
        int start = 0;
        for (ParamSpec spec : target.generated()) {
            if (spec.kind() != ParamKind.CONV_WEIGHT || spec.shape().rank() != 4 || spec.axes().isEmpty()
                    || spec.axes().get(0) != Axis.OUT) {
                throw new IllegalArgumentException("the offset selection " + describe(selection) + " matches '" + spec.name() + "' "
                        + spec.shape() + " (" + spec.kind().name().toLowerCase(Locale.ROOT) + "), which is not a conv kernel [out, in, kh, kw];"
                        + " offsets scale conv kernels only: select by kind [\"conv_weight\"] or name the kernels; conv kernels declared: "
                        + convKernels(frozen));
            }
            out.add(new Slot(spec.name(), spec.shape().dim(0), start));
            start += spec.shape().dim(0);
        }
        this.slots = List.copyOf(out);
        this.size = start;
    }

    /** The frozen network. */
    public Module module() {
        return target.module();
    }

    /** The selected kernels in declared order, with their columns of Δ. */
    public List<Slot> slots() {
        return slots;
    }

    /** Offsets per input: the sum of the selected kernels' output channels. */
    public int size() {
        return size;
    }

    /** Scalars of the selected kernels (what a full weight-generating hypernetwork would emit instead). */
    public long kernelWeights() {
        return target.generatedCount();
    }

    /**
     * The frozen network's parameters with every selected kernel modulated per input: for Δ [N, size],
     * each selected kernel becomes [N, out, in, kh, kw] = θ ⊙ (1 + Δ[:, slot]) and every other
     * parameter is broadcast to [N, ...], so the result is one weight batch of N networks.
     */
    public Params modulate(Params frozen, Tensor delta) {
        requireNonNull(frozen, "frozen is null");
        checkDelta(delta);
        int n = delta.dim(0);
        Map<String, Tensor> generated = new LinkedHashMap<>();
        for (Slot slot : slots) {
            Tensor w = frozen.get(slot.name());
            Tensor scale = delta.slice(1, slot.start(), slot.start() + slot.channels()).add(1.0).reshape(n, slot.channels(), 1, 1, 1);
            generated.put(slot.name(), w.expandDims(0).mul(scale));
        }
        Params ordinary = frozen.filter(name -> !generated.containsKey(name));
        return target.merge(Params.of(generated), ordinary);
    }

    /**
     * Runs the frozen network on {@code input} [N, ...] with per-input offsets Δ [N, size]: network n
     * (kernels modulated by Δ[n]) reads input n only. Returns the network's output [N, ...].
     */
    public Tensor apply(Params frozen, Tensor delta, Tensor input) {
        requireNonNull(input, "input is null");
        checkDelta(delta);
        if (input.dim(0) != delta.dim(0)) {
            throw new IllegalArgumentException("offsets " + delta.shape() + " are for " + delta.dim(0) + " inputs but the input "
                    + input.shape() + " has " + input.dim(0) + "; give one row of offsets per input");
        }
        // Input n becomes network n's own batch of one: [N, 1, ...] is the per-network input form of a weight batch.
        Tensor y = module().apply(modulate(frozen, delta), input.expandDims(1));
        return y.squeeze(1);
    }

    private void checkDelta(Tensor delta) {
        requireNonNull(delta, "delta is null");
        if (delta.rank() != 2 || delta.dim(1) != size) {
            throw new IllegalArgumentException("offsets have shape " + delta.shape() + " but " + size + " per input are needed ([N, "
                    + size + "]: one per output channel of " + slots.stream().map(Slot::name).toList() + ")");
        }
    }

    private static List<String> convKernels(Module module) {
        List<String> out = new ArrayList<>();
        for (ParamSpec s : module.parameters()) {
            if (s.kind() == ParamKind.CONV_WEIGHT) {
                out.add(s.name() + " " + s.shape());
            }
        }
        return out;
    }

    private static String describe(ParamSelection selection) {
        List<String> parts = new ArrayList<>();
        if (!selection.names().isEmpty()) {
            parts.add("names " + selection.names());
        }
        if (!selection.kinds().isEmpty()) {
            parts.add("kinds " + selection.kinds().stream().map(k -> k.name().toLowerCase(Locale.ROOT)).toList());
        }
        return parts.isEmpty() ? "{} (every parameter)" : String.join(", ", parts);
    }
}
