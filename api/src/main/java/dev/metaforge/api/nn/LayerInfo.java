package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * One layer of a {@link ModuleStructure}: what it computes, which neuron groups it reads and
 * writes, and which parameters (by full name) play which role.
 *
 * @param name       the layer's path in the module ("" for the top module, "0", "block.attn")
 * @param kind       what it computes: "linear", "conv2d", "batchnorm", "layernorm", "embedding",
 *                   "attention", "activation", "pool", "flatten", "dropout", "residual", ... (a
 *                   third-party layer may use its own word)
 * @param input      the id of the group it reads
 * @param output     the id of the group it writes
 * @param params     role ("weight", "bias", "scale", ...) to the full parameter name
 * @param attributes kind-specific facts as text (e.g. "activation" = "relu", "heads" = "4")
 */
public record LayerInfo(String name, String kind, String input, String output, Map<String, String> params,
                        Map<String, String> attributes) {
    public LayerInfo {
        requireNonNull(name, "name is null");
        requireNonNull(kind, "kind is null");
        requireNonNull(input, "input is null");
        requireNonNull(output, "output is null");
        params = Map.copyOf(params);
        attributes = Map.copyOf(attributes);
    }

    /** The full name of the parameter with {@code role}, or null. */
    public String param(String role) {
        return params.get(role);
    }

    public String attribute(String key) {
        return attributes.get(key);
    }
}
