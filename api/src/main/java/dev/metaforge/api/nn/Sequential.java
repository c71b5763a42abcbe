package dev.metaforge.api.nn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Modules applied in order. Layer i's parameters are named {@code "i." + name}, PyTorch-style
 * ({@code "0.weight"}, {@code "2.bias"}), so checkpoints read naturally in PyTorch.
 */
public record Sequential(List<Module> layers) implements Module {
    public Sequential {
        layers = List.copyOf(requireNonNull(layers, "layers is null"));
    }

    public static Sequential of(Module... layers) {
        return new Sequential(List.of(layers));
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            for (ParamSpec s : layers.get(i).parameters()) {
                out.add(s.prefixed(Integer.toString(i)));
            }
        }
        return out;
    }

    @Override
    public List<StateSpec> stateSpecs() {
        List<StateSpec> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            for (StateSpec s : layers.get(i).stateSpecs()) {
                out.add(s.prefixed(Integer.toString(i)));
            }
        }
        return out;
    }

    @Override
    public String kind() {
        return "sequential";
    }

    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup g = input;
        for (int i = 0; i < layers.size(); i++) {
            g = layers.get(i).describe(b, StructureBuilder.join(prefix, Integer.toString(i)), g);
        }
        return g;
    }

    @Override
    public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
        ModuleOutput.Collector collector = new ModuleOutput.Collector();
        Tensor x = input;
        for (int i = 0; i < layers.size(); i++) {
            String name = Integer.toString(i);
            Module layer = layers.get(i);
            x = collector.add(name, layer.forward(layer.parameters().isEmpty() ? Params.empty() : params.scoped(name), x,
                    call.child(name)));
        }
        return collector.finish(x);
    }

    @Override
    public Tensor apply(Params params, Tensor input) {
        Tensor x = input;
        for (int i = 0; i < layers.size(); i++) {
            Module layer = layers.get(i);
            x = layer.apply(layer.parameters().isEmpty() ? Params.empty() : params.scoped(Integer.toString(i)), x);
        }
        return x;
    }
}
