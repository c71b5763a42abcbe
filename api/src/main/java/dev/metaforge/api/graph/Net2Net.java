package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Axis;
import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Function-preserving network growth (Chen, Goodfellow and Shlens 2016, "Net2Net: Accelerating
 * Learning via Knowledge Transfer"), written over the module structure and parameter axes so it
 * applies to any layer that describes itself (dense, convolution, normalisation, residual).
 *
 * <p>Defining property: the grown network computes the same function as the original, so training
 * continues from where it was. Proved by {@code Net2NetTest} (MLP and a third-party CNN with
 * normalisation and a residual block: outputs equal before and after, bit for bit for deepen, to
 * rounding for widen) and by the TCK's {@code METANET-NET2NET-1}.
 *
 * <ul>
 *   <li><b>Widen</b> ({@link #widen}): a tie class of n neurons grows to m. New neuron j copies old
 *       neuron {@code g(j)} ({@code g(j) = j} for j &lt; n, random otherwise): every parameter axis
 *       that writes the class ({@code OUT}: incoming weights, biases, normalisation scale and shift)
 *       is copied, every axis that reads it ({@code IN}: outgoing weights, also through a flattened
 *       group) is split among the copies so that the copies' contributions sum to the original's.
 *       Exact for layers that act per neuron or linearly on the class (dense, conv, ReLU/tanh, a
 *       per-channel normalisation, residual additions); not for layers that mix the class's neurons
 *       non-linearly (a LayerNorm over the widened features).</li>
 *   <li><b>Deepen</b> ({@link #deepen}): new layers are inserted; each new weight is the identity
 *       between equal input and output groups (a kernel's centre tap), biases 0, scales 1. Exact when
 *       the inserted layer is followed by an activation that is idempotent on the previous layer's
 *       output (ReLU after ReLU, identity).</li>
 * </ul>
 *
 * <pre>{@code
 * Net2Net.Grown w = Net2Net.widenMlp(mlp, params, 0, 64, RandomStream.of(1));   // hidden layer 0 to 64 neurons
 * Net2Net.Grown d = Net2Net.deepenMlp(w.module(), w.params(), 0);                // an identity layer after it
 * }</pre>
 */
public final class Net2Net {
    private Net2Net() {
    }

    /** A grown module and its parameters. */
    public record Grown(Module module, Params params) {
        public Grown {
            requireNonNull(module, "module is null");
            requireNonNull(params, "params is null");
        }
    }

    /**
     * Widens the tie class of {@code group} to the size it has in {@code wider}, a module whose
     * structure equals {@code module}'s except for that class's width (same parameter names).
     *
     * @param noise 0 to split outgoing weights equally among copies; {@code s > 0} to split them in
     *              random proportions {@code 1/c + U(-s, s)/c} renormalised to sum to 1 (still
     *              function-preserving, and it breaks the copies' symmetry so they can diverge in training)
     * @param rng   draws which old neurons the new ones copy, and the split proportions
     */
    public static Params widen(Module module, Params params, Module wider, String group, double noise, RandomStream rng) {
        requireNonNull(module, "module is null");
        requireNonNull(params, "params is null");
        requireNonNull(wider, "wider is null");
        requireNonNull(group, "group is null");
        requireNonNull(rng, "rng is null");
        StructureIndex index = new StructureIndex(module);
        NeuronSymmetry sym = NeuronSymmetry.of(index);
        TieClass c = sym.classOf(group);
        if (!c.permutable()) {
            throw new IllegalArgumentException("group '" + group + "' holds the module's input or output neurons; only hidden groups can be widened");
        }
        NeuronSymmetry widerSym = NeuronSymmetry.of(wider);
        int n = c.size();
        int m = widerSym.classOf(group).size();
        if (m < n) {
            throw new IllegalArgumentException("the wider module has " + m + " neurons in group '" + group + "', fewer than the " + n + " it has now");
        }
        if (c.blocks() > 1) {
            throw new IllegalArgumentException("group '" + group + "' is split into " + c.blocks() + " blocks (heads); widening blocks is not supported");
        }
        int[] copyOf = new int[m];
        int[] count = new int[n];
        for (int j = 0; j < m; j++) {
            copyOf[j] = j < n ? j : rng.nextInt(n);
            count[copyOf[j]]++;
        }
        double[] share = new double[m];
        double[] total = new double[n];
        for (int j = 0; j < m; j++) {
            double base = 1.0 / count[copyOf[j]];
            share[j] = count[copyOf[j]] == 1 || noise == 0 ? base : base * (1 + noise * (2 * rng.nextDouble() - 1));
            total[copyOf[j]] += share[j];
        }
        for (int j = 0; j < m; j++) {
            share[j] /= total[copyOf[j]];
        }
        List<ParamSpec> widerSpecs = wider.parameters();
        Map<String, ParamSpec> widerByName = new LinkedHashMap<>();
        for (ParamSpec s : widerSpecs) {
            widerByName.put(s.name(), s);
        }
        if (!widerByName.keySet().equals(index.specByName.keySet())) {
            throw new IllegalArgumentException("the wider module's parameters " + widerByName.keySet() + " differ from the module's "
                    + index.specByName.keySet());
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : index.specs) {
            Tensor t = params.get(spec.name());
            int offset = t.rank() - spec.shape().rank();
            String[] groups = index.axisGroups(spec);
            for (int a = 0; a < groups.length; a++) {
                if (groups[a] == null || !sym.classOf(groups[a]).id().equals(c.id())) {
                    continue;
                }
                int repeat = index.repeatToRoot(groups[a]);
                long[] gather = new long[m * repeat];
                double[] scale = new double[m * repeat];
                for (int j = 0; j < m; j++) {
                    for (int r = 0; r < repeat; r++) {
                        gather[j * repeat + r] = (long) copyOf[j] * repeat + r;
                        scale[j * repeat + r] = share[j];
                    }
                }
                t = t.gather(t.engine().indices(gather, gather.length), a + offset);
                if (spec.axes().get(a) == Axis.IN) {
                    int[] dims = new int[t.rank()];
                    java.util.Arrays.fill(dims, 1);
                    dims[a + offset] = gather.length;
                    t = t.mul(t.engine().tensor(scale, Shape.of(dims), t.dtype()));
                }
            }
            ParamSpec w = widerByName.get(spec.name());
            Shape expected = offset == 0 ? w.shape() : prepend(t.dim(0), w.shape());
            if (!t.shape().equals(expected)) {
                throw new IllegalArgumentException("widening '" + spec.name() + "' gives " + t.shape() + " but the wider module declares "
                        + w.shape() + "; its structure must differ from the module's only in the width of group '" + group + "'");
            }
            out.put(spec.name(), t);
        }
        return Params.of(out);
    }

    /**
     * Parameters for {@code deeper}, whose layers are {@code module}'s with new ones inserted: layers
     * are matched in order (same kind, same parameter roles and shapes), matched parameters are copied
     * under their new names, and the inserted layers' parameters are the identity.
     */
    public static Params deepen(Module module, Params params, Module deeper) {
        requireNonNull(module, "module is null");
        requireNonNull(params, "params is null");
        requireNonNull(deeper, "deeper is null");
        StructureIndex from = new StructureIndex(module);
        StructureIndex to = new StructureIndex(deeper);
        List<LayerInfo> old = from.structure.layers().stream().filter(l -> !l.params().isEmpty()).toList();
        List<LayerInfo> neu = to.structure.layers().stream().filter(l -> !l.params().isEmpty()).toList();
        Map<String, String> renamed = new LinkedHashMap<>();
        List<LayerInfo> inserted = new ArrayList<>();
        int i = 0;
        for (LayerInfo layer : neu) {
            if (i < old.size() && sameLayer(from, old.get(i), to, layer)) {
                for (Map.Entry<String, String> e : layer.params().entrySet()) {
                    renamed.put(e.getValue(), old.get(i).param(e.getKey()));
                }
                i++;
            } else {
                inserted.add(layer);
            }
        }
        if (i != old.size()) {
            throw new IllegalArgumentException("layer '" + old.get(i).name() + "' (" + old.get(i).kind() + ") of the module has no match in the"
                    + " deeper module; deepen only inserts layers");
        }
        int batch = module.weightBatch(params);
        Tensor any = params.values().iterator().next();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : to.specs) {
            String source = renamed.get(spec.name());
            if (source != null) {
                out.put(spec.name(), params.get(source));
                continue;
            }
            LayerInfo layer = to.layerOf(spec.name());
            if (layer == null) {
                throw new IllegalArgumentException("parameter '" + spec.name() + "' of the deeper module belongs to no layer");
            }
            double[] values = identity(to, spec, layer);
            Tensor t = any.engine().tensor(values, spec.shape(), any.dtype());
            out.put(spec.name(), batch > 0 ? t.expandDims(0).broadcastTo(prepend(batch, spec.shape())) : t);
        }
        return Params.of(out);
    }

    /** Widens hidden layer {@code hidden} (0 = the first hidden layer) of an MLP to {@code width} neurons. */
    public static Grown widenMlp(Mlp mlp, Params params, int hidden, int width, double noise, RandomStream rng) {
        requireNonNull(mlp, "mlp is null");
        if (hidden < 0 || hidden >= mlp.sizes().size() - 2) {
            throw new IllegalArgumentException("the MLP " + mlp.sizes() + " has hidden layers 0.." + (mlp.sizes().size() - 3) + ", not " + hidden);
        }
        List<Integer> sizes = new ArrayList<>(mlp.sizes());
        sizes.set(hidden + 1, width);
        Mlp wider = new Mlp(sizes, mlp.hidden(), mlp.output(), mlp.weightInit());
        return new Grown(wider, widen(mlp, params, wider, hidden + ".out", noise, rng));
    }

    /**
     * Inserts an identity layer after hidden layer {@code hidden} of an MLP (exact for ReLU and the
     * identity, whose activation is idempotent; other activations are refused).
     */
    public static Grown deepenMlp(Mlp mlp, Params params, int hidden) {
        requireNonNull(mlp, "mlp is null");
        if (hidden < 0 || hidden >= mlp.sizes().size() - 2) {
            throw new IllegalArgumentException("the MLP " + mlp.sizes() + " has hidden layers 0.." + (mlp.sizes().size() - 3) + ", not " + hidden);
        }
        if (mlp.hidden() != Activation.RELU && mlp.hidden() != Activation.IDENTITY) {
            throw new IllegalArgumentException("an identity layer followed by " + mlp.hidden().jsonName() + " changes the function ("
                    + mlp.hidden().jsonName() + "(" + mlp.hidden().jsonName() + "(x)) != " + mlp.hidden().jsonName()
                    + "(x)); Net2Net deepening needs relu or identity");
        }
        List<Integer> sizes = new ArrayList<>(mlp.sizes());
        sizes.add(hidden + 2, mlp.sizes().get(hidden + 1));
        Mlp deeper = new Mlp(sizes, mlp.hidden(), mlp.output(), mlp.weightInit());
        return new Grown(deeper, deepen(mlp, params, deeper));
    }

    private static boolean sameLayer(StructureIndex a, LayerInfo x, StructureIndex b, LayerInfo y) {
        if (!x.kind().equals(y.kind()) || !x.params().keySet().equals(y.params().keySet())) {
            return false;
        }
        for (Map.Entry<String, String> e : x.params().entrySet()) {
            ParamSpec sx = a.specByName.get(e.getValue());
            ParamSpec sy = b.specByName.get(y.param(e.getKey()));
            if (!sx.shape().equals(sy.shape()) || !sx.axes().equals(sy.axes())) {
                return false;
            }
        }
        return true;
    }

    private static double[] identity(StructureIndex index, ParamSpec spec, LayerInfo layer) {
        int size = Math.toIntExact(spec.shape().size());
        double[] v = new double[size];
        List<Axis> axes = spec.axes();
        int in = axes.indexOf(Axis.IN);
        int out = axes.indexOf(Axis.OUT);
        if (in >= 0 && out >= 0) {
            if (spec.shape().dim(in) != spec.shape().dim(out)) {
                throw new IllegalArgumentException("inserted layer '" + layer.name() + "' maps " + spec.shape().dim(in) + " to "
                        + spec.shape().dim(out) + " neurons; an identity layer needs equal widths");
            }
            int[] dims = spec.shape().dims();
            int[] pos = new int[dims.length];
            for (int e = 0; e < size; e++) {
                boolean one = pos[in] == pos[out];
                for (int a = 0; a < dims.length && one; a++) {
                    if (axes.get(a) == Axis.KERNEL) {
                        if (dims[a] % 2 == 0) {
                            throw new IllegalArgumentException("inserted layer '" + layer.name() + "' has an even kernel axis (" + dims[a]
                                    + "); an identity kernel needs a centre tap");
                        }
                        one = pos[a] == dims[a] / 2;
                    } else if (a != in && a != out) {
                        throw new IllegalArgumentException("parameter '" + spec.name() + "' has a " + axes.get(a)
                                + " axis; no identity is defined for it");
                    }
                }
                v[e] = one ? 1 : 0;
                for (int d = dims.length - 1; d >= 0; d--) {
                    if (++pos[d] < dims[d]) {
                        break;
                    }
                    pos[d] = 0;
                }
            }
            return v;
        }
        if (axes.size() == 1 && axes.get(0) == Axis.OUT) {
            if (spec.kind() == ParamKind.SCALE) {
                java.util.Arrays.fill(v, 1.0);
            }
            return v;
        }
        throw new IllegalArgumentException("parameter '" + spec.name() + "' " + spec.shape() + " with axes " + axes + " of inserted layer '"
                + layer.name() + "' has no identity value");
    }

    private static Shape prepend(int b, Shape s) {
        int[] d = new int[s.rank() + 1];
        d[0] = b;
        System.arraycopy(s.dims(), 0, d, 1, s.rank());
        return Shape.of(d);
    }
}
