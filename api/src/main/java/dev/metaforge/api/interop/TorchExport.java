package dev.metaforge.api.interop;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.AvgPool2d;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Dropout;
import dev.metaforge.api.nn.Embedding;
import dev.metaforge.api.nn.Flatten;
import dev.metaforge.api.nn.LayerNorm;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.MaxPool2d;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.MultiHeadAttention;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.nn.TransformerBlock;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A trained module in PyTorch's terms: a state dict whose names, shapes and orientation load with
 * {@code load_state_dict(strict=True)} into the equivalent {@code torch.nn} module, and the Python
 * source that builds that module ({@link #modelPy}).
 *
 * <p>Exportable module types (their JSON type names), with the torch module each becomes:
 * <ul>
 *   <li>{@code linear} → {@code nn.Linear}: the weight is stored [in, out] here and transposed to
 *       torch's [out, in];</li>
 *   <li>{@code mlp} → {@code nn.Sequential(Linear, act, Linear, act, ..., Linear[, act])}: MLP layer
 *       i's {@code i.weight} becomes {@code (2i).weight} (an identity activation is {@code nn.Identity});</li>
 *   <li>{@code sequential} → {@code nn.Sequential} (same indices); {@code conv2d} → {@code nn.Conv2d}
 *       (same layout); {@code batchnorm} → {@code nn.BatchNorm1d}/{@code nn.BatchNorm2d} (by the
 *       input's rank) with {@code running_mean}, {@code running_var} and {@code num_batches_tracked}
 *       as buffers; {@code layernorm} → {@code nn.LayerNorm}; {@code embedding} → {@code nn.Embedding};
 *       {@code maxpool2d}, {@code avgpool2d}, {@code flatten}, {@code dropout}, {@code activation} →
 *       their {@code nn} namesakes ({@code sin} is a two-line module in the generated file);</li>
 *   <li>{@code attention} → a subclass of {@code nn.MultiheadAttention} ({@code batch_first}, self-attention,
 *       causal mask): q, k, v weights are transposed and stacked into {@code in_proj_weight} [3d, d],
 *       their biases into {@code in_proj_bias}, and {@code out} becomes {@code out_proj};</li>
 *   <li>{@code residual} and {@code transformer-block} → small modules defined in the generated file
 *       from the standard ones above (torch has no residual wrapper, and its
 *       {@code TransformerEncoderLayer} uses the exact GELU where ours uses the tanh form).</li>
 * </ul>
 * Every other type (mixtures of experts, hypernetworks, third-party modules) is refused with
 * {@link TorchExportException} naming its type name and JSON path.
 *
 * <pre>{@code
 * TorchExport export = TorchExport.plan(model, modelJson, "$.experiment.model", List.of(784));
 * Map<String, TensorData> stateDict = export.stateDict(checkpoint.params(), checkpoint.objectiveState(), checkpoint.step());
 * String python = export.modelPy("fashion-mnist-mlp.json", List.of(784), 0.286, 0.353, DType.FLOAT32);
 * }</pre>
 */
public final class TorchExport {
    /** The module type names that export, in the order of the class comment. */
    public static final List<String> EXPORTABLE_TYPES = List.of("linear", "mlp", "sequential", "conv2d", "batchnorm", "layernorm",
            "embedding", "maxpool2d", "avgpool2d", "flatten", "dropout", "activation", "attention", "residual", "transformer-block");

    private final String expression;
    private final List<Entry> entries;
    private final Set<String> helpers;
    private final Module module;

    private TorchExport(Module module, String expression, List<Entry> entries, Set<String> helpers) {
        this.module = module;
        this.expression = expression;
        this.entries = List.copyOf(entries);
        this.helpers = Set.copyOf(helpers);
    }

    /**
     * Plans the export of {@code module}, built from the spec {@code spec} found at {@code specPath}
     * (used only to name types and paths in errors; may be null).
     *
     * @param exampleShape one example's layout as the module reads it (decides BatchNorm1d vs 2d);
     *                     empty means a flat row
     * @throws TorchExportException naming the first module type with no torch equivalent
     */
    public static TorchExport plan(Module module, JsonNode spec, String specPath, List<Integer> exampleShape) {
        requireNonNull(module, "module is null");
        requireNonNull(specPath, "specPath is null");
        requireNonNull(exampleShape, "exampleShape is null");
        Walker walker = new Walker();
        String expression = walker.walk(module, spec, specPath, "", "", exampleShape.isEmpty() ? 1 : exampleShape.size()).expression;
        return new TorchExport(module, expression, walker.entries, walker.helpers);
    }

    /** The state dict's names, in order. */
    public List<String> names() {
        return entries.stream().map(Entry::torchName).toList();
    }

    /**
     * The state dict from a checkpoint's parameters and the module's state.
     *
     * @param params trainable parameters under the module's names ({@code 0.weight}), unbatched
     * @param state  the module's state ({@code 1.running_mean}); may lack entries only when the module has none
     * @param step   training steps taken, stored as BatchNorm's {@code num_batches_tracked}
     * @throws IllegalArgumentException when a parameter or state entry is missing, extra or of another shape
     */
    public Map<String, TensorData> stateDict(Map<String, TensorData> params, Map<String, TensorData> state, long step) {
        requireNonNull(params, "params is null");
        requireNonNull(state, "state is null");
        Map<String, Shape> declared = new LinkedHashMap<>();
        for (ParamSpec p : module.parameters()) {
            declared.put(p.name(), p.shape());
        }
        for (StateSpec s : module.stateSpecs()) {
            declared.put(s.name(), s.shape());
        }
        Set<String> extra = new TreeSet<>(params.keySet());
        extra.removeAll(declared.keySet());
        if (!extra.isEmpty()) {
            throw new IllegalArgumentException("the checkpoint holds parameters " + extra + " that the model does not declare (it declares "
                    + module.parameters().stream().map(ParamSpec::name).toList() + "); was it trained from another spec?");
        }
        Lookup lookup = name -> {
            TensorData t = params.containsKey(name) ? params.get(name) : state.get(name);
            if (t == null) {
                boolean isState = module.stateSpecs().stream().anyMatch(s -> s.name().equals(name));
                throw new IllegalArgumentException(isState
                        ? "the checkpoint holds no '" + name + "' (state of the model, e.g. BatchNorm running statistics): this experiment"
                                + " does not keep the model's state, so no torch module in eval mode computes what it computed"
                        : "the checkpoint lacks parameter '" + name + "'; it holds " + params.keySet());
            }
            Shape expected = declared.get(name);
            if (!t.shape().equals(expected)) {
                throw new IllegalArgumentException("checkpoint entry '" + name + "' has shape " + t.shape() + " but the model declares "
                        + expected + (t.shape().rank() == expected.rank() + 1 ? " (a weight batch of networks does not export)" : ""));
            }
            if (t.dtype() == DType.INT64) {
                throw new IllegalArgumentException("checkpoint entry '" + name + "' holds integers; parameters must be float32 or float64");
            }
            return t;
        };
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Entry e : entries) {
            out.put(e.torchName(), e.make().make(lookup, step));
        }
        return out;
    }

    /**
     * The Python source of a module {@code model.py}: {@code build()} makes the torch module,
     * {@code load(path)} builds it, loads the exported file strictly and switches to eval mode,
     * {@code preprocess(x)} lays raw inputs out as the experiment does.
     *
     * @param source       what was exported (the spec's file name), for the docstring
     * @param exampleShape one example's layout ({@code []}: rows as given)
     * @param mean         subtracted from every input value
     * @param std          every input value is divided by it
     * @param dtype        the exported values' dtype: {@code load} casts the module to it, {@code preprocess} the inputs
     */
    public String modelPy(String source, List<Integer> exampleShape, double mean, double std, DType dtype) {
        requireNonNull(dtype, "dtype is null");
        String torchDType = switch (dtype) {
            case FLOAT32 -> "torch.float32";
            case FLOAT64 -> "torch.float64";
            case INT64 -> throw new IllegalArgumentException("a module's parameters are float32 or float64, not " + dtype);
        };
        StringBuilder py = new StringBuilder();
        py.append("\"\"\"PyTorch equivalent of the Metaforge model of ").append(source.replace("\"", "'"))
                .append(",\ngenerated by `metaforge export --format torch`.\n\n")
                .append("    import model\n")
                .append("    net = model.load(\"model.safetensors\")   # builds the module, load_state_dict(strict=True), eval mode\n")
                .append("    y = net(model.preprocess(x))              # x: inputs [N, ...] as `metaforge predict` reads them\n")
                .append("\"\"\"\n")
                .append("import json\nimport struct\n\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n")
                .append("# The dtype of the exported values, one example as the model reads it ([] = rows as given),\n")
                .append("# and the input normalisation.\n")
                .append("DTYPE = ").append(torchDType).append('\n')
                .append("INPUT_SHAPE = ").append(exampleShape).append('\n')
                .append("INPUT_MEAN = ").append(pythonFloat(mean)).append('\n')
                .append("INPUT_STD = ").append(pythonFloat(std)).append("\n\n");
        if (helpers.contains("Sin")) {
            py.append("""

                    class Sin(nn.Module):
                        def forward(self, x):
                            return torch.sin(x)

                    """);
        }
        if (helpers.contains("SelfAttention")) {
            py.append("""

                    class SelfAttention(nn.MultiheadAttention):
                        \"\"\"nn.MultiheadAttention over [N, T, d] with query = key = value; its state dict is the standard one.\"\"\"

                        def __init__(self, d, heads, causal, bias=True):
                            super().__init__(d, heads, bias=bias, batch_first=True)
                            self.causal = causal

                        def forward(self, x):
                            mask = None
                            if self.causal:
                                t = x.shape[-2]
                                mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device), diagonal=1)
                            return super().forward(x, x, x, attn_mask=mask, need_weights=False)[0]

                    """);
        }
        if (helpers.contains("Residual")) {
            py.append("""

                    class Residual(nn.Module):
                        def __init__(self, inner):
                            super().__init__()
                            self.inner = inner

                        def forward(self, x):
                            return x + self.inner(x)

                    """);
        }
        if (helpers.contains("TransformerBlock")) {
            py.append("""

                    class TransformerBlock(nn.Module):
                        \"\"\"Pre-LN (GPT-2) block: x + drop(attn(ln1(x))), then x + drop(fc2(gelu_tanh(fc1(ln2(x))))).\"\"\"

                        def __init__(self, d, heads, hidden, dropout, causal):
                            super().__init__()
                            self.ln1 = nn.LayerNorm(d)
                            self.attn = SelfAttention(d, heads, causal)
                            self.drop1 = nn.Dropout(dropout)
                            self.ln2 = nn.LayerNorm(d)
                            self.fc1 = nn.Linear(d, hidden)
                            self.fc2 = nn.Linear(hidden, d)
                            self.drop2 = nn.Dropout(dropout)

                        def forward(self, x):
                            x = x + self.drop1(self.attn(self.ln1(x)))
                            return x + self.drop2(self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh")))

                    """);
        }
        py.append("\n\ndef build():\n    return ").append(expression.replace("\n", "\n    ")).append("""


                def preprocess(x):
                    \"\"\"Raw inputs [N, ...] to the module's input, as the experiment lays out and normalises them.\"\"\"
                    x = torch.as_tensor(x, dtype=DTYPE)
                    if INPUT_SHAPE:
                        x = x.reshape([x.shape[0]] + INPUT_SHAPE)
                    return (x - INPUT_MEAN) / INPUT_STD


                _DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}


                def read_safetensors(path):
                    \"\"\"The tensors of a safetensors file (the safetensors package when installed, else this reader).\"\"\"
                    try:
                        from safetensors.torch import load_file
                        return load_file(path)
                    except ImportError:
                        pass
                    with open(path, "rb") as f:
                        (length,) = struct.unpack("<Q", f.read(8))
                        header = json.loads(f.read(length))
                        data = f.read()
                    tensors = {}
                    for name, entry in header.items():
                        if name == "__metadata__":
                            continue
                        begin, end = entry["data_offsets"]
                        dtype = _DTYPES[entry["dtype"]]
                        if end > begin:
                            flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
                        else:
                            flat = torch.empty(0, dtype=dtype)
                        tensors[name] = flat.reshape(entry["shape"])
                    return tensors


                def load(path):
                    net = build().to(DTYPE)
                    net.load_state_dict(read_safetensors(path), strict=True)
                    return net.eval()
                """);
        return py.toString();
    }

    private static String pythonFloat(double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException("input normalisation must be finite, got " + v);
        }
        return Double.toString(v);
    }

    /** Reads a source tensor by its Metaforge name. */
    @FunctionalInterface
    private interface Lookup {
        TensorData get(String name);
    }

    @FunctionalInterface
    private interface Maker {
        TensorData make(Lookup lookup, long step);
    }

    private record Entry(String torchName, Maker make) {
    }

    private record Walked(String expression, int rank) {
    }

    /** Walks the module tree, collecting state-dict entries, helper classes and the Python expression. */
    private static final class Walker {
        final List<Entry> entries = new ArrayList<>();
        final Set<String> helpers = new LinkedHashSet<>();

        /**
         * @param mf    the module's prefix in Metaforge's names
         * @param torch its prefix in torch's names
         * @param rank  the rank of one example at its input (without N), or -1 when unknown
         */
        Walked walk(Module m, JsonNode spec, String path, String mf, String torch, int rank) {
            if (m instanceof Sequential s) {
                List<String> children = new ArrayList<>();
                int r = rank;
                for (int i = 0; i < s.layers().size(); i++) {
                    JsonNode child = spec == null || spec.get("layers") == null ? null : spec.get("layers").get(i);
                    Walked w = walk(s.layers().get(i), child, path + ".layers[" + i + "]", join(mf, i), join(torch, i), r);
                    children.add(w.expression);
                    r = w.rank;
                }
                return new Walked(sequential(children), r);
            }
            if (m instanceof Mlp mlp) {
                List<String> children = new ArrayList<>();
                List<Linear> layers = mlp.layers();
                for (int i = 0; i < layers.size(); i++) {
                    children.add(linear(layers.get(i), join(mf, i), join(torch, children.size())));
                    Activation act = i + 1 < layers.size() ? mlp.hidden() : mlp.output();
                    if (i + 1 < layers.size() || act != Activation.IDENTITY) {
                        children.add(activation(act));
                    }
                }
                return new Walked(sequential(children), rank);
            }
            if (m instanceof Linear l) {
                return new Walked(linear(l, mf, torch), rank);
            }
            if (m instanceof Conv2d c) {
                copy(mf, torch, "weight");
                if (c.bias()) {
                    copy(mf, torch, "bias");
                }
                var o = c.options();
                return new Walked("nn.Conv2d(" + c.inChannels() + ", " + c.outChannels() + ", kernel_size=(" + c.kernelHeight() + ", "
                        + c.kernelWidth() + "), stride=" + pair(o.stride()) + ", padding=" + pair(o.padding()) + ", dilation="
                        + pair(o.dilation()) + ", groups=" + o.groups() + ", bias=" + py(c.bias()) + ")", 3);
            }
            if (m instanceof BatchNorm b) {
                if (b.affine()) {
                    copy(mf, torch, "weight");
                    copy(mf, torch, "bias");
                }
                copy(mf, torch, "running_mean");
                copy(mf, torch, "running_var");
                String tracked = join(torch, "num_batches_tracked");
                entries.add(new Entry(tracked, (lookup, step) -> TensorData.ofLongs(new long[] {step}, Shape.scalar())));
                String kind = rank == 3 ? "nn.BatchNorm2d" : "nn.BatchNorm1d";
                return new Walked(kind + "(" + b.features() + ", eps=" + b.eps() + ", momentum=" + b.momentum() + ", affine="
                        + py(b.affine()) + ")", rank);
            }
            if (m instanceof LayerNorm n) {
                if (n.affine()) {
                    copy(mf, torch, "weight");
                    copy(mf, torch, "bias");
                }
                return new Walked("nn.LayerNorm(" + n.features() + ", eps=" + n.eps() + ", elementwise_affine=" + py(n.affine()) + ")", rank);
            }
            if (m instanceof Embedding e) {
                copy(mf, torch, "weight");
                return new Walked("nn.Embedding(" + e.vocab() + ", " + e.dim() + ")", rank < 0 ? -1 : rank + 1);
            }
            if (m instanceof MaxPool2d p) {
                return new Walked("nn.MaxPool2d(kernel_size=(" + p.kernelHeight() + ", " + p.kernelWidth() + "), stride=(" + p.strideHeight()
                        + ", " + p.strideWidth() + "), padding=(" + p.paddingHeight() + ", " + p.paddingWidth() + "))", rank);
            }
            if (m instanceof AvgPool2d p) {
                return new Walked("nn.AvgPool2d(kernel_size=(" + p.kernelHeight() + ", " + p.kernelWidth() + "), stride=(" + p.strideHeight()
                        + ", " + p.strideWidth() + "), padding=(" + p.paddingHeight() + ", " + p.paddingWidth()
                        + "), count_include_pad=True)", rank);
            }
            if (m instanceof Flatten f) {
                int r = -1;
                if (rank >= 0) {
                    int full = rank + 1;   // with the sample axis, which Flatten's axes count
                    int from = f.startAxis() < 0 ? f.startAxis() + full : f.startAxis();
                    int to = f.endAxis() < 0 ? f.endAxis() + full : f.endAxis();
                    r = from >= 1 && to < full && from <= to ? rank - (to - from) : -1;
                }
                return new Walked("nn.Flatten(" + f.startAxis() + ", " + f.endAxis() + ")", r);
            }
            if (m instanceof Dropout d) {
                return new Walked("nn.Dropout(" + d.p() + ")", rank);
            }
            if (m instanceof Activation a) {
                return new Walked(activation(a), rank);
            }
            if (m instanceof MultiHeadAttention a) {
                attention(mf, torch, a.bias());
                helpers.add("SelfAttention");
                return new Walked("SelfAttention(" + a.d() + ", " + a.heads() + ", causal=" + py(a.causal()) + ", bias=" + py(a.bias()) + ")",
                        rank);
            }
            if (m instanceof Residual r) {
                JsonNode inner = spec == null ? null : spec.get("inner");
                Walked w = walk(r.inner(), inner, path + ".inner", join(mf, "inner"), join(torch, "inner"), rank);
                helpers.add("Residual");
                return new Walked("Residual(" + w.expression + ")", rank);
            }
            if (m instanceof TransformerBlock t) {
                if (t.ffn() != null) {
                    throw new TorchExportException("the transformer-block at " + path + " has an 'ffn' module (" + t.ffn().kind()
                            + "), and model.py's block has the fixed MLP, so it cannot be exported; exportable: a transformer-block"
                            + " with 'hidden'", "transformer-block", path);
                }
                for (String ln : List.of("ln1", "ln2")) {
                    copy(join(mf, ln), join(torch, ln), "weight");
                    copy(join(mf, ln), join(torch, ln), "bias");
                }
                attention(join(mf, "attn"), join(torch, "attn"), true);
                for (String fc : List.of("fc1", "fc2")) {
                    transposed(join(mf, fc), join(torch, fc));
                    copy(join(mf, fc), join(torch, fc), "bias");
                }
                helpers.add("SelfAttention");
                helpers.add("TransformerBlock");
                return new Walked("TransformerBlock(" + t.d() + ", " + t.heads() + ", " + t.hidden() + ", " + t.dropout() + ", "
                        + py(t.causal()) + ")", rank);
            }
            String type = spec != null && spec.hasNonNull("type") ? spec.get("type").asText() : m.kind();
            throw new TorchExportException("module type '" + type + "' at " + path + " has no torch.nn equivalent, so it cannot be"
                    + " exported; exportable module types: " + EXPORTABLE_TYPES, type, path);
        }

        private String linear(Linear l, String mf, String torch) {
            transposed(mf, torch);
            if (l.bias()) {
                copy(mf, torch, "bias");
            }
            return "nn.Linear(" + l.in() + ", " + l.out() + ", bias=" + py(l.bias()) + ")";
        }

        private void copy(String mf, String torch, String name) {
            String source = join(mf, name);
            entries.add(new Entry(join(torch, name), (lookup, step) -> lookup.get(source)));
        }

        /** A weight stored [in, out] here, [out, in] in torch. */
        private void transposed(String mf, String torch) {
            String source = join(mf, "weight");
            entries.add(new Entry(join(torch, "weight"), (lookup, step) -> transpose(lookup.get(source))));
        }

        /** q, k, v projections stacked as torch's packed in_proj; out as out_proj. */
        private void attention(String mf, String torch, boolean bias) {
            List<String> weights = List.of(join(mf, "q.weight"), join(mf, "k.weight"), join(mf, "v.weight"));
            entries.add(new Entry(join(torch, "in_proj_weight"), (lookup, step) ->
                    concatRows(weights.stream().map(n -> transpose(lookup.get(n))).toList())));
            if (bias) {
                List<String> biases = List.of(join(mf, "q.bias"), join(mf, "k.bias"), join(mf, "v.bias"));
                entries.add(new Entry(join(torch, "in_proj_bias"), (lookup, step) ->
                        concatRows(biases.stream().map(lookup::get).toList())));
            }
            transposed(join(mf, "out"), join(torch, "out_proj"));
            if (bias) {
                copy(join(mf, "out"), join(torch, "out_proj"), "bias");
            }
        }

        private String activation(Activation a) {
            if (a == Activation.SIN) {
                helpers.add("Sin");
            }
            return switch (a) {
                case IDENTITY -> "nn.Identity()";
                case RELU -> "nn.ReLU()";
                case TANH -> "nn.Tanh()";
                case SIGMOID -> "nn.Sigmoid()";
                case LEAKY_RELU -> "nn.LeakyReLU(0.01)";
                case SOFTPLUS -> "nn.Softplus()";
                case SIN -> "Sin()";
            };
        }

        private static String sequential(List<String> children) {
            if (children.isEmpty()) {
                return "nn.Sequential()";
            }
            return "nn.Sequential(\n    " + String.join(",\n", children).replace("\n", "\n    ") + ",\n)";
        }
    }

    private static String join(String prefix, Object name) {
        return prefix.isEmpty() ? name.toString() : prefix + "." + name;
    }

    private static String pair(int[] v) {
        return "(" + v[0] + ", " + v[1] + ")";
    }

    private static String py(boolean b) {
        return b ? "True" : "False";
    }

    /** [rows, cols] to [cols, rows], in the tensor's own dtype. */
    static TensorData transpose(TensorData t) {
        if (t.shape().rank() != 2) {
            throw new IllegalArgumentException("expected a matrix, got shape " + t.shape());
        }
        int rows = t.shape().dim(0);
        int cols = t.shape().dim(1);
        Shape shape = Shape.of(cols, rows);
        if (t.dtype() == DType.FLOAT32) {
            float[] in = t.toFloats();
            float[] out = new float[in.length];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    out[c * rows + r] = in[r * cols + c];
                }
            }
            return TensorData.ofFloats(out, shape);
        }
        double[] in = t.toDoubles();
        double[] out = new double[in.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = in[r * cols + c];
            }
        }
        return TensorData.ofDoubles(out, shape);
    }

    /** Stacks tensors of one dtype along axis 0. */
    static TensorData concatRows(List<TensorData> parts) {
        TensorData first = parts.get(0);
        int[] dims = first.shape().dims();
        int rows = 0;
        for (TensorData p : parts) {
            rows += p.shape().dim(0);
        }
        dims[0] = rows;
        Shape shape = Shape.of(dims);
        if (first.dtype() == DType.FLOAT32) {
            float[] out = new float[shape.sizeAsInt()];
            int at = 0;
            for (TensorData p : parts) {
                float[] v = p.toFloats();
                System.arraycopy(v, 0, out, at, v.length);
                at += v.length;
            }
            return TensorData.ofFloats(out, shape);
        }
        double[] out = new double[shape.sizeAsInt()];
        int at = 0;
        for (TensorData p : parts) {
            double[] v = p.toDoubles();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return TensorData.ofDoubles(out, shape);
    }

    @Override
    public String toString() {
        return "TorchExport(" + entries.size() + " tensors" + (helpers.isEmpty() ? "" : ", helpers " + helpers) + ")";
    }
}
