package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleStructure;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A module's structure and parameter specs indexed for the graph and the symmetry: which layer
 * uses each parameter in which role, and which neuron group each parameter axis indexes. Reads
 * {@link ModuleStructure} and {@link ParamSpec#axes()} only.
 */
final class StructureIndex {
    final ModuleStructure structure;
    final List<ParamSpec> specs;
    final Map<String, ParamSpec> specByName = new LinkedHashMap<>();
    final Map<String, Integer> order = new LinkedHashMap<>();
    private final Map<String, LayerInfo> layerOfParam = new LinkedHashMap<>();

    StructureIndex(Module module) {
        this(requireNonNull(module, "module is null").structure(), module.parameters());
    }

    StructureIndex(ModuleStructure structure, List<ParamSpec> specs) {
        this.structure = requireNonNull(structure, "structure is null");
        this.specs = List.copyOf(specs);
        for (ParamSpec s : this.specs) {
            if (specByName.put(s.name(), s) != null) {
                throw new IllegalArgumentException("parameter '" + s.name() + "' is declared twice");
            }
            order.put(s.name(), order.size());
        }
        for (LayerInfo layer : structure.layers()) {
            for (String name : layer.params().values()) {
                if (!specByName.containsKey(name)) {
                    throw new IllegalArgumentException("layer '" + layer.name() + "' (" + layer.kind() + ") names parameter '" + name
                            + "', which the module does not declare; declared: " + specByName.keySet());
                }
                layerOfParam.putIfAbsent(name, layer);
            }
        }
    }

    /** The layer's parameters as (role, name), in declaration order (LayerInfo's map has no order). */
    List<Map.Entry<String, String>> paramsOf(LayerInfo layer) {
        List<Map.Entry<String, String>> out = new ArrayList<>(layer.params().entrySet());
        out.sort(Comparator.comparing((Map.Entry<String, String> e) -> order.get(e.getValue())).thenComparing(Map.Entry::getKey));
        return out;
    }

    /** The first layer that uses the parameter, or null when no layer names it. */
    LayerInfo layerOf(String param) {
        return layerOfParam.get(param);
    }

    /**
     * The neuron group each axis of {@code spec} indexes (null for none): an IN axis indexes its
     * layer's input group, an OUT axis its output group. A parameter no layer names indexes none.
     */
    String[] axisGroups(ParamSpec spec) {
        String[] out = new String[spec.axes().size()];
        LayerInfo layer = layerOf(spec.name());
        if (layer == null) {
            return out;
        }
        for (int a = 0; a < out.length; a++) {
            Axis role = spec.axes().get(a);
            if (role == Axis.IN) {
                out[a] = layer.input();
            } else if (role == Axis.OUT) {
                out[a] = layer.output();
            }
        }
        return out;
    }

    NeuronGroup group(String id) {
        return structure.group(id);
    }

    /** True when {@code id} expands {@code base} through one or more derived steps (flatten). */
    boolean derivedFrom(String id, String base) {
        NeuronGroup g = structure.groups().get(id);
        while (g != null && g.derivedFrom() != null) {
            if (g.derivedFrom().equals(base)) {
                return true;
            }
            g = structure.groups().get(g.derivedFrom());
        }
        return false;
    }

    /** The group a derived chain starts from ({@code id} itself when not derived). */
    String rootOf(String id) {
        NeuronGroup g = structure.group(id);
        while (g.derivedFrom() != null) {
            g = structure.group(g.derivedFrom());
        }
        return g.id();
    }

    /** Neurons of {@code id} per neuron of its root group (product of the derived repeats; 1 when not derived). */
    int repeatToRoot(String id) {
        NeuronGroup g = structure.group(id);
        int r = 1;
        while (g.derivedFrom() != null) {
            r *= g.repeat();
            g = structure.group(g.derivedFrom());
        }
        return r;
    }

    /** True when some parameter of the layer connects its input neurons to its output neurons (has an IN or INDEX axis). */
    boolean connects(LayerInfo layer) {
        for (String name : layer.params().values()) {
            List<Axis> axes = specByName.get(name).axes();
            if (axes.contains(Axis.IN) || axes.contains(Axis.INDEX)) {
                return true;
            }
        }
        return false;
    }
}
