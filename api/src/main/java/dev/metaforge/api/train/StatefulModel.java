package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A module together with its state across training steps, for objectives: a training call runs
 * {@link Module#forward} in train mode with the step's random stream, keeps the new state (e.g.
 * BatchNorm running statistics) outside every scope, and hands back the output and auxiliary
 * losses; an evaluation call reads the state without changing it. {@link #state()} and
 * {@link #loadState} make the state part of the objective's checkpoint, so a resumed run continues
 * bit for bit.
 *
 * <pre>{@code
 * ModuleOutput out = model.train(params, x, rng);
 * return StatefulModel.lossTerms(Losses.crossEntropyWithLabels(out.output(), labels), out);   // task + aux losses
 * }</pre>
 *
 * Not thread-safe: one objective, one thread.
 */
public final class StatefulModel implements AutoCloseable {
    private final Module module;
    private final Engine engine;
    private final int weightBatch;
    private Params state;

    /** The module with its initial state ({@code weightBatch} 0 for one network). */
    public StatefulModel(Module module, Engine engine, int weightBatch) {
        this.module = requireNonNull(module, "module is null");
        this.engine = requireNonNull(engine, "engine is null");
        this.weightBatch = weightBatch;
        Params initial = module.initState(engine, weightBatch);
        this.state = TrainingLoop.unscopedCopy(initial);
        initial.close();
    }

    public Module module() {
        return module;
    }

    /** A training call: the state moves on, the output carries the module's auxiliary losses. */
    public ModuleOutput train(Params params, Tensor input, RandomStream rng) {
        ModuleOutput out = module.forward(params, input, ModuleCall.train(state, rng));
        Params next = TrainingLoop.unscopedCopy(out.state().stopGradient());
        state.close();
        state = next;
        return out;
    }

    /** An evaluation call with the current state (unchanged). */
    public Tensor eval(Params params, Tensor input) {
        return module.forward(params, input, ModuleCall.eval(state)).output();
    }

    /**
     * The task loss plus every auxiliary loss of {@code out}; the auxiliary losses and metrics are
     * named parts for the log.
     */
    public static LossTerms lossTerms(Tensor taskLoss, ModuleOutput out) {
        Tensor total = taskLoss;
        Map<String, Tensor> parts = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : out.losses().entrySet()) {
            total = total.add(e.getValue());
            parts.put(e.getKey(), e.getValue());
        }
        return new LossTerms(total, parts, out.metrics());
    }

    /** The current state (owned by this object; valid until the next training call). */
    public Params state() {
        return state;
    }

    /** Replaces the state with a copy of {@code restored}, checking names and shapes. */
    public void loadState(Params restored) {
        Params expected = module.initState(engine, weightBatch);
        try {
            if (!expected.names().equals(restored.names())) {
                throw new IllegalArgumentException("the module's state is " + expected.names() + " but the checkpoint holds "
                        + restored.names());
            }
            for (String n : expected.names()) {
                if (!expected.get(n).shape().equals(restored.get(n).shape())) {
                    throw new IllegalArgumentException("state '" + n + "' has shape " + restored.get(n).shape()
                            + " in the checkpoint but the module declares " + expected.get(n).shape());
                }
            }
        } finally {
            expected.close();
        }
        Params next = TrainingLoop.unscopedCopy(restored);
        state.close();
        state = next;
    }

    @Override
    public void close() {
        state.close();
    }
}
