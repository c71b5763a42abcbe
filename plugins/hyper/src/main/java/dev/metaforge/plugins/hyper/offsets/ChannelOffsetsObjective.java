package dev.metaforge.plugins.hyper.offsets;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.EnableGrad;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Data-conditioned offsets for a frozen conv network, in two phases.
 *
 * <ol>
 *   <li><b>Source task</b> (at the first need: {@link #init}, or the first loss): the conv network is
 *       trained on the clean training images for {@code sourceSteps} Adam steps, then frozen. Its parameters are held here as
 *       constants: they are not among the trained {@link Params}, so they receive no gradient and no
 *       optimizer touches them. They are this objective's checkpointed {@link #state()}.</li>
 *   <li><b>Shifted task</b> (the training steps): the {@link OffsetHyperNetwork} alone is trained, on
 *       images under an {@link ImageShift} drawn per example, to minimise the mean cross-entropy of
 *       the frozen network with its offsets over refinement steps 1..T.</li>
 * </ol>
 *
 * <p>Evaluation reports, on the first {@code evalExamples} test images (each with a fixed shift): the
 * frozen network on clean images (the source task) and on shifted ones, the frozen network with the
 * predicted offsets after each refinement step, and, as a reference, a copy of the frozen network
 * whose every weight is fine-tuned on the shifted training images for {@code finetuneSteps} Adam steps
 * (computed once: it does not depend on the hypernetwork).
 */
public final class ChannelOffsetsObjective implements Objective {
    /** Seed of the fixed shifts of the test images. */
    private static final long TEST_SHIFT_SEED = 0x5A1F7L;
    /** Test images per evaluation forward pass. */
    private static final int EVAL_CHUNK = 250;

    private final Engine engine;
    private final OffsetHyperNetwork hyper;
    private final ImageShift shift;
    private final LabelledDataset train;
    private final LabelledDataset test;
    private final Shape inputShape;
    private final int batchSize;
    private final int evalExamples;
    private final int sourceSteps;
    private final double sourceLearningRate;
    private final int finetuneSteps;
    private final double finetuneLearningRate;
    private final ImageShift.Draw[] testShifts;
    private final long sourceSeed;
    private Params frozen;
    private Double finetuneAccuracy;

    /**
     * @param inputShape one example's shape as the network reads it, e.g. [1, 28, 28]
     * @param batchSize  examples per step of every phase
     * @param sourceSeed seed of phase 1 (the frozen network's initialisation and batches)
     */
    public ChannelOffsetsObjective(Engine engine, OffsetHyperNetwork hyper, ImageShift shift, LabelledDataset train, LabelledDataset test,
                                   Shape inputShape, int batchSize, int evalExamples, int sourceSteps, double sourceLearningRate,
                                   int finetuneSteps, double finetuneLearningRate, long sourceSeed) {
        this.engine = requireNonNull(engine, "engine is null");
        this.hyper = requireNonNull(hyper, "hyper is null");
        this.shift = requireNonNull(shift, "shift is null");
        this.train = requireNonNull(train, "train is null");
        this.test = requireNonNull(test, "test is null");
        this.inputShape = requireNonNull(inputShape, "inputShape is null");
        if (inputShape.size() != train.exampleSize() || inputShape.size() != test.exampleSize()) {
            throw new IllegalArgumentException("input shape " + inputShape + " holds " + inputShape.size() + " values but training examples have "
                    + train.exampleSize() + " and test examples " + test.exampleSize());
        }
        this.batchSize = batchSize;
        this.evalExamples = Math.min(evalExamples, test.size());
        this.sourceSteps = sourceSteps;
        this.sourceLearningRate = sourceLearningRate;
        this.finetuneSteps = finetuneSteps;
        this.finetuneLearningRate = finetuneLearningRate;
        this.sourceSeed = sourceSeed;
        RandomStream shifts = RandomStream.of(TEST_SHIFT_SEED);
        this.testShifts = new ImageShift.Draw[this.evalExamples];
        for (int i = 0; i < testShifts.length; i++) {
            testShifts[i] = shift.draw(shifts);
        }
    }

    public OffsetHyperNetwork hypernetwork() {
        return hyper;
    }

    /**
     * The frozen network's parameters, owned by this objective: restored by {@link #loadState}, or else
     * trained by phase 1 at the first call. Phase 1 depends on the spec and {@code sourceSeed} alone (not
     * on {@link #init}'s stream), so every objective built from one spec and seed, on any backend, freezes
     * the same network.
     */
    public Params frozen() {
        if (frozen == null) {
            try (Scope s = Scope.open()) {
                frozen = trainSource(sourceSeed);
            }
        }
        return frozen;
    }

    /** Phase 1 if it has not run (the frozen network on the source task), then the hypernetwork's fresh parameters. */
    @Override
    public Params init(RandomStream rng) {
        frozen();
        return hyper.init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        int[] rows = rows(train.size(), batchSize, rng);
        ImageShift.Draw[] draws = new ImageShift.Draw[rows.length];
        for (int i = 0; i < rows.length; i++) {
            draws[i] = shift.draw(rng);
        }
        Tensor labels = train.labels(engine, rows);
        OffsetHyperNetwork.Refinement r = hyper.refine(params, frozen(), inputs(train, rows, draws));
        Tensor total = null;
        for (int t = 1; t < r.outputs().size(); t++) {
            Tensor ce = Losses.crossEntropyWithLabels(r.outputs().get(t), labels);
            total = total == null ? ce : total.add(ce);
        }
        return total.div((double) hyper.steps());
    }

    /**
     * The loss of step {@code step}'s batch with the hypernetwork's parameters and a given frozen network
     * (for tests: the gradient with respect to both).
     */
    public Tensor lossWith(Params params, Params frozenParams, long seed) {
        RandomStream rng = RandomStream.of(seed);
        int[] rows = rows(train.size(), batchSize, rng);
        ImageShift.Draw[] draws = new ImageShift.Draw[rows.length];
        for (int i = 0; i < rows.length; i++) {
            draws[i] = shift.draw(rng);
        }
        OffsetHyperNetwork.Refinement r = hyper.refine(params, frozenParams, inputs(train, rows, draws));
        return Losses.crossEntropyWithLabels(r.last(), train.labels(engine, rows));
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        int steps = hyper.steps();
        double clean = 0;
        double[] shifted = new double[steps + 1];
        double absDelta = 0;
        for (int from = 0; from < evalExamples; from += EVAL_CHUNK) {
            int n = Math.min(EVAL_CHUNK, evalExamples - from);
            int[] rows = new int[n];
            ImageShift.Draw[] draws = new ImageShift.Draw[n];
            for (int i = 0; i < n; i++) {
                rows[i] = from + i;
                draws[i] = testShifts[from + i];
            }
            try (Scope s = Scope.open()) {
                Tensor labels = test.labels(engine, rows);
                clean += n * Losses.accuracy(hyper.offsets().module().apply(frozen(), inputs(test, rows, null)), labels);
                OffsetHyperNetwork.Refinement r = hyper.refine(params, frozen(), inputs(test, rows, draws));
                for (int t = 0; t <= steps; t++) {
                    shifted[t] += n * Losses.accuracy(r.outputs().get(t), labels);
                }
                absDelta += n * r.deltas().get(steps - 1).abs().mean().item();
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("source.frozen.accuracy", clean / evalExamples);
        out.put("shifted.frozen.accuracy", shifted[0] / evalExamples);
        for (int t = 1; t <= steps; t++) {
            out.put("shifted.offsets.step" + t + ".accuracy", shifted[t] / evalExamples);
        }
        if (finetuneSteps > 0) {
            out.put("shifted.finetune.accuracy", finetuneAccuracy());
        }
        out.put("offsets.mean_abs", absDelta / evalExamples);
        return out;
    }

    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("training loss", "mean over refinement steps 1.." + hyper.steps() + " of the cross-entropy of the frozen network with the"
                + " predicted offsets, on shifted training images");
        out.put("eval source.frozen.accuracy", "the frozen network on clean test images (the source task it was trained on)");
        out.put("eval shifted.frozen.accuracy", "the frozen network on shifted test images, no offsets: the domain shift's cost");
        for (int t = 1; t <= hyper.steps(); t++) {
            out.put("eval shifted.offsets.step" + t + ".accuracy", "the frozen network with the offsets after refinement step " + t
                    + " on shifted test images: the hypernetwork's claim");
        }
        if (finetuneSteps > 0) {
            out.put("eval shifted.finetune.accuracy", "reference: every weight of a copy of the frozen network fine-tuned for " + finetuneSteps
                    + " Adam steps on shifted training images");
        }
        out.put("eval offsets.mean_abs", "mean |Δ| of the last refinement step's offsets on the shifted test images");
        return out;
    }

    @Override
    public Params state() {
        return frozen == null ? Params.empty() : frozen.prefixed("frozen");
    }

    @Override
    public void loadState(Params state) {
        Params restored = state.scoped("frozen");
        java.util.List<String> declared = hyper.offsets().module().parameters().stream().map(p -> p.name()).toList();
        if (restored.size() != state.size() || !restored.names().equals(declared)) {
            throw new IllegalArgumentException("channel-offsets: the checkpoint's state " + state.names() + " is not the frozen network's"
                    + " parameters (frozen.*)");
        }
        replaceFrozen(copy(restored));
    }

    /** Test accuracy on shifted images of the fine-tuned copy; trained at the first call, then remembered. */
    private double finetuneAccuracy() {
        if (finetuneAccuracy != null) {
            return finetuneAccuracy;
        }
        Module model = hyper.offsets().module();
        Params tuned;
        if (!engine.kernels().computesValues()) {
            // The pre-flight's shape-only pass: one evaluation's shapes are all it needs, and nothing here is remembered.
            tuned = copy(frozen());
        } else {
            try (EnableGrad g = EnableGrad.enter()) {
                tuned = train(new Supervised(true, copy(frozen())), finetuneLearningRate, finetuneSteps, 0xF17E);
            }
        }
        double correct = 0;
        try {
            for (int from = 0; from < evalExamples; from += EVAL_CHUNK) {
                int n = Math.min(EVAL_CHUNK, evalExamples - from);
                int[] rows = new int[n];
                ImageShift.Draw[] draws = new ImageShift.Draw[n];
                for (int i = 0; i < n; i++) {
                    rows[i] = from + i;
                    draws[i] = testShifts[from + i];
                }
                try (Scope s = Scope.open()) {
                    correct += n * Losses.accuracy(model.apply(tuned, inputs(test, rows, draws)), test.labels(engine, rows));
                }
            }
        } finally {
            tuned.close();
        }
        if (!engine.kernels().computesValues()) {
            return correct / evalExamples;
        }
        finetuneAccuracy = correct / evalExamples;
        return finetuneAccuracy;
    }

    /** Phase 1 (an unscoped result); on the pre-flight's shape-only backend the network is only initialised (nothing to compute). */
    private Params trainSource(long seed) {
        Module model = hyper.offsets().module();
        Params start;
        try (Scope s = Scope.open()) {
            start = copy(model.init(engine, RandomStream.of(seed)));
        }
        if (sourceSteps == 0 || !engine.kernels().computesValues()) {
            return start;
        }
        long began = System.nanoTime();
        Params trained;
        try (EnableGrad g = EnableGrad.enter()) {
            trained = train(new Supervised(false, start), sourceLearningRate, sourceSteps, seed);
        }
        System.err.printf("channel-offsets: phase 1 trained the frozen network (%s, %d parameters) on the source task for %d steps"
                + " in %.1f s%n", model.kind(), model.parameterCount(), sourceSteps, (System.nanoTime() - began) / 1e9);
        return trained;
    }

    /** {@code steps} Adam steps of {@code objective} from its initial parameters; returns an unscoped copy of the result. */
    private static Params train(Supervised objective, double learningRate, int steps, long seed) {
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(learningRate), seed)) {
            for (int i = 0; i < steps; i++) {
                loop.advance();
            }
            return copy(loop.params());
        } finally {
            objective.start.close();
        }
    }

    /** The frozen network trained on clean ({@code shifted} false) or shifted training images, from {@code start}. */
    private final class Supervised implements Objective {
        private final boolean shifted;
        private final Params start;

        Supervised(boolean shifted, Params start) {
            this.shifted = shifted;
            this.start = start;
        }

        @Override
        public Params init(RandomStream rng) {
            return start; // TrainingLoop.start copies it
        }

        @Override
        public Tensor loss(Params params, long step, RandomStream rng) {
            int[] rows = rows(train.size(), batchSize, rng);
            ImageShift.Draw[] draws = null;
            if (shifted) {
                draws = new ImageShift.Draw[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    draws[i] = shift.draw(rng);
                }
            }
            return Losses.crossEntropyWithLabels(hyper.offsets().module().apply(params, inputs(train, rows, draws)), train.labels(engine, rows));
        }

        @Override
        public Map<String, Double> evaluate(Params params) {
            return Map.of();
        }
    }

    /** The examples at {@code rows} in {@code inputShape}, each under its shift ({@code draws} null: clean). */
    private Tensor inputs(LabelledDataset data, int[] rows, ImageShift.Draw[] draws) {
        int size = data.exampleSize();
        double[] values = new double[rows.length * size];
        for (int i = 0; i < rows.length; i++) {
            data.copyExample(rows[i], values, i * size);
            if (draws != null) {
                for (int j = i * size; j < (i + 1) * size; j++) {
                    values[j] = draws[i].apply(values[j]);
                }
            }
        }
        int[] dims = new int[inputShape.rank() + 1];
        dims[0] = rows.length;
        System.arraycopy(inputShape.dims(), 0, dims, 1, inputShape.rank());
        return engine.tensor(values, Shape.of(dims), engine.defaultDType());
    }

    private void replaceFrozen(Params next) {
        if (frozen != null) {
            frozen.close();
        }
        frozen = next;
    }

    /** A copy owned by no scope (the caller closes it). */
    private static Params copy(Params source) {
        return source.map(t -> t.engine().wrapUnscoped(t.engine().kernels().cast(t.nativeArray(), t.dtype())));
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
