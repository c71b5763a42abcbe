package dev.metaforge.api.graph;

import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StructureBuilder;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Modules written as a third party would write them: their own classes and parameter names, no
 * code in the graph package, only {@code parameters()} with axes and {@code describe()}. They stand
 * in for the real convolution, normalisation, residual and attention layers until those are merged.
 */
final class ThirdPartyModules {
    private ThirdPartyModules() {
    }

    /** A 3x3 "same" convolution: kernel [OUT, IN, KERNEL, KERNEL] named "filters", bias "shift". */
    record Conv(int in, int out) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("filters", Shape.of(out, in, 3, 3), ParamKind.CONV_WEIGHT,
                            List.of(Axis.OUT, Axis.IN, Axis.KERNEL, Axis.KERNEL), in * 9, out * 9, Initializer.torchDefault()),
                    new ParamSpec("shift", Shape.of(out), ParamKind.BIAS, List.of(Axis.OUT), in * 9, out, Initializer.torchDefault()));
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            Tensor y = input.conv2d(params.get("filters"), Conv2dOptions.of(new int[] {1, 1}, new int[] {1, 1}));
            return y.add(params.get("shift").reshape(1, out, 1, 1));
        }

        @Override
        public String kind() {
            return "my-conv";
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup in2 = b.resolve(input, in);
            NeuronGroup o = b.group(StructureBuilder.join(prefix, "channels"), out);
            b.layer(prefix, "conv2d", in2, o, Map.of("weight", StructureBuilder.join(prefix, "filters"),
                    "bias", StructureBuilder.join(prefix, "shift")), Map.of());
            return o;
        }
    }

    /** Per-channel affine normalisation of NCHW maps; "gamma" and "beta" on the OUT axis of the group it reads. */
    record ChannelNorm(int channels) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("gamma", Shape.of(channels), ParamKind.SCALE, List.of(Axis.OUT), 1, 1, Initializer.uniform(1.0)),
                    new ParamSpec("beta", Shape.of(channels), ParamKind.BIAS, List.of(Axis.OUT), 1, 1, Initializer.uniform(1.0)));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            Tensor mean = x.mean(new int[] {0, 2, 3}, true);
            Tensor centered = x.sub(mean);
            Tensor var = centered.square().mean(new int[] {0, 2, 3}, true);
            Tensor normed = centered.div(var.add(1e-5).sqrt());
            return normed.mul(params.get("gamma").reshape(1, channels, 1, 1)).add(params.get("beta").reshape(1, channels, 1, 1));
        }

        @Override
        public String kind() {
            return "my-norm";
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup g = b.resolve(input, channels);
            b.layer(prefix, "batchnorm", g, g, Map.of("scale", StructureBuilder.join(prefix, "gamma"),
                    "bias", StructureBuilder.join(prefix, "beta")), Map.of());
            return g;
        }
    }

    /** {@code x + inner(x)}: returns its input group, so the inner output is tied to it. */
    record Skip(Module inner) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            List<ParamSpec> out = new ArrayList<>();
            for (ParamSpec s : inner.parameters()) {
                out.add(s.prefixed("body"));
            }
            return out;
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return input.add(inner.apply(params.scoped("body"), input));
        }

        @Override
        public String kind() {
            return "my-skip";
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup h = inner.describe(b, StructureBuilder.join(prefix, "body"), input);
            b.layer(prefix, "residual", b.current(h), b.current(input), Map.of(), Map.of());
            return b.current(input);
        }
    }

    /** NCHW to [N, C*H*W]: a derived group (neuron c*H*W + r belongs to channel c). */
    record Flatten() implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of();
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return x.reshape(x.dim(0), -1);
        }

        @Override
        public String kind() {
            return "flatten";
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup flat = b.derived(StructureBuilder.join(prefix, "flat"), input);
            b.layer(prefix, "flatten", input, flat, Map.of(), Map.of());
            return flat;
        }
    }

    /**
     * A head-structured mixing layer: projects {@code d} features to {@code heads * headSize}
     * (a group split into {@code heads} blocks), takes a softmax inside each head, projects back.
     * Permuting heads as wholes (and neurons inside a head) keeps the function; mixing heads does not.
     */
    record Heads(int d, int heads, int headSize) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            int h = heads * headSize;
            return List.of(new ParamSpec("up", Shape.of(d, h), ParamKind.WEIGHT, d, h, Initializer.torchDefault()),
                    new ParamSpec("down", Shape.of(h, d), ParamKind.WEIGHT, h, d, Initializer.torchDefault()));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            Tensor u = x.matmul(params.get("up"));
            int n = u.dim(0);
            Tensor s = u.reshape(n, heads, headSize).softmax(-1).reshape(n, heads * headSize);
            return s.matmul(params.get("down"));
        }

        @Override
        public String kind() {
            return "my-heads";
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            NeuronGroup in = b.resolve(input, d);
            NeuronGroup h = b.group(StructureBuilder.join(prefix, "heads"), heads * headSize, heads);
            b.layer(prefix + ".up", "linear", in, h, Map.of("weight", StructureBuilder.join(prefix, "up")), Map.of());
            b.layer(prefix + ".softmax", "activation", h, h, Map.of(), Map.of("activation", "softmax-per-head"));
            NeuronGroup o = b.group(StructureBuilder.join(prefix, "out"), d);
            b.layer(prefix + ".down", "linear", h, o, Map.of("weight", StructureBuilder.join(prefix, "down")), Map.of());
            return o;
        }
    }

    /** A layer with a free-form parameter (axes OTHER): kept in the graph's global vector. */
    record Temperature() implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of(new ParamSpec("t", Shape.of(1, 1), ParamKind.OTHER, List.of(Axis.OTHER, Axis.OTHER), 1, 1,
                    Initializer.constant(1.5)));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return x.mul(params.get("t"));
        }

        @Override
        public String kind() {
            return "temperature";
        }

        @Override
        public NeuronGroup describe(StructureBuilder b, String prefix, NeuronGroup input) {
            b.layer(prefix, "scale", input, input, Map.of("t", StructureBuilder.join(prefix, "t")), Map.of());
            return input;
        }
    }

    static Map<String, String> map(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }
}
