package dev.metaforge.plugins.hyper.neumeta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.EnableGrad;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * NeuMeta (Yang and Wang 2024, "Neural Metamorphosis") on a classification task, the paper's
 * pipeline end to end:
 * <ol>
 *   <li>a source MLP [inputs, w x depth, classes] (ReLU) of the source width is trained with Adam;</li>
 *   <li>its hidden neurons are reordered by {@link NeuronSmoothing} (function-preserving), so weight
 *       as a function of neuron index is smooth;</li>
 *   <li>the coordinate network ({@link ImplicitWeights}) is trained (by the run's optimizer) on the
 *       paper's objective: each step draws a hidden width uniformly from [minWidth, maxWidth],
 *       samples that network's weights and takes its cross-entropy on a training batch, plus
 *       {@code reconWeight} times the mean squared difference between the network sampled at the
 *       source width and the smoothed source (the paper applies this term when the drawn width is
 *       the source width; here it is computed every step on an extra source-width sample), plus
 *       {@code regWeight} times the sum of the sampled tensors' L2 norms.</li>
 * </ol>
 * With {@code stem > 0} the network is [inputs, stem, w x depth, classes] and the input layer
 * (inputs -> stem) is not generated: it is the smoothed source's, kept fixed, and the coordinate
 * network generates the layers after it. The paper's coordinate networks likewise generate chosen
 * layers of a network; an MLP's first layer on raw pixels (784 inputs) is a nearly arbitrary
 * function of the pixel index, which a small coordinate network cannot represent.
 *
 * <p>The source is trained once per objective, at the first {@link #init} (or the first step or
 * evaluation, if those come first), from a seed derived from the run's seed, so it does not depend
 * on which runs first, and a training step copies nothing to the host.
 *
 * <p>Evaluation reports the test accuracy of the network sampled at each listed width (and at the
 * source width), the source's and the smoothed source's accuracy, and, with {@code baselineSteps > 0},
 * the accuracy of independently trained networks of each width (same optimizer, batch size and
 * {@code baselineSteps} Adam steps each; trained once, at the first evaluation). One row per width
 * goes to {@link #tables()}' {@value #TABLE}.
 */
public final class NeuMetaClassifierObjective implements Objective {
    /** The per-width table's file name. */
    public static final String TABLE = "widths.csv";

    /**
     * What the objective trains and reports; see the class comment.
     *
     * @param depth                hidden layers of every sampled network (all of the same width)
     * @param stem                 width of a fixed input layer taken from the smoothed source and not generated
     *                             (0: none, every layer is generated)
     * @param sourceWidth          hidden width of the trained source network
     * @param minWidth             smallest width drawn in training
     * @param maxWidth             largest width drawn in training
     * @param widths               widths evaluated (the source width is added)
     * @param batch                examples per step (coordinate network, source and baselines)
     * @param sourceSteps          Adam steps of the source network
     * @param sourceLearningRate   their learning rate
     * @param reconWeight          weight of the reconstruction term
     * @param regWeight            weight of the L2-norm term
     * @param baselineSteps        Adam steps of each independently trained network (0: none)
     * @param baselineLearningRate their learning rate
     * @param evalExamples         test examples scored (the first ones)
     * @param coordinateNoise      training-time coordinate noise in index steps (0: none; evaluation never adds noise)
     * @param seed                 the run's seed (source and baselines derive theirs from it)
     */
    public record Settings(int depth, int stem, int sourceWidth, int minWidth, int maxWidth, List<Integer> widths, int batch, int sourceSteps,
                           double sourceLearningRate, double reconWeight, double regWeight, int baselineSteps,
                           double baselineLearningRate, int evalExamples, double coordinateNoise, long seed) {
        /** Checks the sizes. */
        public Settings {
            widths = List.copyOf(widths);
            if (!(coordinateNoise >= 0) || Double.isInfinite(coordinateNoise)) {
                throw new IllegalArgumentException("coordinate noise must be a finite number >= 0, got " + coordinateNoise);
            }
            if (depth < 1 || stem < 0 || sourceWidth < 1 || minWidth < 1 || maxWidth < minWidth || batch < 1 || evalExamples < 1) {
                throw new IllegalArgumentException("need depth, sourceWidth, minWidth, batch, evalExamples >= 1 and minWidth <= maxWidth");
            }
            if (widths.isEmpty() || widths.stream().anyMatch(w -> w < 1)) {
                throw new IllegalArgumentException("need at least one evaluated width, each >= 1, got " + widths);
            }
        }
    }

    private final Engine engine;
    private final ImplicitWeights implicit;
    private final LabelledDataset train;
    private final LabelledDataset test;
    private final Settings settings;
    private final int inputs;
    private final int classes;
    private final List<Integer> reported;
    // Trained lazily, once: the smoothed source (host arrays) and its accuracies.
    private NeuronSmoothing.Mlp smoothed;
    private double sourceAccuracy;
    private double smoothedAccuracy;
    private Map<Integer, Double> independent;
    private String table = "";

    /** @param train, test labelled data with labels 0..classes-1; the test set's labels must not exceed the training set's */
    public NeuMetaClassifierObjective(Engine engine, ImplicitWeights implicit, LabelledDataset train, LabelledDataset test,
                                      Settings settings) {
        this.engine = requireNonNull(engine, "engine is null");
        this.implicit = requireNonNull(implicit, "implicit is null");
        this.train = requireNonNull(train, "train is null");
        this.test = requireNonNull(test, "test is null");
        this.settings = requireNonNull(settings, "settings is null");
        if (train.exampleSize() != test.exampleSize()) {
            throw new IllegalArgumentException("train examples have " + train.exampleSize() + " values (" + train.exampleShape()
                    + ") but test examples " + test.exampleSize() + " (" + test.exampleShape() + ")");
        }
        int[] trainClasses = train.classes();
        this.classes = trainClasses[trainClasses.length - 1] + 1;
        int[] testClasses = test.classes();
        if (testClasses[testClasses.length - 1] >= classes) {
            throw new IllegalArgumentException("the test set has label " + testClasses[testClasses.length - 1] + " but the training set's"
                    + " labels stop at " + (classes - 1));
        }
        this.inputs = train.exampleSize();
        TreeSet<Integer> all = new TreeSet<>(settings.widths());
        all.add(settings.sourceWidth());
        this.reported = List.copyOf(all);
    }

    /** Layer sizes of the network of hidden width {@code width}: [inputs, (stem,) width x depth, classes]. */
    public List<Integer> sizes(int width) {
        List<Integer> sizes = new ArrayList<>();
        if (settings.stem() > 0) {
            sizes.add(inputs);
        }
        sizes.addAll(generatedSizes(width));
        return sizes;
    }

    /** Sizes of the generated layers: {@link #sizes} without the input, and without the fixed stem's input. */
    private List<Integer> generatedSizes(int width) {
        List<Integer> sizes = new ArrayList<>();
        if (settings.stem() > 0) {
            sizes.add(settings.stem());
        } else {
            sizes.add(inputs);
        }
        for (int i = 0; i < settings.depth(); i++) {
            sizes.add(width);
        }
        sizes.add(classes);
        return sizes;
    }

    /**
     * The parameters of {@link #network}({@code width}) sampled from the coordinate network's
     * parameters: every layer generated, or the fixed stem (layer 0, from the smoothed source)
     * followed by the generated layers.
     */
    public Params sample(Params coordinateParams, int width) {
        ensureSource();
        return withStem(implicit.sample(engine, coordinateParams, generatedSizes(width)));
    }

    /** Generated layers 0..L-1 as layers 1..L after the stem's layer 0 (unchanged without a stem). */
    private Params withStem(Params generated) {
        if (settings.stem() == 0) {
            return generated;
        }
        Params source = smoothed.toParams(engine);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("0.weight", source.get("0.weight"));
        out.put("0.bias", source.get("0.bias"));
        for (String name : generated.names()) {
            int dot = name.indexOf('.');
            out.put((Integer.parseInt(name.substring(0, dot)) + 1) + name.substring(dot), generated.get(name));
        }
        return Params.of(out);
    }

    /** The smoothed source's generated layers, named as {@link ImplicitWeights#sample} names them. */
    private Params sourceGenerated() {
        Params source = smoothed.toParams(engine);
        if (settings.stem() == 0) {
            return source;
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : source.names()) {
            int dot = name.indexOf('.');
            int layer = Integer.parseInt(name.substring(0, dot));
            if (layer > 0) {
                out.put((layer - 1) + name.substring(dot), source.get(name));
            }
        }
        return Params.of(out);
    }

    /** The target network of hidden width {@code width}: the {@link Mlp} every sampled parameter set runs through. */
    public Mlp network(int width) {
        return Mlp.of(sizes(width), Activation.RELU);
    }

    /** The coordinate network. */
    public ImplicitWeights implicit() {
        return implicit;
    }

    /** The smoothed source network (trained on first use). */
    public NeuronSmoothing.Mlp smoothedSource() {
        ensureSource();
        return smoothed;
    }

    /** Test accuracy of the trained source before smoothing (trained on first use). */
    public double sourceAccuracy() {
        ensureSource();
        return sourceAccuracy;
    }

    /** Test accuracy of the network of width {@code width} with parameters {@code params}, on the evaluated test examples. */
    public double accuracy(int width, Params params) {
        try (Scope s = Scope.open()) {
            int[] rows = firstRows(Math.min(settings.evalExamples(), test.size()));
            return Losses.accuracy(network(width).apply(params, test.inputs(engine, rows, Shape.of(inputs))), test.labels(engine, rows));
        }
    }

    @Override
    public Params init(RandomStream rng) {
        // The source is trained here, before the first step, so training steps copy nothing to the host.
        ensureSource();
        return implicit.coordinateNetwork().init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        ensureSource();
        int width = settings.minWidth() + rng.nextInt(settings.maxWidth() - settings.minWidth() + 1);
        int[] rows = randomRows(train.size(), settings.batch(), rng);
        Params sampled = implicit.sample(engine, params, generatedSizes(width), settings.coordinateNoise(), rng);
        Tensor task = Losses.crossEntropyWithLabels(network(width).apply(withStem(sampled), train.inputs(engine, rows, Shape.of(inputs))),
                train.labels(engine, rows));
        Map<String, Tensor> parts = new LinkedHashMap<>();
        parts.put("task", task);
        Tensor total = task;
        if (settings.reconWeight() > 0) {
            Params atSource = width == settings.sourceWidth() ? sampled
                    : implicit.sample(engine, params, generatedSizes(settings.sourceWidth()), settings.coordinateNoise(), rng);
            Tensor recon = ImplicitWeights.reconstruction(atSource, sourceGenerated());
            parts.put("reconstruction", recon);
            total = total.add(recon.mul(settings.reconWeight()));
        }
        if (settings.regWeight() > 0) {
            Tensor norms = null;
            for (Tensor t : sampled.values()) {
                Tensor norm = t.square().sum().sqrt();
                norms = norms == null ? norm : norms.add(norm);
            }
            parts.put("norm", norms);
            total = total.add(norms.mul(settings.regWeight()));
        }
        return new LossTerms(total, parts, Map.of("width", engine.scalar(width)));
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        ensureSource();
        if (independent == null && settings.baselineSteps() > 0) {
            independent = trainIndependent();
        }
        Map<String, Double> out = new LinkedHashMap<>();
        StringBuilder csv = new StringBuilder("width,parameters,neumeta_accuracy,independent_accuracy,source_accuracy\n");
        for (int w : reported) {
            double acc;
            try (Scope s = Scope.open()) {
                acc = accuracy(w, sample(params, w));
            }
            out.put("accuracy@width" + w, acc);
            Double ind = independent == null ? null : independent.get(w);
            if (ind != null) {
                out.put("independent.accuracy@width" + w, ind);
            }
            csv.append(w).append(',').append(network(w).parameterCount()).append(',').append(format(acc)).append(',')
                    .append(ind == null ? "" : format(ind)).append(',')
                    .append(w == settings.sourceWidth() ? format(sourceAccuracy) : "").append('\n');
        }
        out.put("source.accuracy", sourceAccuracy);
        out.put("smoothed.accuracy", smoothedAccuracy);
        table = csv.toString();
        return out;
    }

    @Override
    public Map<String, String> tables() {
        return table.isEmpty() ? Map.of() : Map.of(TABLE, table);
    }

    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("training loss", "cross-entropy of the network sampled at the step's random width, plus the weighted reconstruction"
                + " (source width vs smoothed source) and norm terms");
        for (int w : reported) {
            out.put("eval accuracy@width" + w, "test accuracy of the width-" + w + " network sampled from the coordinate network, no"
                    + " training of its own");
            if (settings.baselineSteps() > 0) {
                out.put("eval independent.accuracy@width" + w, "test accuracy of a width-" + w + " network trained on its own for "
                        + settings.baselineSteps() + " steps: the reference");
            }
        }
        out.put("eval source.accuracy", "test accuracy of the trained source network (width " + settings.sourceWidth() + ")");
        out.put("eval smoothed.accuracy", "the same after permutation smoothing: equal up to rounding, as smoothing preserves the function");
        return out;
    }

    private void ensureSource() {
        if (smoothed != null) {
            return;
        }
        NeuronSmoothing.Mlp source = trainNetwork(settings.sourceWidth(), settings.sourceSteps(), settings.sourceLearningRate(),
                settings.seed() ^ 0x5EED50CE);
        NeuronSmoothing.Mlp result = NeuronSmoothing.smooth(source).mlp();
        try (Scope s = Scope.open()) {
            sourceAccuracy = accuracy(settings.sourceWidth(), source.toParams(engine));
            smoothedAccuracy = accuracy(settings.sourceWidth(), result.toParams(engine));
        }
        smoothed = result;
    }

    private Map<Integer, Double> trainIndependent() {
        Map<Integer, Double> out = new TreeMap<>();
        for (int w : reported) {
            NeuronSmoothing.Mlp net = trainNetwork(w, settings.baselineSteps(), settings.baselineLearningRate(),
                    settings.seed() ^ (0xBA5E000L + w));
            try (Scope s = Scope.open()) {
                out.put(w, accuracy(w, net.toParams(engine)));
            }
        }
        return out;
    }

    /** Trains the width-{@code width} network with Adam; returns its parameters on the host. */
    private NeuronSmoothing.Mlp trainNetwork(int width, int steps, double learningRate, long seed) {
        Mlp net = network(width);
        Objective supervised = new Objective() {
            @Override
            public Params init(RandomStream rng) {
                return net.init(engine, rng);
            }

            @Override
            public Tensor loss(Params params, long step, RandomStream rng) {
                int[] rows = randomRows(train.size(), settings.batch(), rng);
                return Losses.crossEntropyWithLabels(net.apply(params, train.inputs(engine, rows, Shape.of(inputs))),
                        train.labels(engine, rows));
            }

            @Override
            public Map<String, Double> evaluate(Params params) {
                return Map.of();
            }
        };
        // May run inside evaluation (gradients off) or inside a training step's scope; the loop has its own scopes.
        try (EnableGrad g = EnableGrad.enter(); TrainingLoop loop = TrainingLoop.start(supervised, Adam.adam(learningRate), seed)) {
            for (int i = 0; i < steps; i++) {
                loop.advance();
            }
            return NeuronSmoothing.Mlp.fromParams(loop.params(), net.sizes().size() - 1);
        }
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static int[] firstRows(int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        return rows;
    }

    /** {@code count} rows drawn uniformly with replacement. */
    private static int[] randomRows(int size, int count, RandomStream rng) {
        int[] rows = new int[count];
        for (int i = 0; i < count; i++) {
            rows[i] = rng.nextInt(size);
        }
        return rows;
    }
}
