package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A skip connection {@code x + inner(x)}. The inner module's parameters, state, losses and metrics
 * live under {@code "inner."} ({@code inner.weight}, {@code inner.running_mean}); {@link #forward}
 * threads them through a {@link ModuleOutput.Collector}.
 *
 * <p>The inner module must keep its input's shape. With a weight batch, a shared input [N, ...]
 * broadcasts against the inner output [B, N, ...], so the result is [B, N, ...].
 *
 * <p>Structure: after the inner layers, a {@code residual} layer maps the inner output group onto
 * the input group (identity edges) and the residual returns the input group, so the stream is tied:
 * a permutation of it must permute the inner module's output as well.
 *
 * @param inner the branch added to the input
 */
public record Residual(Module inner) implements Module {
    static final String INNER = "inner";

    public Residual {
        requireNonNull(inner, "inner is null");
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        for (ParamSpec s : inner.parameters()) {
            out.add(s.prefixed(INNER));
        }
        return out;
    }

    @Override
    public List<StateSpec> stateSpecs() {
        List<StateSpec> out = new ArrayList<>();
        for (StateSpec s : inner.stateSpecs()) {
            out.add(s.prefixed(INNER));
        }
        return out;
    }

    @Override
    public String kind() {
        return "residual";
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup branch = b.current(inner.describe(b, StructureBuilder.join(prefix, INNER), input));
        NeuronGroup stream = b.current(input);
        if (branch.isKnown()) {
            stream = b.resolve(stream, branch.size());
        } else if (stream.isKnown()) {
            branch = b.resolve(branch, stream.size());
        }
        b.layer(prefix, kind(), branch, stream, Map.of(), Map.of());
        return stream;
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        return add(input, inner.apply(innerParams(params), input));
    }

    @Override
    public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        ModuleOutput.Collector collector = new ModuleOutput.Collector();
        Tensor branch = collector.add(INNER, inner.forward(innerParams(params), input, call.child(INNER)));
        return collector.finish(add(input, branch));
    }

    private Params innerParams(Params params) {
        return inner.parameters().isEmpty() ? Params.empty() : params.scoped(INNER);
    }

    private Tensor add(Tensor input, Tensor branch) {
        Shape in = input.shape();
        Shape out = branch.shape();
        boolean sameShape = out.equals(in);
        boolean batchedBranch = out.rank() == in.rank() + 1 && out.without(0).equals(in);
        if (!sameShape && !batchedBranch) {
            throw new IllegalArgumentException("Residual: the inner module " + inner.kind() + " maps input shape " + in + " to "
                    + out + "; a residual branch must keep the shape (or add a leading weight-batch axis)");
        }
        return input.add(branch);
    }
}
