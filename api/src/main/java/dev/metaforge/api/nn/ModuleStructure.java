package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * A module's structure as data: its layers in the order they run, and the neuron groups they
 * connect. Graph views (metanetworks), permutation checks and interval bound propagation read
 * this, never the module's class. Built by {@link Module#structure()}.
 *
 * @param input  the id of the group the module reads
 * @param output the id of the group it writes
 * @param layers every layer, in execution order (a composite's children flattened)
 * @param groups every neuron group by id
 */
public record ModuleStructure(String input, String output, List<LayerInfo> layers, Map<String, NeuronGroup> groups) {
    public ModuleStructure {
        requireNonNull(input, "input is null");
        requireNonNull(output, "output is null");
        layers = List.copyOf(layers);
        groups = Map.copyOf(groups);
    }

    public NeuronGroup group(String id) {
        NeuronGroup g = groups.get(id);
        if (g == null) {
            throw new IllegalArgumentException("no neuron group '" + id + "'; groups: " + groups.keySet());
        }
        return g;
    }

    /** Hidden groups: every group but the input and the output (the ones a permutation may reorder). */
    public List<NeuronGroup> hiddenGroups() {
        return groups.values().stream().filter(g -> !g.id().equals(input) && !g.id().equals(output)
                && !g.id().equals(rootOf(input)) && !g.id().equals(rootOf(output)))
                .sorted(java.util.Comparator.comparing(NeuronGroup::id)).toList();
    }

    private String rootOf(String id) {
        NeuronGroup g = groups.get(id);
        return g == null || g.derivedFrom() == null ? id : rootOf(g.derivedFrom());
    }
}
