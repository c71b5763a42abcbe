package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a module call returns: the output, the module's new state, and named auxiliary values —
 * {@code losses} that the objective adds to what it minimises (e.g. an MoE load-balancing loss)
 * and {@code metrics} that are only logged (e.g. per-expert load). Names of nested modules are
 * prefixed with the child's name ("2.aux_loss").
 *
 * @param output  the module's output
 * @param state   the state after the call (equal to the input state in eval mode)
 * @param losses  scalar losses to add to the objective (already weighted by the module)
 * @param metrics scalar statistics for logs
 */
public record ModuleOutput(Tensor output, Params state, Map<String, Tensor> losses, Map<String, Tensor> metrics) {
    public ModuleOutput {
        requireNonNull(output, "output is null");
        requireNonNull(state, "state is null");
        losses = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(losses, "losses is null")));
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(metrics, "metrics is null")));
    }

    /** An output with the state unchanged and no auxiliary values. */
    public static ModuleOutput of(Tensor output, Params state) {
        return new ModuleOutput(output, state, Map.of(), Map.of());
    }

    /** The sum of {@link #losses()}, or null when there are none. */
    public Tensor auxLoss() {
        Tensor sum = null;
        for (Tensor t : losses.values()) {
            sum = sum == null ? t : sum.add(t);
        }
        return sum;
    }

    /** This output with one more loss. */
    public ModuleOutput withLoss(String name, Tensor loss) {
        Map<String, Tensor> l = new LinkedHashMap<>(losses);
        l.put(name, loss);
        return new ModuleOutput(output, state, l, metrics);
    }

    /** This output with one more metric. */
    public ModuleOutput withMetric(String name, Tensor value) {
        Map<String, Tensor> m = new LinkedHashMap<>(metrics);
        m.put(name, value);
        return new ModuleOutput(output, state, losses, m);
    }

    /**
     * Gathers the outputs of child modules for a composite: their states, losses and metrics under
     * the children's names.
     *
     * <pre>{@code
     * ModuleOutput.Collector c = new ModuleOutput.Collector();
     * Tensor h = c.add("0", first.forward(p.scoped("0"), x, call.child("0")));
     * return c.finish(h);
     * }</pre>
     */
    public static final class Collector {
        private Params state = Params.empty();
        private final Map<String, Tensor> losses = new LinkedHashMap<>();
        private final Map<String, Tensor> metrics = new LinkedHashMap<>();

        /** Records {@code child}'s state and auxiliary values under {@code prefix}; returns its output. */
        public Tensor add(String prefix, ModuleOutput child) {
            if (!child.state().isEmpty()) {
                state = state.merge(child.state().prefixed(prefix));
            }
            child.losses().forEach((n, t) -> losses.put(prefix + "." + n, t));
            child.metrics().forEach((n, t) -> metrics.put(prefix + "." + n, t));
            return child.output();
        }

        public ModuleOutput finish(Tensor output) {
            return new ModuleOutput(output, state, losses, metrics);
        }
    }
}
