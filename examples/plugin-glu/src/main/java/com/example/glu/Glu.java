package com.example.glu;

import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StructureBuilder;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A gated linear unit (Dauphin et al., 2017, "Language Modeling with Gated Convolutional Networks"):
 * {@code h(x) = (x W + b) * sigmoid(x V + c)}, elementwise. The paper's defining property is the gate: each
 * output is a linear path multiplied by a learned sigmoid gate of the same input, so the gradient through
 * the linear path is scaled by the gate and never squashed by it. {@code GluTest} proves the formula against
 * a float64 closed form, including that a closed gate (c very negative) silences the unit.
 *
 * <p>Parameters {@code value.weight} [in, out], {@code value.bias} [out], {@code gate.weight} and
 * {@code gate.bias}: two {@link Linear} layers, so weight batches ([B, in, out]) work as they do for Linear.
 *
 * @param in  input features
 * @param out output features
 */
public record Glu(int in, int out) implements Module {
    private static final String VALUE = "value";
    private static final String GATE = "gate";

    public Glu {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("glu needs positive sizes, got in=" + in + " out=" + out);
        }
    }

    private Linear linear() {
        return Linear.of(in, out);
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> specs = new ArrayList<>();
        for (ParamSpec s : linear().parameters()) {
            specs.add(s.prefixed(VALUE));
        }
        for (ParamSpec s : linear().parameters()) {
            specs.add(s.prefixed(GATE));
        }
        return specs;
    }

    @Override
    public Tensor apply(Params params, Tensor x) {
        Tensor value = linear().apply(params.scoped(VALUE), x);
        Tensor gate = linear().apply(params.scoped(GATE), x);
        return value.mul(gate.sigmoid());
    }

    @Override
    public String kind() {
        return "glu";
    }

    // Both linear paths connect the same input neurons to the same output neurons: one layer in the graph.
    @Override
    public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
        NeuronGroup inGroup = b.resolve(input, in);
        NeuronGroup outGroup = b.group(StructureBuilder.join(prefix, "out"), out);
        Map<String, String> params = new LinkedHashMap<>();
        for (String path : List.of(VALUE, GATE)) {
            params.put(path + ".weight", StructureBuilder.join(prefix, path + ".weight"));
            params.put(path + ".bias", StructureBuilder.join(prefix, path + ".bias"));
        }
        b.layer(prefix, kind(), inGroup, outGroup, params, Map.of());
        return outGroup;
    }
}
