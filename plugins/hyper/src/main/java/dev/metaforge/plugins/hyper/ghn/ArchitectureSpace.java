package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The family of architectures a graph hypernetwork is trained over, as the {@code "space"} object of
 * the {@code ghn} experiment: MLP classifiers whose number of hidden layers is one of {@code depths},
 * each hidden layer's width one of {@code widths} (chosen per layer), and one hidden activation from
 * {@code activations}.
 *
 * <pre>{@code
 * "space": {"depths": [1, 2, 3], "widths": [16, 32, 64], "activations": ["relu", "tanh"], "heldOut": 6}
 * }</pre>
 *
 * <p>{@code heldOut} distinct architectures, drawn once from a stream seeded by {@code heldOutSeed},
 * are never sampled for training: evaluation reports the predicted parameters of exactly those, so
 * every reported accuracy is on an architecture the graph hypernetwork never saw.
 *
 * @param depths      numbers of hidden layers (default [1, 2, 3])
 * @param widths      hidden widths (default [16, 32, 64])
 * @param activations hidden activations by JSON name (default ["relu", "tanh"])
 * @param heldOut     architectures kept out of training for evaluation (default 6)
 * @param heldOutSeed seed of the held-out draw (default 1234)
 */
public record ArchitectureSpace(
        @Range(min = 1, max = 64, what = "number of hidden layers") List<Integer> depths,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> widths,
        List<String> activations,
        @Range(min = 1, max = 1024, what = "held-out architectures") Integer heldOut,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long heldOutSeed) {
    /** Draws that may fail to find a new architecture before the space is declared too small. */
    private static final int MAX_DRAWS = 100_000;

    public ArchitectureSpace {
        depths = depths == null ? List.of(1, 2, 3) : List.copyOf(depths);
        widths = widths == null ? List.of(16, 32, 64) : List.copyOf(widths);
        activations = activations == null ? List.of("relu", "tanh") : List.copyOf(activations);
        heldOut = heldOut == null ? 6 : heldOut;
        heldOutSeed = heldOutSeed == null ? 1234L : heldOutSeed;
        nonEmpty(depths, "depths");
        nonEmpty(widths, "widths");
        nonEmpty(activations, "activations");
        for (int d : depths) {
            if (d < 1 || d > 64) {
                throw new IllegalArgumentException("ghn space: field 'depths' holds " + d + "; a depth is a number of hidden layers in [1, 64]");
            }
        }
        for (int w : widths) {
            if (w < 1) {
                throw new IllegalArgumentException("ghn space: field 'widths' holds " + w + "; widths must be >= 1");
            }
        }
        for (String a : activations) {
            try {
                Activation.parse(a);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ghn space: field 'activations': " + e.getMessage(), e);
            }
        }
        if (heldOut < 1) {
            throw new IllegalArgumentException("ghn space: field 'heldOut' must be >= 1, got " + heldOut);
        }
        double size = size(depths, widths, activations);
        if (size < heldOut + 1) {
            throw new IllegalArgumentException("ghn space: field 'heldOut' keeps " + heldOut + " architectures out of training, but the"
                    + " space holds only " + (long) size + " distinct ones (depths " + depths + ", widths " + widths + ", activations "
                    + activations + "); lower heldOut or add depths, widths or activations");
        }
    }

    private static void nonEmpty(List<?> values, String field) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("ghn space: field '" + field + "' must list at least one value");
        }
    }

    /** Distinct architectures, counting repeated list entries once: Σ_d |widths|^d · |activations|. */
    private static double size(List<Integer> depths, List<Integer> widths, List<String> activations) {
        int w = new LinkedHashSet<>(widths).size();
        int a = (int) activations.stream().map(s -> Activation.parse(s)).distinct().count();
        double total = 0;
        for (int d : new LinkedHashSet<>(depths)) {
            total += Math.pow(w, d) * a;
        }
        return total;
    }

    /**
     * One MLP classifier of the space.
     *
     * @param hidden     hidden widths, input side first
     * @param activation hidden activation
     */
    public record Architecture(List<Integer> hidden, Activation activation) {
        public Architecture {
            hidden = List.copyOf(hidden);
        }

        /** The module for {@code inputs} features and {@code classes} logits (PyTorch's default initialisation). */
        public Mlp build(int inputs, int classes) {
            List<Integer> sizes = new ArrayList<>();
            sizes.add(inputs);
            sizes.addAll(hidden);
            sizes.add(classes);
            return new Mlp(sizes, activation, Activation.IDENTITY, Initializer.torchDefault());
        }

        /** "relu 64-32", for tables and messages. */
        public String name() {
            StringBuilder sb = new StringBuilder(activation.jsonName()).append(' ');
            for (int i = 0; i < hidden.size(); i++) {
                sb.append(i == 0 ? "" : "-").append(hidden.get(i));
            }
            return sb.toString();
        }
    }

    /** A uniform draw: depth, then each width, then the activation. */
    public Architecture draw(RandomStream rng) {
        int depth = depths.get(rng.nextInt(depths.size()));
        List<Integer> hidden = new ArrayList<>(depth);
        for (int i = 0; i < depth; i++) {
            hidden.add(widths.get(rng.nextInt(widths.size())));
        }
        return new Architecture(hidden, Activation.parse(activations.get(rng.nextInt(activations.size())).toLowerCase(Locale.ROOT)));
    }

    /** The held-out architectures, the same for every call. */
    public List<Architecture> heldOutArchitectures() {
        RandomStream rng = RandomStream.of(heldOutSeed);
        Set<Architecture> out = new LinkedHashSet<>();
        for (int i = 0; out.size() < heldOut && i < MAX_DRAWS; i++) {
            out.add(draw(rng));
        }
        if (out.size() < heldOut) {
            throw new IllegalStateException("found only " + out.size() + " of " + heldOut + " held-out architectures in " + MAX_DRAWS + " draws");
        }
        return List.copyOf(out);
    }

    /** A training architecture: a draw that is not held out. */
    public Architecture drawTraining(RandomStream rng, Set<Architecture> heldOutSet) {
        for (int i = 0; i < MAX_DRAWS; i++) {
            Architecture a = draw(rng);
            if (!heldOutSet.contains(a)) {
                return a;
            }
        }
        throw new IllegalStateException("no training architecture in " + MAX_DRAWS + " draws: nearly the whole space is held out");
    }

    /** The widest and deepest modules of the space, whose layers bound every other's: what the decoder must serve. */
    public List<Mlp> extremes(int inputs, int classes) {
        int maxWidth = widths.stream().mapToInt(Integer::intValue).max().orElseThrow();
        Activation any = Activation.parse(activations.get(0));
        return List.of(new Architecture(List.of(maxWidth), any).build(inputs, classes),
                new Architecture(List.of(maxWidth, maxWidth), any).build(inputs, classes));
    }
}
