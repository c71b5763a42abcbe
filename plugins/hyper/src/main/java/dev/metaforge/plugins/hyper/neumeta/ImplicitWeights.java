package dev.metaforge.plugins.hyper.neumeta;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * NeuMeta's implicit weights (Yang et al. 2024): a coordinate network maps a weight's coordinates
 * (layer, input index, output index; all normalised to [0, 1] so any width maps to the same range)
 * through a Fourier encoding to the weight's value, so one coordinate network yields a target
 * {@link Mlp} of any hidden width. Biases use input coordinate -1 (outside the weights' range).
 *
 * <p>The encoding of a coordinate c is [c, sin(2^k pi c), cos(2^k pi c) for k &lt; frequencies];
 * the layer coordinate is encoded the same way. Kernel index (CNN targets) is not implemented.
 *
 * <p>With {@code heads > 1} the coordinate network ends in one output per layer (the paper's
 * per-layer heads over a shared trunk): layer l's values are read from head min(l, heads - 1).
 *
 * @param frequencies  Fourier frequencies per coordinate
 * @param hidden       hidden sizes of the coordinate network
 * @param heads        outputs of the coordinate network, one per generated layer (1: one shared output)
 */
public record ImplicitWeights(int frequencies, List<Integer> hidden, int heads) {
    /** Validates sizes. */
    public ImplicitWeights {
        if (frequencies < 0) {
            throw new IllegalArgumentException("frequencies must be >= 0, got " + frequencies);
        }
        if (heads < 1) {
            throw new IllegalArgumentException("heads must be >= 1, got " + heads);
        }
        hidden = List.copyOf(Objects.requireNonNull(hidden, "hidden is null"));
    }

    /** One shared output for every layer. */
    public ImplicitWeights(int frequencies, List<Integer> hidden) {
        this(frequencies, hidden, 1);
    }

    /** Width of one encoded coordinate triple. */
    public int encodedWidth() {
        return 3 * (1 + 2 * frequencies);
    }

    /** The coordinate network: encoded coordinates -> one value. */
    public Mlp coordinateNetwork() {
        List<Integer> sizes = new ArrayList<>();
        sizes.add(encodedWidth());
        sizes.addAll(hidden);
        sizes.add(heads);
        return Mlp.of(sizes, Activation.RELU);
    }

    /** Encoded coordinates of every weight then every bias of layer l of an MLP with these sizes. */
    public double[] encodeLayer(List<Integer> sizes, int layer) {
        return encodeLayer(sizes, layer, 0, null);
    }

    /**
     * {@link #encodeLayer(List, int)} with NeuMeta's coordinate noise: each input and output index
     * is moved by (u - 1/2) x {@code noise} index steps, u uniform in [0, 1) from {@code rng}, before
     * normalisation, so neighbouring widths' coordinates overlap in training (the paper's
     * cross-model smoothness). The bias marker -1 is not moved. {@code noise} 0 draws nothing.
     */
    public double[] encodeLayer(List<Integer> sizes, int layer, double noise, RandomStream rng) {
        if (noise < 0 || (noise > 0 && rng == null)) {
            throw new IllegalArgumentException("coordinate noise must be >= 0 and needs a random stream, got " + noise);
        }
        int in = sizes.get(layer);
        int out = sizes.get(layer + 1);
        int layers = sizes.size() - 1;
        double lc = layers == 1 ? 0 : layer / (double) (layers - 1);
        int w = encodedWidth();
        double[] enc = new double[(in * out + out) * w];
        int row = 0;
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                encode(enc, row++ * w, lc, norm(i + jitter(noise, rng), in), norm(o + jitter(noise, rng), out));
            }
        }
        for (int o = 0; o < out; o++) {
            encode(enc, row++ * w, lc, -1, norm(o + jitter(noise, rng), out));
        }
        return enc;
    }

    /**
     * Samples the parameters of {@code Mlp.of(sizes, ...)} (names "l.weight" [in, out], "l.bias")
     * from the coordinate network's parameters.
     */
    public Params sample(Engine engine, Params coordinateParams, List<Integer> sizes) {
        return sample(engine, coordinateParams, sizes, 0, null);
    }

    /** {@link #sample(Engine, Params, List)} from coordinates with noise (see {@link #encodeLayer(List, int, double, RandomStream)}). */
    public Params sample(Engine engine, Params coordinateParams, List<Integer> sizes, double noise, RandomStream rng) {
        Objects.requireNonNull(engine, "engine is null");
        Mlp net = coordinateNetwork();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l + 1 < sizes.size(); l++) {
            int in = sizes.get(l);
            int o = sizes.get(l + 1);
            double[] enc = encodeLayer(sizes, l, noise, rng);
            Tensor coords = engine.tensor(enc, in * o + o, encodedWidth());
            Tensor values = net.apply(coordinateParams, coords);
            if (heads > 1) {
                int head = Math.min(l, heads - 1);
                values = values.slice(1, head, head + 1);
            }
            Tensor flat = values.reshape(in * o + o);
            out.put(l + ".weight", flat.slice(0, 0, in * o).reshape(in, o));
            out.put(l + ".bias", flat.slice(0, in * o, in * o + o));
        }
        return Params.of(out);
    }

    /**
     * Fits the coordinate network to a (smoothed) source MLP by Adam on the mean squared weight
     * error, summed over layers; {@code Mlp} weights are out x in, the target's are [in, out].
     * Runs in the caller's scope (meant for small sources).
     */
    public Params fit(Engine engine, Params start, NeuronSmoothing.Mlp source, int steps, double learningRate) {
        List<Integer> sizes = source.sizes();
        Params targets = source.toParams(engine);
        Adam adam = Adam.adam(learningRate);
        Params p = start;
        for (int step = 0; step < steps; step++) {
            Params tracked = p.requiringGrad();
            p = adam.step(p, Grad.of(reconstruction(sample(engine, tracked, sizes), targets)).wrt(tracked));
        }
        return p;
    }

    /**
     * NeuMeta's reconstruction term: the mean squared difference of each sampled tensor from the
     * (smoothed) source's, averaged over tensors (weights and biases of every layer).
     */
    public static Tensor reconstruction(Params sampled, Params source) {
        Tensor sum = null;
        for (String name : sampled.names()) {
            Tensor term = sampled.get(name).sub(source.get(name)).square().mean();
            sum = sum == null ? term : sum.add(term);
        }
        return sum.div((double) sampled.size());
    }

    private static double norm(double i, int n) {
        return n == 1 ? 0.5 + i : i / (n - 1);
    }

    private static double jitter(double noise, RandomStream rng) {
        return noise == 0 ? 0 : (rng.nextDouble() - 0.5) * noise;
    }

    private void encode(double[] dst, int at, double... coords) {
        int k = at;
        for (double c : coords) {
            dst[k++] = c;
            for (int f = 0; f < frequencies; f++) {
                double a = Math.scalb(Math.PI, f) * c;
                dst[k++] = Math.sin(a);
                dst[k++] = Math.cos(a);
            }
        }
    }
}
