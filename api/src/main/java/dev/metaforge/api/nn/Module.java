package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network as a pure function of its parameters. It declares its parameters but holds none, so
 * the same module runs with initial weights, adapted weights (meta-learning) or generated weights
 * (hypernetworks), and with a weight batch of B networks.
 *
 * <p>Two call forms:
 * <ul>
 *   <li>{@link #apply(Params, Tensor)} — the plain, deterministic form every module has: no
 *       randomness, no state (BatchNorm normalises with the batch's statistics, dropout is off).</li>
 *   <li>{@link #forward(Params, Tensor, ModuleCall)} — the full contract: the call gets a mode, an
 *       explicit random stream and the module's state, and returns the output, the new state and
 *       named auxiliary losses and metrics ({@link ModuleOutput}). Its default adapts
 *       {@code apply}, so a simple module stays a one-liner; stateful or stochastic modules and
 *       composites override it.</li>
 * </ul>
 *
 * <p>Structure as data: each {@link ParamSpec} says what its axes index, and
 * {@link #describe} lists the module's layers and the neuron groups they connect
 * ({@link #structure()}), so tools never need to know a module's class.
 *
 * <pre>{@code
 * Module mlp = Mlp.of(List.of(1, 40, 40, 1), Activation.RELU);
 * Params p = mlp.init(engine, RandomStream.of(0));
 * Tensor y = mlp.apply(p, x);
 * ModuleOutput out = cnn.forward(p, images, ModuleCall.train(state, rng));
 * }</pre>
 */
public interface Module {
    /** Declared parameters, in order, with unbatched shapes. */
    List<ParamSpec> parameters();

    /**
     * Runs the network in its plain form (no state, no randomness). Parameters with one more
     * leading axis than declared form a weight batch of B networks; the output then has a leading
     * axis B.
     */
    Tensor apply(Params params, Tensor input);

    /**
     * Runs the network with a mode, a random stream and state, returning the output, the new state
     * and auxiliary values. The default runs {@link #apply} and returns the state unchanged.
     */
    default ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        return ModuleOutput.of(apply(params, input), call.state());
    }

    /** Declared non-trainable state, in order, with unbatched shapes; none by default. */
    default List<StateSpec> stateSpecs() {
        return List.of();
    }

    /** The initial state; {@code weightBatch} > 0 adds a leading axis of that size. */
    default Params initState(Engine engine, int weightBatch) {
        requireNonNull(engine, "engine is null");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (StateSpec spec : stateSpecs()) {
            Shape shape = weightBatch > 0 ? prepend(weightBatch, spec.shape()) : spec.shape();
            out.put(spec.name(), engine.full(shape, spec.initial(), engine.defaultDType()));
        }
        return Params.of(out);
    }

    /**
     * Describes this module's layers into {@code builder}: it reads neuron group {@code input} and
     * returns the group it writes; {@code prefix} is its path (parameter names are
     * {@code StructureBuilder.join(prefix, name)}). The default fits a parameter-free module that
     * maps each neuron to itself (an elementwise function); a module with parameters must
     * override it.
     */
    default NeuronGroup describe(StructureBuilder builder, String prefix, NeuronGroup input) {
        if (!parameters().isEmpty()) {
            throw new UnsupportedOperationException("module '" + kind() + "' at '" + prefix + "' has parameters "
                    + parameters().stream().map(ParamSpec::name).toList()
                    + " but does not describe its structure; override Module.describe to say which neuron groups they connect");
        }
        builder.layer(prefix, kind(), input, input, Map.of(), Map.of());
        return input;
    }

    /** A short word for what this module computes, used in structures and errors ("linear", "conv2d"). */
    default String kind() {
        return "module";
    }

    /** This module's structure as data, read from {@link #describe}. */
    default ModuleStructure structure() {
        StructureBuilder builder = new StructureBuilder();
        NeuronGroup input = builder.group("input", -1);
        NeuronGroup output = describe(builder, "", input);
        return builder.build(builder.current(input), builder.current(output));
    }

    /** Fresh parameters from each spec's initializer, one seed per parameter from {@code rng}. */
    default Params init(Engine engine, RandomStream rng) {
        return ParamSpec.initAll(parameters(), engine, rng);
    }

    /** The number of scalars in one network's parameters. */
    default long parameterCount() {
        return ParamSpec.count(parameters());
    }

    /**
     * The weight-batch size of {@code params} for this module: 0 when unbatched, else B.
     * Fails naming the parameter when shapes fit neither form.
     */
    default int weightBatch(Params params) {
        int batch = -1;
        for (ParamSpec spec : parameters()) {
            Tensor t = params.get(spec.name());
            int b;
            if (t.shape().equals(spec.shape())) {
                b = 0;
            } else if (t.rank() == spec.shape().rank() + 1 && t.shape().without(0).equals(spec.shape())) {
                b = t.dim(0);
            } else {
                throw new IllegalArgumentException("parameter '" + spec.name() + "' has shape " + t.shape()
                        + " but the module declares " + spec.shape() + " (or [B, ...] for a weight batch)");
            }
            if (batch >= 0 && b != batch) {
                throw new IllegalArgumentException("parameter '" + spec.name() + "' has weight batch " + b
                        + " but others have " + batch);
            }
            batch = b;
        }
        return Math.max(batch, 0);
    }

    private static Shape prepend(int batch, Shape shape) {
        int[] dims = new int[shape.rank() + 1];
        dims[0] = batch;
        System.arraycopy(shape.dims(), 0, dims, 1, shape.rank());
        return Shape.of(dims);
    }
}
