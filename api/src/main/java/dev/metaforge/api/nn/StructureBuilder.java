package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the layers and neuron groups a module describes ({@link Module#describe}). A composite
 * passes each child the group it reads and gets back the group the child writes.
 *
 * <pre>{@code
 * public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
 *     NeuronGroup in = b.resolve(input, inFeatures);
 *     NeuronGroup out = b.group(StructureBuilder.join(prefix, "out"), outFeatures);
 *     b.layer(prefix, "linear", in, out, Map.of("weight", StructureBuilder.join(prefix, "weight")), Map.of());
 *     return out;
 * }
 * }</pre>
 */
public final class StructureBuilder {
    private final Map<String, NeuronGroup> groups = new LinkedHashMap<>();
    private final List<LayerInfo> layers = new ArrayList<>();

    /** {@code prefix.name}, or {@code name} for the top module's empty prefix. */
    public static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    /** A new group of {@code size} neurons (-1: not yet known). */
    public NeuronGroup group(String id, int size) {
        return group(id, size, 1);
    }

    /** A new group split into {@code blocks} blocks (attention heads). */
    public NeuronGroup group(String id, int size, int blocks) {
        return put(new NeuronGroup(id, size, blocks, null, 1));
    }

    /** A group that expands {@code base} by a factor known once a layer reads it (flatten). */
    public NeuronGroup derived(String id, NeuronGroup base) {
        return put(new NeuronGroup(id, -1, 1, base.id(), 1));
    }

    /**
     * {@code group} with its size fixed to {@code size} when unknown; checks it when known.
     *
     * @throws IllegalArgumentException when the sizes disagree (a layer reads the wrong width)
     */
    public NeuronGroup resolve(NeuronGroup group, int size) {
        NeuronGroup current = groups.getOrDefault(group.id(), group);
        if (current.isKnown()) {
            if (current.size() != size) {
                throw new IllegalArgumentException("a layer reads " + size + " features from group '" + current.id()
                        + "', which has " + current.size());
            }
            return current;
        }
        int repeat = 1;
        if (current.derivedFrom() != null) {
            NeuronGroup base = groups.get(current.derivedFrom());
            if (base != null && base.isKnown() && base.size() > 0) {
                if (size % base.size() != 0) {
                    throw new IllegalArgumentException("a layer reads " + size + " features from the flattened group '"
                            + current.id() + "' of " + base.size() + " channels; " + size + " is no multiple of it");
                }
                repeat = size / base.size();
            }
        }
        return put(new NeuronGroup(current.id(), size, current.blocks(), current.derivedFrom(), repeat));
    }

    /** Records a layer. */
    public void layer(String name, String kind, NeuronGroup input, NeuronGroup output, Map<String, String> params,
                      Map<String, String> attributes) {
        requireNonNull(input, "input is null");
        requireNonNull(output, "output is null");
        groups.putIfAbsent(input.id(), input);
        groups.putIfAbsent(output.id(), output);
        layers.add(new LayerInfo(name, kind, input.id(), output.id(), params, attributes));
    }

    /** The current version of a group (sizes resolved so far). */
    public NeuronGroup current(NeuronGroup group) {
        return groups.getOrDefault(group.id(), group);
    }

    public ModuleStructure build(NeuronGroup input, NeuronGroup output) {
        groups.putIfAbsent(input.id(), input);
        groups.putIfAbsent(output.id(), output);
        return new ModuleStructure(input.id(), output.id(), layers, groups);
    }

    private NeuronGroup put(NeuronGroup g) {
        groups.put(g.id(), g);
        return g;
    }
}
