package dev.metaforge.api.optim;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the optimizers' foreach updates share: gradient checks and one group of names per engine. */
final class ForeachGroups {
    private ForeachGroups() {
    }

    /** Rejects a gradient whose shape differs from its parameter's, before any state changes. */
    static void checkGradients(Params params, Params grads) {
        for (String name : params.names()) {
            Tensor p = params.get(name);
            Tensor g = grads.get(name);
            if (!g.shape().equals(p.shape())) {
                throw new IllegalArgumentException("gradient of '" + name + "' has shape " + g.shape() + " but the parameter has " + p.shape());
            }
        }
    }

    /** The parameter names by engine, in parameter order: one foreach call per engine (normally one). */
    static Map<Engine, List<String>> byEngine(Params params) {
        Map<Engine, List<String>> byEngine = new LinkedHashMap<>();
        for (String name : params.names()) {
            byEngine.computeIfAbsent(params.get(name).engine(), e -> new ArrayList<>()).add(name);
        }
        return byEngine;
    }
}
