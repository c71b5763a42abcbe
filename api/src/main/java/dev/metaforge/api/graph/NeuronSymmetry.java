package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.LayerInfo;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.NeuronGroup;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The neuron-permutation symmetry of a module, read from its structure and parameter axes: hidden
 * neurons (or channels) can be reordered without changing the function, provided every parameter
 * axis that indexes them is reordered the same way.
 *
 * <p>Which neurons move together ({@link TieClass}): groups shared by several layers are one class
 * (a residual stream, the channels a normalisation scales); so are the input and output groups of a
 * layer that has no parameter with an {@code IN} (or {@code INDEX}) axis — such a layer acts neuron
 * by neuron (an activation, a residual addition that returns its input group, a normalisation). A
 * group {@linkplain NeuronGroup#derivedFrom() derived} from another (a flattened feature map) moves
 * with it: neuron {@code c * repeat + r} follows channel {@code c}. A class split into blocks
 * (attention heads) permutes whole blocks and, inside each block, its neurons. A class holding the
 * module's input or output neurons never moves.
 *
 * <pre>{@code
 * NeuronSymmetry sym = NeuronSymmetry.of(net);
 * NeuronPermutation p = sym.random(RandomStream.of(1));
 * Params permuted = sym.apply(p, params);          // same function, different weights
 * }</pre>
 *
 * <p>Two groups can share a block permutation while permuting inside their blocks independently:
 * a layer whose {@code scores} attribute names another group (attention: the value heads are mixed
 * by the query/key heads' scores) makes its output's class move whole blocks with that group's class.
 */
public final class NeuronSymmetry {
    private final StructureIndex index;
    private final Map<String, String> classOfGroup;
    private final Map<String, TieClass> classes;
    /** Class id -> the class whose block (head) order it shares: attention's value heads follow the query/key heads. */
    private final Map<String, String> blockLeader = new LinkedHashMap<>();

    private NeuronSymmetry(StructureIndex index) {
        this.index = index;
        Map<String, String> parent = new LinkedHashMap<>();
        for (NeuronGroup g : index.structure.groups().values().stream()
                .sorted(java.util.Comparator.comparing(NeuronGroup::id)).toList()) {
            if (g.derivedFrom() == null) {
                parent.put(g.id(), g.id());
            }
        }
        for (LayerInfo layer : index.structure.layers()) {
            String in = layer.input();
            String out = layer.output();
            if (in.equals(out) || index.connects(layer) || index.derivedFrom(out, in) || index.derivedFrom(in, out)) {
                continue;
            }
            NeuronGroup a = index.group(in);
            NeuronGroup b = index.group(out);
            if (a.derivedFrom() != null || b.derivedFrom() != null) {
                throw new IllegalArgumentException("layer '" + layer.name() + "' (" + layer.kind() + ") maps group '" + in + "' to '" + out
                        + "' neuron by neuron, but one of them is a derived (flattened) group; the symmetry cannot follow it");
            }
            if (a.isKnown() && b.isKnown() && a.size() != b.size()) {
                throw new IllegalArgumentException("layer '" + layer.name() + "' (" + layer.kind() + ") has no parameter connecting its input"
                        + " to its output, so it must act neuron by neuron, but it maps group '" + in + "' (" + a.size() + " neurons) to '"
                        + out + "' (" + b.size() + "); describe it with a weight whose axes are IN and OUT, or as a derived group");
            }
            union(parent, in, out);
        }
        Map<String, List<String>> members = new LinkedHashMap<>();
        for (NeuronGroup g : orderedGroups()) {
            if (g.derivedFrom() == null) {
                members.computeIfAbsent(find(parent, g.id()), k -> new ArrayList<>()).add(g.id());
            }
        }
        String fixedIn = index.rootOf(index.structure.input());
        String fixedOut = index.rootOf(index.structure.output());
        this.classOfGroup = new LinkedHashMap<>();
        this.classes = new LinkedHashMap<>();
        for (List<String> groups : members.values()) {
            String id = groups.get(0);
            int size = -1;
            int blocks = 1;
            boolean permutable = true;
            for (String gid : groups) {
                NeuronGroup g = index.group(gid);
                if (g.isKnown()) {
                    if (size >= 0 && size != g.size()) {
                        throw new IllegalArgumentException("tied groups " + groups + " have different sizes (" + size + " and "
                                + g.size() + " at '" + gid + "')");
                    }
                    size = g.size();
                }
                if (g.blocks() > 1) {
                    if (blocks > 1 && blocks != g.blocks()) {
                        throw new IllegalArgumentException("tied groups " + groups + " split into different block counts ("
                                + blocks + " and " + g.blocks() + " at '" + gid + "')");
                    }
                    blocks = g.blocks();
                }
                permutable &= !gid.equals(fixedIn) && !gid.equals(fixedOut);
            }
            permutable &= size > 1;
            TieClass c = new TieClass(id, groups, Math.max(size, 0), blocks, permutable);
            classes.put(id, c);
            for (String gid : groups) {
                classOfGroup.put(gid, id);
            }
        }
        // Why: head h of the values is mixed by the scores of head h of queries/keys, so both
        // classes must move whole heads together while permuting inside their heads independently.
        for (LayerInfo layer : index.structure.layers()) {
            String scores = layer.attributes().get("scores");
            if (scores == null) {
                continue;
            }
            TieClass leader = classes.get(classOfGroup.get(index.rootOf(scores)));
            TieClass follower = classes.get(classOfGroup.get(index.rootOf(layer.output())));
            if (leader == null || follower == null || leader == follower) {
                continue;
            }
            if (leader.blocks() != follower.blocks()) {
                throw new IllegalArgumentException("layer '" + layer.name() + "' (" + layer.kind() + ") mixes group '" + layer.output()
                        + "' (" + follower.blocks() + " blocks) with the scores of '" + scores + "' (" + leader.blocks() + " blocks)");
            }
            blockLeader.put(follower.id(), blockLeader.getOrDefault(leader.id(), leader.id()));
        }
    }

    /** The symmetry of {@code module}, read from {@link Module#structure()} and {@link Module#parameters()}. */
    public static NeuronSymmetry of(Module module) {
        return new NeuronSymmetry(new StructureIndex(module));
    }

    static NeuronSymmetry of(StructureIndex index) {
        return new NeuronSymmetry(index);
    }

    /** Every tie class, permutable or not, in the structure's group order. */
    public List<TieClass> classes() {
        return List.copyOf(classes.values());
    }

    /** The classes a permutation may reorder (hidden neurons, at least two of them). */
    public List<TieClass> permutableClasses() {
        return classes.values().stream().filter(TieClass::permutable).toList();
    }

    /** The class of a (non-derived) group; for a derived group, the class of the group it expands. */
    public TieClass classOf(String groupId) {
        String root = index.rootOf(requireNonNull(groupId, "groupId is null"));
        TieClass c = classes.get(classOfGroup.get(root));
        if (c == null) {
            throw new IllegalArgumentException("no neuron group '" + groupId + "'");
        }
        return c;
    }

    /**
     * A random permutation of every permutable class that respects blocks: whole blocks are
     * shuffled, then the neurons inside each block. Redrawn until it moves something when anything
     * can move (so a check with it is never vacuous).
     */
    public NeuronPermutation random(RandomStream rng) {
        requireNonNull(rng, "rng is null");
        for (int attempt = 0; attempt < 64; attempt++) {
            Map<String, int[]> orders = new LinkedHashMap<>();
            Map<String, int[]> blockOrders = new LinkedHashMap<>();
            for (TieClass c : permutableClasses()) {
                int[] blockOrder = blockOrders.computeIfAbsent(blockLeader.getOrDefault(c.id(), c.id()), k -> shuffled(c.blocks(), rng));
                orders.put(c.id(), randomOrder(c, blockOrder, rng));
            }
            NeuronPermutation p = new NeuronPermutation(orders);
            if (p.movesSomething() || orders.isEmpty()) {
                return p;
            }
        }
        throw new IllegalStateException("could not draw a permutation that moves anything");
    }

    /**
     * The order in which the neurons of {@code groupId} appear after {@code p} (expanded for a
     * derived group), or null when they stay in place.
     */
    public int[] order(String groupId, NeuronPermutation p) {
        requireNonNull(p, "p is null");
        String root = index.rootOf(groupId);
        int[] base = p.order(classOfGroup.get(root));
        if (base == null) {
            return null;
        }
        TieClass c = classes.get(classOfGroup.get(root));
        if (!c.permutable()) {
            throw new IllegalArgumentException("the permutation reorders class '" + c.id() + "', which holds the module's input or output");
        }
        int repeat = index.repeatToRoot(groupId);
        if (repeat == 1) {
            return base;
        }
        int[] out = new int[base.length * repeat];
        for (int c2 = 0; c2 < base.length; c2++) {
            for (int r = 0; r < repeat; r++) {
                out[c2 * repeat + r] = base[c2] * repeat + r;
            }
        }
        return out;
    }

    /**
     * A module's state (e.g. BatchNorm's running mean and variance) permuted with {@code p}.
     * How state travels: a state entry {@code "<layer>.<name>"} of a layer that acts neuron by
     * neuron (input group = output group, as every normalisation describes itself) holds one value
     * per neuron of that group on its last axis, and is reordered with it; a state of any other
     * layer stays as it is. Works on a weight batch ({@code [B, n]}).
     */
    public Params applyToState(NeuronPermutation p, Params state) {
        requireNonNull(p, "p is null");
        requireNonNull(state, "state is null");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.asMap().entrySet()) {
            Tensor t = e.getValue();
            String name = e.getKey();
            int dot = name.lastIndexOf('.');
            String layerName = dot < 0 ? "" : name.substring(0, dot);
            LayerInfo layer = index.structure.layers().stream()
                    .filter(l -> l.name().equals(layerName) && l.input().equals(l.output())).findFirst().orElse(null);
            if (layer != null && t.rank() >= 1) {
                int[] order = order(layer.output(), p);
                if (order != null) {
                    if (order.length != t.dim(t.rank() - 1)) {
                        throw new IllegalArgumentException("state '" + name + "' has shape " + t.shape() + " but layer '" + layerName
                                + "' (" + layer.kind() + ") acts on group '" + layer.output() + "' of " + order.length + " neurons");
                    }
                    t = t.gather(t.engine().indices(toLongs(order), order.length), t.rank() - 1);
                }
            }
            out.put(name, t);
        }
        return Params.of(out);
    }

    /**
     * {@code params} with every axis that indexes a permuted group reordered (a gather on the
     * backend, so gradients flow). Works on a weight batch (a leading axis B). Parameters that no
     * layer names, and axes that index no group (kernel taps, vocabulary entries), stay as they are.
     */
    public Params apply(NeuronPermutation p, Params params) {
        requireNonNull(p, "p is null");
        requireNonNull(params, "params is null");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : params.asMap().entrySet()) {
            ParamSpec spec = index.specByName.get(e.getKey());
            Tensor t = e.getValue();
            if (spec != null) {
                int offset = t.rank() - spec.shape().rank();
                if (offset < 0 || offset > 1) {
                    throw new IllegalArgumentException("parameter '" + spec.name() + "' has shape " + t.shape() + " but the module declares "
                            + spec.shape() + " (or [B, ...] for a weight batch)");
                }
                String[] groups = index.axisGroups(spec);
                for (int a = 0; a < groups.length; a++) {
                    if (groups[a] == null) {
                        continue;
                    }
                    int[] order = order(groups[a], p);
                    if (order == null) {
                        continue;
                    }
                    if (order.length != t.dim(a + offset)) {
                        throw new IllegalArgumentException("axis " + a + " of parameter '" + spec.name() + "' has " + t.dim(a + offset)
                                + " entries but indexes group '" + groups[a] + "' of " + order.length + " neurons");
                    }
                    t = t.gather(t.engine().indices(toLongs(order), order.length), a + offset);
                }
            }
            out.put(e.getKey(), t);
        }
        return Params.of(out);
    }

    StructureIndex index() {
        return index;
    }

    private static int[] randomOrder(TieClass c, int[] blockOrder, RandomStream rng) {
        int blockSize = c.blockSize();
        int[] out = new int[c.size()];
        for (int b = 0; b < c.blocks(); b++) {
            int[] inner = shuffled(blockSize, rng);
            for (int j = 0; j < blockSize; j++) {
                out[b * blockSize + j] = blockOrder[b] * blockSize + inner[j];
            }
        }
        return out;
    }

    private static int[] shuffled(int n, RandomStream rng) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
        return a;
    }

    static long[] toLongs(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    private List<NeuronGroup> orderedGroups() {
        // The structure's groups map has no order; layers do. Groups in the order layers first touch them.
        Map<String, NeuronGroup> ordered = new LinkedHashMap<>();
        ordered.put(index.structure.input(), index.group(index.structure.input()));
        for (LayerInfo layer : index.structure.layers()) {
            ordered.putIfAbsent(layer.input(), index.group(layer.input()));
            ordered.putIfAbsent(layer.output(), index.group(layer.output()));
        }
        index.structure.groups().values().stream().sorted(java.util.Comparator.comparing(NeuronGroup::id))
                .forEach(g -> ordered.putIfAbsent(g.id(), g));
        return List.copyOf(ordered.values());
    }

    private static String find(Map<String, String> parent, String x) {
        String p = parent.get(x);
        if (p == null) {
            throw new IllegalArgumentException("no neuron group '" + x + "'");
        }
        if (p.equals(x)) {
            return x;
        }
        String root = find(parent, p);
        parent.put(x, root);
        return root;
    }

    private static void union(Map<String, String> parent, String a, String b) {
        String ra = find(parent, a);
        String rb = find(parent, b);
        if (!ra.equals(rb)) {
            parent.put(rb, ra);
        }
    }
}
