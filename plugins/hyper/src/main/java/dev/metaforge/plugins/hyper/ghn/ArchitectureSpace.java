package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.AvgPool2d;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Flatten;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.Limits;
import dev.metaforge.api.spec.Range;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The family of architectures a graph hypernetwork is trained over, as the {@code "space"} object of
 * the {@code ghn} experiment. Two kinds, chosen by {@code type}:
 *
 * <ul>
 *   <li>{@code "mlp"} (the default): MLP classifiers whose number of hidden layers is one of
 *       {@code depths}, each hidden layer's width one of {@code widths} (chosen per layer), and one
 *       hidden activation from {@code activations}.
 *   <li>{@code "cnn"}: convolutional classifiers of images [C, H, W]: a stem convolution with stride
 *       2, then {@code depth} convolution blocks (padding k/2, so the map keeps its size), each
 *       wrapped in a residual connection when the network is residual, then global average pooling
 *       and a linear layer to the classes. One channel count from {@code widths} per network, one
 *       kernel side from {@code kernels} per convolution (stem included), residual or not from
 *       {@code residual}, one activation from {@code activations}. No normalisation layers: the
 *       predicted networks are scored as they are, with no batch statistics.
 * </ul>
 *
 * <pre>{@code
 * "space": {"depths": [1, 2, 3], "widths": [16, 32, 64], "activations": ["relu", "tanh"], "heldOut": 6}
 * "space": {"type": "cnn", "depths": [1, 2, 3], "widths": [8, 16, 32], "kernels": [3, 5], "residual": [false, true], "heldOut": 6}
 * }</pre>
 *
 * <p>{@code heldOut} distinct architectures, drawn once from a stream seeded by {@code heldOutSeed},
 * are never sampled for training: evaluation reports the predicted parameters of exactly those, so
 * every reported accuracy is on an architecture the graph hypernetwork never saw.
 *
 * @param type        "mlp" (default) or "cnn"
 * @param depths      numbers of hidden layers / convolution blocks after the stem (default [1, 2, 3])
 * @param widths      hidden widths / channel counts (default [16, 32, 64] for mlp, [8, 16, 32] for cnn)
 * @param activations hidden activations by JSON name (default ["relu", "tanh"] for mlp, ["relu"] for cnn)
 * @param kernels     cnn only: odd kernel sides (default [3, 5])
 * @param residual    cnn only: whether blocks are residual (default [false, true])
 * @param image       cnn only: the example shape [C, H, W] flat examples are read as (default: the
 *                    dataset's own shape, a [H, W] one read as [1, H, W])
 * @param heldOut     architectures kept out of training for evaluation (default 6)
 * @param heldOutSeed seed of the held-out draw (default 1234)
 */
public record ArchitectureSpace(
        String type,
        @Range(min = 1, max = 64, what = "number of hidden layers") List<Integer> depths,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "hidden width") List<Integer> widths,
        List<String> activations,
        @Range(min = 1, max = 31, what = "kernel side") List<Integer> kernels,
        List<Boolean> residual,
        @Range(min = 1, max = Limits.MAX_WIDTH, what = "image axis") List<Integer> image,
        @Range(min = 1, max = 1024, what = "held-out architectures") Integer heldOut,
        @Range(min = Long.MIN_VALUE, max = Long.MAX_VALUE, what = "seed") Long heldOutSeed) {
    /** The MLP space's type name (the default). */
    public static final String MLP = "mlp";
    /** The CNN space's type name. */
    public static final String CNN = "cnn";
    /** Draws that may fail to find a new architecture before the space is declared too small. */
    private static final int MAX_DRAWS = 100_000;

    public ArchitectureSpace {
        type = type == null ? MLP : type;
        if (!type.equals(MLP) && !type.equals(CNN)) {
            throw new IllegalArgumentException("ghn space: field 'type' is '" + type + "'; known space types: mlp, cnn");
        }
        boolean cnn = type.equals(CNN);
        if (!cnn) {
            for (var extra : List.of(new Object[] {"kernels", kernels}, new Object[] {"residual", residual}, new Object[] {"image", image})) {
                if (extra[1] != null) {
                    throw new IllegalArgumentException("ghn space: field '" + extra[0] + "' belongs to the cnn space; add \"type\": \"cnn\""
                            + " to the space, or remove it");
                }
            }
        }
        depths = depths == null ? List.of(1, 2, 3) : List.copyOf(depths);
        widths = widths == null ? (cnn ? List.of(8, 16, 32) : List.of(16, 32, 64)) : List.copyOf(widths);
        activations = activations == null ? (cnn ? List.of("relu") : List.of("relu", "tanh")) : List.copyOf(activations);
        kernels = cnn ? (kernels == null ? List.of(3, 5) : List.copyOf(kernels)) : null;
        residual = cnn ? (residual == null ? List.of(false, true) : List.copyOf(residual)) : null;
        image = image == null ? null : List.copyOf(image);
        heldOut = heldOut == null ? 6 : heldOut;
        heldOutSeed = heldOutSeed == null ? 1234L : heldOutSeed;
        nonEmpty(depths, "depths");
        nonEmpty(widths, "widths");
        nonEmpty(activations, "activations");
        for (int d : depths) {
            if (d < 1 || d > 64) {
                throw new IllegalArgumentException("ghn space: field 'depths' holds " + d + "; a depth is a number of "
                        + (cnn ? "convolution blocks" : "hidden layers") + " in [1, 64]");
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
        if (cnn) {
            nonEmpty(kernels, "kernels");
            nonEmpty(residual, "residual");
            for (int k : kernels) {
                if (k < 1 || k % 2 == 0) {
                    throw new IllegalArgumentException("ghn space: field 'kernels' holds " + k + "; kernel sides must be odd and >= 1"
                            + " (the decoder centres smaller kernels in the largest)");
                }
            }
            if (image != null && image.size() != 3) {
                throw new IllegalArgumentException("ghn space: field 'image' must be [channels, height, width], got " + image);
            }
        }
        if (heldOut < 1) {
            throw new IllegalArgumentException("ghn space: field 'heldOut' must be >= 1, got " + heldOut);
        }
        double size = size(cnn, depths, widths, activations, kernels, residual);
        if (size < heldOut + 1) {
            throw new IllegalArgumentException("ghn space: field 'heldOut' keeps " + heldOut + " architectures out of training, but the"
                    + " space holds only " + (long) size + " distinct ones (depths " + depths + ", widths " + widths + ", activations "
                    + activations + (cnn ? ", kernels " + kernels + ", residual " + residual : "")
                    + "); lower heldOut or add depths, widths" + (cnn ? ", kernels" : "") + " or activations");
        }
    }

    /** The MLP space with these fields (type "mlp"). */
    public static ArchitectureSpace mlp(List<Integer> depths, List<Integer> widths, List<String> activations, Integer heldOut,
                                        Long heldOutSeed) {
        return new ArchitectureSpace(MLP, depths, widths, activations, null, null, null, heldOut, heldOutSeed);
    }

    /** Whether this is the CNN space (not a bean getter, so JSON output does not gain a field). */
    public boolean cnn() {
        return type.equals(CNN);
    }

    private static void nonEmpty(List<?> values, String field) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("ghn space: field '" + field + "' must list at least one value");
        }
    }

    /**
     * Distinct architectures, counting repeated list entries once: Σ_d |widths|^d · |activations| for
     * MLPs, Σ_d |kernels|^(d+1) · |widths| · |residual| · |activations| for CNNs.
     */
    private static double size(boolean cnn, List<Integer> depths, List<Integer> widths, List<String> activations, List<Integer> kernels,
                               List<Boolean> residual) {
        int w = new LinkedHashSet<>(widths).size();
        int a = (int) activations.stream().map(s -> Activation.parse(s)).distinct().count();
        double total = 0;
        for (int d : new LinkedHashSet<>(depths)) {
            total += cnn ? Math.pow(new LinkedHashSet<>(kernels).size(), d + 1) * w * new LinkedHashSet<>(residual).size() * a
                    : Math.pow(w, d) * a;
        }
        return total;
    }

    /**
     * One classifier of the space.
     *
     * @param hidden     MLP: hidden widths, input side first; CNN: channels of each convolution, stem first
     * @param activation hidden activation
     * @param kernels    CNN: kernel side of each convolution, stem first; empty for an MLP
     * @param residual   CNN: whether the blocks after the stem are residual; false for an MLP
     */
    public record Architecture(List<Integer> hidden, Activation activation, List<Integer> kernels, boolean residual) {
        public Architecture {
            hidden = List.copyOf(hidden);
            kernels = List.copyOf(kernels);
            if (!kernels.isEmpty() && kernels.size() != hidden.size()) {
                throw new IllegalArgumentException("a CNN architecture needs one kernel per convolution: " + hidden + " and " + kernels);
            }
        }

        /** An MLP architecture. */
        public Architecture(List<Integer> hidden, Activation activation) {
            this(hidden, activation, List.of(), false);
        }

        /** Whether it is a CNN. */
        public boolean isCnn() {
            return !kernels.isEmpty();
        }

        /**
         * The module for examples of shape {@code example} and {@code classes} logits (PyTorch's
         * default initialisation). An MLP reads the flattened example; a CNN reads [C, H, W].
         */
        public Module build(Shape example, int classes) {
            if (!isCnn()) {
                List<Integer> sizes = new ArrayList<>();
                sizes.add(example.sizeAsInt());
                sizes.addAll(hidden);
                sizes.add(classes);
                return new Mlp(sizes, activation, Activation.IDENTITY, Initializer.torchDefault());
            }
            int[] chw = example.dims();
            List<Module> layers = new ArrayList<>();
            int k0 = kernels.get(0);
            layers.add(Conv2d.of(chw[0], hidden.get(0), k0).withStride(2).withPadding(k0 / 2));
            layers.add(activation);
            int h = (chw[1] + 2 * (k0 / 2) - k0) / 2 + 1;
            int w = (chw[2] + 2 * (k0 / 2) - k0) / 2 + 1;
            for (int i = 1; i < hidden.size(); i++) {
                int k = kernels.get(i);
                Module block = Sequential.of(Conv2d.of(hidden.get(i - 1), hidden.get(i), k).withPadding(k / 2), activation);
                layers.add(residual ? new Residual(block) : block);
            }
            // Global average pooling: the classifier reads one value per channel, whatever the image size.
            layers.add(new AvgPool2d(h, w, h, w, 0, 0));
            // The last three axes [C, 1, 1], so a weight batch [B, N, C, 1, 1] flattens to [B, N, C] as well.
            layers.add(new Flatten(-3, -1));
            layers.add(new Linear(hidden.get(hidden.size() - 1), classes, true, Initializer.torchDefault()));
            return new Sequential(layers);
        }

        /** "relu 64-32" for an MLP, "relu c16 k3-5-3 res" for a CNN, for tables and messages. */
        public String name() {
            StringBuilder sb = new StringBuilder(activation.jsonName()).append(' ');
            if (isCnn()) {
                sb.append('c').append(hidden.get(0)).append(" k");
                for (int i = 0; i < kernels.size(); i++) {
                    sb.append(i == 0 ? "" : "-").append(kernels.get(i));
                }
                return sb.append(residual ? " res" : "").toString();
            }
            for (int i = 0; i < hidden.size(); i++) {
                sb.append(i == 0 ? "" : "-").append(hidden.get(i));
            }
            return sb.toString();
        }
    }

    /** A uniform draw: depth, then each width (MLP) or the width, the kernels and residual (CNN), then the activation. */
    public Architecture draw(RandomStream rng) {
        int depth = depths.get(rng.nextInt(depths.size()));
        if (cnn()) {
            int width = widths.get(rng.nextInt(widths.size()));
            List<Integer> ks = new ArrayList<>(depth + 1);
            for (int i = 0; i <= depth; i++) {
                ks.add(kernels.get(rng.nextInt(kernels.size())));
            }
            boolean res = residual.get(rng.nextInt(residual.size()));
            Activation act = Activation.parse(activations.get(rng.nextInt(activations.size())).toLowerCase(Locale.ROOT));
            return new Architecture(java.util.Collections.nCopies(depth + 1, width), act, ks, res);
        }
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

    /** Modules whose layers bound every other's in the space: what the decoder must serve. */
    public List<Module> extremes(Shape example, int classes) {
        int maxWidth = widths.stream().mapToInt(Integer::intValue).max().orElseThrow();
        Activation any = Activation.parse(activations.get(0));
        if (cnn()) {
            int maxKernel = kernels.stream().mapToInt(Integer::intValue).max().orElseThrow();
            return List.of(new Architecture(List.of(maxWidth, maxWidth), any, List.of(maxKernel, maxKernel), false).build(example, classes));
        }
        return List.of(new Architecture(List.of(maxWidth), any).build(example, classes),
                new Architecture(List.of(maxWidth, maxWidth), any).build(example, classes));
    }

    /**
     * The example shape the space's modules read, from the dataset's {@code dataShape}: the flat
     * example for an MLP; {@code image}, or the dataset's [C, H, W] (a [H, W] one as [1, H, W]), for a CNN.
     *
     * @throws IllegalArgumentException naming field 'image' when the shapes cannot be reconciled
     */
    public Shape exampleShape(Shape dataShape) {
        if (!cnn()) {
            return Shape.of(dataShape.sizeAsInt());
        }
        Shape chw;
        if (image != null) {
            chw = Shape.of(image.get(0), image.get(1), image.get(2));
            if (chw.size() != dataShape.size()) {
                throw new IllegalArgumentException("ghn space: field 'image' " + image + " holds " + chw.size() + " values but the dataset's"
                        + " examples have " + dataShape.size() + " (shape " + dataShape + "); give [channels, height, width] with that"
                        + " product");
            }
        } else if (dataShape.rank() == 3) {
            chw = dataShape;
        } else if (dataShape.rank() == 2) {
            chw = Shape.of(1, dataShape.dim(0), dataShape.dim(1));
        } else {
            throw new IllegalArgumentException("ghn space: field 'image' is needed: the cnn space reads images [C, H, W] but the"
                    + " dataset's examples have shape " + dataShape + "; give \"image\": [channels, height, width] to read them as such");
        }
        int maxKernel = kernels.stream().mapToInt(Integer::intValue).max().orElseThrow();
        if (chw.dim(1) < 2 || chw.dim(2) < 2 || (chw.dim(1) + 2 * (maxKernel / 2) - maxKernel) < 0) {
            throw new IllegalArgumentException("ghn space: field 'image' " + chw + " is too small for a stride-2 stem of kernel "
                    + maxKernel);
        }
        return chw;
    }
}
