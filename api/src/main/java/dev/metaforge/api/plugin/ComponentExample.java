package dev.metaforge.api.plugin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A tiny experiment that exercises one of a plugin's components, declared through
 * {@link MetaforgePlugin#conformanceExamples()}. The conformance kit (module {@code metaforge-tck},
 * rules {@code MODEL-FAMILY-*}) builds it from its JSON exactly as {@code metaforge train} would,
 * on the backend under test, and checks its training loss and gradient against the float64
 * reference backend and central finite differences, its determinism and its spec round trip.
 *
 * <p>Keep examples small (a handful of parameters and data points): every rule runs every example,
 * and the finite-difference rule evaluates the loss twice more. Data must be drawn from the spec's
 * seed, so every backend sees the same numbers.
 *
 * <pre>{@code
 * public List<ComponentExample> conformanceExamples() {
 *     return List.of(ComponentExample.of("regression through my-layer",
 *             "{\"type\": \"regression\", \"model\": {\"type\": \"sequential\", \"layers\": ["
 *             + "{\"type\": \"linear\", \"in\": 1, \"out\": 4}, {\"type\": \"my-layer\", \"features\": 4},"
 *             + "{\"type\": \"linear\", \"in\": 4, \"out\": 1}]},"
 *             + "\"task\": {\"function\": \"sin\", \"batch\": 5, \"evalPoints\": 5}}"));
 * }
 * }</pre>
 *
 * @param name           a short unique name within the plugin, shown in the report ("hypernetwork mip")
 * @param experimentJson an experiment spec (a JSON object with a {@code "type"}), as in a spec file
 * @param exactGradient  whether the objective's gradient is the exact gradient of its loss; false for
 *                       surrogates such as first-order MAML or Reptile, which the finite-difference rule
 *                       skips (the reference comparison still runs)
 */
public record ComponentExample(String name, String experimentJson, boolean exactGradient) {
    /** The longest accepted name, in characters. */
    public static final int MAX_NAME = 200;

    /**
     * Checks the name and that the JSON is one object with a string {@code "type"}; whether that type
     * and its fields exist is checked by the kit, which knows every loaded plugin.
     *
     * @throws IllegalArgumentException naming the example and what to change
     */
    public ComponentExample {
        requireNonNull(name, "name is null");
        requireNonNull(experimentJson, "experimentJson is null");
        if (name.isBlank() || name.length() > MAX_NAME || name.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("component example name '" + name + "' must be 1 to " + MAX_NAME
                    + " printable characters, not blank");
        }
        JsonNode tree;
        try {
            // A plain mapper: this is a syntax check only, the kit reads the spec with the strict registry.
            tree = new ObjectMapper().readTree(experimentJson);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("component example '" + name + "': experimentJson is not valid JSON: "
                    + e.getOriginalMessage().replaceAll("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2")
                    + " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")", e);
        }
        if (tree == null || !tree.isObject()) {
            throw new IllegalArgumentException("component example '" + name + "': experimentJson must be a JSON object"
                    + " (an experiment spec such as {\"type\": \"regression\", ...}), found "
                    + (tree == null ? "nothing" : tree.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
        }
        if (!tree.path("type").isTextual() || tree.path("type").asText().isBlank()) {
            throw new IllegalArgumentException("component example '" + name + "': experimentJson needs a string \"type\""
                    + " naming the experiment (e.g. \"regression\", \"hypernetwork\", \"maml\")");
        }
    }

    /** An example whose objective's gradient is the exact gradient of its loss (the usual case). */
    public static ComponentExample of(String name, String experimentJson) {
        return new ComponentExample(name, experimentJson, true);
    }

    /**
     * An example whose objective deliberately follows a surrogate gradient (first-order MAML,
     * Reptile): checked against the reference, not against finite differences.
     */
    public static ComponentExample withSurrogateGradient(String name, String experimentJson) {
        return new ComponentExample(name, experimentJson, false);
    }
}
