package dev.metaforge.plugins.hyper.ghn;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.EnableGrad;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.Objective;
import dev.metaforge.spi.Shape;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Trains a {@link GraphHyperNetwork} over an {@link ArchitectureSpace} on a classification task, as
 * GHN-2/3 do: each step draws {@code archsPerStep} training architectures, predicts every one's
 * parameters with one forward pass of the graph hypernetwork, and minimises the mean cross-entropy of
 * the predicted networks on one batch. Only the graph hypernetwork is trained; no target network
 * has parameters of its own.
 *
 * <p>Evaluation is on the space's held-out architectures, never drawn in training. For each it
 * reports the test accuracy of (1) the predicted parameters with no training at all, (2) the same
 * architecture's declared random initialisation, and (3, 4) each of those after
 * {@code finetuneSteps} plain SGD steps on training batches (the same batches for both). The per
 * architecture rows are {@link #tables()}' {@value #TABLE}.
 */
public final class GhnObjective implements Objective {
    /** The held-out table's file name. */
    public static final String TABLE = "heldout.csv";
    /** The parameter-count table's file name: the graph hypernetwork against one with GHN-2's full decoder. */
    public static final String SIZE_TABLE = "decoder.csv";

    private final Engine engine;
    private final GraphHyperNetwork ghn;
    private final ArchitectureSpace space;
    private final LabelledDataset train;
    private final LabelledDataset test;
    private final int classes;
    private final Shape example;
    private final int archsPerStep;
    private final int batchSize;
    private final int evalExamples;
    private final int finetuneSteps;
    private final double finetuneLearningRate;
    private final List<ArchitectureSpace.Architecture> heldOut;
    private final Set<ArchitectureSpace.Architecture> heldOutSet;
    private String table = "";

    /**
     * @param train, test    labelled data; labels must be 0..classes-1
     * @param archsPerStep   architectures per training step
     * @param batchSize      examples per training step (and per fine-tuning step)
     * @param evalExamples   test examples the accuracies are measured on (the first ones)
     * @param finetuneSteps  SGD steps of the fine-tuned columns (0: those columns repeat the untrained ones)
     */
    public GhnObjective(Engine engine, GraphHyperNetwork ghn, ArchitectureSpace space, LabelledDataset train, LabelledDataset test,
                        Shape example, int archsPerStep, int batchSize, int evalExamples, int finetuneSteps, double finetuneLearningRate) {
        this.engine = requireNonNull(engine, "engine is null");
        this.ghn = requireNonNull(ghn, "ghn is null");
        this.space = requireNonNull(space, "space is null");
        this.train = requireNonNull(train, "train is null");
        this.test = requireNonNull(test, "test is null");
        if (train.exampleSize() != test.exampleSize()) {
            throw new IllegalArgumentException("train examples have " + train.exampleSize() + " values (" + train.exampleShape()
                    + ") but test examples " + test.exampleSize() + " (" + test.exampleShape() + ")");
        }
        this.example = requireNonNull(example, "example is null");
        if (example.size() != train.exampleSize()) {
            throw new IllegalArgumentException("example shape " + example + " does not hold the dataset's " + train.exampleSize() + " values");
        }
        int[] trainClasses = train.classes();
        this.classes = trainClasses[trainClasses.length - 1] + 1;
        int[] testClasses = test.classes();
        if (testClasses[testClasses.length - 1] >= classes) {
            throw new IllegalArgumentException("the test set has label " + testClasses[testClasses.length - 1] + " but the training set's"
                    + " labels stop at " + (classes - 1));
        }
        this.archsPerStep = archsPerStep;
        this.batchSize = batchSize;
        this.evalExamples = Math.min(evalExamples, test.size());
        this.finetuneSteps = finetuneSteps;
        this.finetuneLearningRate = finetuneLearningRate;
        this.heldOut = space.heldOutArchitectures();
        this.heldOutSet = new HashSet<>(heldOut);
    }

    /** The example shape every architecture reads: flat for MLPs, [C, H, W] for CNNs. */
    public Shape example() {
        return example;
    }

    /** Logits of every architecture: the largest training label + 1. */
    public int classes() {
        return classes;
    }

    /** The architectures evaluation reports, none of which training draws. */
    public List<ArchitectureSpace.Architecture> heldOut() {
        return heldOut;
    }

    /** The graph hypernetwork. */
    public GraphHyperNetwork ghn() {
        return ghn;
    }

    @Override
    public Params init(RandomStream rng) {
        return ghn.init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        int[] rows = rows(train.size(), batchSize, rng);
        Tensor x = train.inputs(engine, rows, example);
        Tensor y = train.labels(engine, rows);
        Tensor total = null;
        for (int i = 0; i < archsPerStep; i++) {
            Module target = space.drawTraining(rng, heldOutSet).build(example, classes);
            Tensor loss = Losses.crossEntropyWithLabels(target.apply(ghn.predict(engine, params, target, rng), x), y);
            total = total == null ? loss : total.add(loss);
        }
        return total.div((double) archsPerStep);
    }

    /** The loss of architecture {@code architecture}'s predicted parameters on training batch {@code seed} (for tests). */
    public Tensor lossOf(Params params, ArchitectureSpace.Architecture architecture, long seed) {
        RandomStream rng = RandomStream.of(seed);
        int[] rows = rows(train.size(), batchSize, rng);
        Module target = architecture.build(example, classes);
        return Losses.crossEntropyWithLabels(target.apply(ghn.predict(engine, params, target, rng), train.inputs(engine, rows,
                example)), train.labels(engine, rows));
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        int[] evalRows = new int[evalExamples];
        for (int i = 0; i < evalExamples; i++) {
            evalRows[i] = i;
        }
        double[] sums = new double[4];
        StringBuilder csv = new StringBuilder("architecture,parameters,predicted_accuracy,random_accuracy,predicted_sgd_accuracy,"
                + "random_sgd_accuracy\n");
        try (Scope s = Scope.open()) {
            Tensor x = test.inputs(engine, evalRows, example);
            Tensor y = test.labels(engine, evalRows);
            for (int a = 0; a < heldOut.size(); a++) {
                try (Scope perArchitecture = Scope.open()) {
                    ArchitectureSpace.Architecture arch = heldOut.get(a);
                    Module target = arch.build(example, classes);
                    // Same bias draw (the GHN predicts weights only) and same batches for every column.
                    Params predicted = ghn.predict(engine, params, target, RandomStream.of(9000 + a));
                    Params random = target.init(engine, RandomStream.of(9000 + a));
                    double[] acc = {
                        accuracy(target, predicted, x, y),
                        accuracy(target, random, x, y),
                        accuracy(target, finetune(target, predicted, 7000 + a), x, y),
                        accuracy(target, finetune(target, random, 7000 + a), x, y)};
                    csv.append(arch.name()).append(',').append(target.parameterCount());
                    for (int c = 0; c < 4; c++) {
                        sums[c] += acc[c];
                        csv.append(',').append(String.format(Locale.ROOT, "%.4f", acc[c]));
                    }
                    csv.append('\n');
                }
            }
        }
        table = csv.toString();
        int n = heldOut.size();
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("heldout.predicted.accuracy", sums[0] / n);
        out.put("heldout.random.accuracy", sums[1] / n);
        out.put("heldout.predicted_sgd.accuracy", sums[2] / n);
        out.put("heldout.random_sgd.accuracy", sums[3] / n);
        return out;
    }

    @Override
    public Map<String, String> tables() {
        return table.isEmpty() ? Map.of() : Map.of(TABLE, table, SIZE_TABLE, sizeTable());
    }

    /**
     * The graph hypernetwork's trainable parameters with the LoGAH decoder it has, and with GHN-2's
     * full decoder of the same embedding and hidden widths in its place (counted, never built).
     */
    public String sizeTable() {
        long logah = ghn.parameterCount();
        DecoderSize size = ghn.decoder().size();
        long full = logah - size.lowRank(ghn.decoder().rank()) + size.full();
        return "decoder,parameters\nlogah-rank-" + ghn.decoder().rank() + "," + logah + "\nfull," + full + "\n";
    }

    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("training loss", "mean cross-entropy of the predicted parameters of the step's training architectures");
        out.put("eval heldout.predicted.accuracy", "test accuracy of the predicted parameters of never-seen architectures, no training:"
                + " the graph hypernetwork's claim; compare heldout.random.accuracy");
        out.put("eval heldout.random.accuracy", "test accuracy of the same architectures at their random initialisation (chance level)");
        out.put("eval heldout.predicted_sgd.accuracy", "after " + finetuneSteps + " SGD steps from the predicted parameters");
        out.put("eval heldout.random_sgd.accuracy", "after the same " + finetuneSteps + " SGD steps from random initialisation");
        return out;
    }

    private double accuracy(Module target, Params params, Tensor x, Tensor y) {
        try (Scope s = Scope.open()) {
            return Losses.accuracy(target.apply(params, x), y);
        }
    }

    /** Plain SGD from {@code start}; the batches depend on {@code seed} alone. Runs inside evaluation, so it turns gradients on. */
    private Params finetune(Module target, Params start, long seed) {
        RandomStream rng = RandomStream.of(seed);
        Params params = start;
        try (EnableGrad g = EnableGrad.enter()) {
            for (int step = 0; step < finetuneSteps; step++) {
                try (Scope s = Scope.open()) {
                    int[] rows = rows(train.size(), batchSize, rng);
                    Params tracked = params.requiringGrad();
                    Tensor loss = Losses.crossEntropyWithLabels(target.apply(tracked, train.inputs(engine, rows, example)),
                            train.labels(engine, rows));
                    Params grads = Grad.of(loss).wrt(tracked);
                    Params current = params;
                    // Kept in the caller's per-architecture scope, which frees every step's parameters at once.
                    params = s.keep(current.zip(grads, (p, gi) -> p.sub(gi.mul(finetuneLearningRate))));
                }
            }
        }
        return params;
    }

    /** {@code count} rows drawn uniformly with replacement. */
    private static int[] rows(int size, int count, RandomStream rng) {
        int[] rows = new int[count];
        for (int i = 0; i < count; i++) {
            rows[i] = rng.nextInt(size);
        }
        return rows;
    }
}
