package dev.metaforge.plugins.core;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.data.Sampling;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.CapturableObjective;
import dev.metaforge.api.train.StatefulModel;
import dev.metaforge.spi.Shape;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Softmax cross-entropy of a module's logits on batches of a labelled dataset, with the module's
 * state kept across steps by a {@link StatefulModel}; see {@link ClassificationExperimentSpec}.
 */
@SuppressWarnings("try") // scopes are opened for their effect on the tensors inside, not used by name
final class ClassificationObjective implements CapturableObjective {
    private final Engine engine;
    private final StatefulModel model;
    private final LabelledDataset train;
    private final LabelledDataset test;
    private final Shape layout;
    private final int batchSize;
    private final int evalBatchSize;
    private final int classes;

    ClassificationObjective(Engine engine, Module module, LabelledDataset train, LabelledDataset test, Shape layout, int batchSize,
            int evalBatchSize) {
        this.engine = requireNonNull(engine, "engine is null");
        this.train = requireNonNull(train, "train is null");
        this.test = requireNonNull(test, "test is null");
        this.layout = requireNonNull(layout, "layout is null");
        this.batchSize = batchSize;
        this.evalBatchSize = evalBatchSize;
        this.classes = checkedClassCount(requireNonNull(module, "module is null"));
        this.model = new StatefulModel(module, engine, 0);
    }

    /**
     * Runs the module once on one training example with throw-away parameters, so that a model
     * whose output does not fit the labels fails when the experiment is built, before training.
     */
    private int checkedClassCount(Module module) {
        int maxLabel = Math.max(max(train.classes()), max(test.classes()));
        try (Scope scope = Scope.open()) {
            Params params = module.init(engine, RandomStream.of(0));
            Tensor input = train.inputs(engine, new int[] {0}, layout);
            Tensor out;
            try {
                out = module.forward(params, input, ModuleCall.eval(module.initState(engine, 0))).output();
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new IllegalArgumentException("field 'model' cannot take inputs of shape [N, " + join(layout) + "] (examples of "
                        + train.source() + " laid out by \"inputShape\"): " + e.getMessage(), e);
            }
            Shape expected = Shape.of(1, out.rank() == 2 ? out.dim(1) : 0);
            if (out.rank() != 2 || !out.shape().equals(expected)) {
                throw new IllegalArgumentException("field 'model' maps inputs of shape [N, " + join(layout) + "] to " + shapeOf(out)
                        + ", but a classifier must give logits [N, classes] (e.g. an mlp with sizes [" + layout.size()
                        + ", ..., " + (maxLabel + 1) + "]; set \"inputShape\" to the layout the model expects)");
            }
            int count = out.dim(1);
            if (count <= maxLabel) {
                throw new IllegalArgumentException("field 'model' gives " + count + " logits per example, but the labels go up to "
                        + maxLabel + ": it needs at least " + (maxLabel + 1) + " outputs");
            }
            return count;
        }
    }

    private static String shapeOf(Tensor t) {
        return "[N" + (t.rank() > 1 ? ", " + join(t.shape().without(0)) : "") + "]" + (t.rank() == 0 ? " (a scalar)" : "");
    }

    private static String join(Shape s) {
        String text = Arrays.toString(s.dims());
        return text.substring(1, text.length() - 1);
    }

    private static int max(int[] values) {
        int m = -1;
        for (int v : values) {
            m = Math.max(m, v);
        }
        return m;
    }

    @Override
    public Params init(RandomStream rng) {
        return model.module().init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        return CapturableObjective.super.lossTerms(params, step, rng);
    }

    /** The step's batch, rows drawn from {@code rng}: inputs {@code x} and INT64 labels {@code y}. */
    @Override
    public Params inputs(long step, RandomStream rng) {
        int[] rows = Sampling.distinct(train.size(), batchSize, rng);
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("x", train.inputs(engine, rows, layout));
        out.put("y", train.labels(engine, rows));
        return Params.of(out);
    }

    @Override
    public LossTerms lossTerms(Params params, Params inputs, RandomStream rng) {
        ModuleOutput out = model.train(params, inputs.get("x"), rng.split());
        Tensor logits = out.output();
        return StatefulModel.lossTerms(Losses.crossEntropyWithLabels(logits, inputs.get("y")), out);
    }

    /** A model with state (BatchNorm running statistics) updates it at every step: a replay would not. */
    @Override
    public String captureRefusal() {
        return model.state().isEmpty() ? null
                : "its model keeps state that every training step updates (" + String.join(", ", model.state().names())
                + "), which a replayed step would leave unchanged";
    }

    /** Accuracy and mean cross-entropy over the whole test set, in eval mode with the current state. */
    @Override
    public Map<String, String> metricDescriptions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("training loss", "cross-entropy on this step's training batch (noisy from batch to batch)");
        out.put("eval accuracy", "fraction of the held-out test set classified correctly: the signal");
        out.put("eval loss", "cross-entropy on the held-out test set; rising while training loss falls means overfitting");
        return out;
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        long hits = 0;
        double lossSum = 0;
        int n = test.size();
        for (int from = 0; from < n; from += evalBatchSize) {
            int count = Math.min(evalBatchSize, n - from);
            int[] rows = new int[count];
            for (int i = 0; i < count; i++) {
                rows[i] = from + i;
            }
            try (Scope scope = Scope.open()) {
                Tensor logits = model.eval(params, test.inputs(engine, rows, layout));
                Tensor y = test.labels(engine, rows);
                lossSum += logits.softmaxCrossEntropy(Losses.oneHot(y, classes).cast(logits.dtype()), -1).sum().item();
                long[] predicted = logits.argmax(1, false).toLongs();
                for (int i = 0; i < count; i++) {
                    if (predicted[i] == test.label(rows[i])) {
                        hits++;
                    }
                }
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", hits / (double) n);
        metrics.put("loss", lossSum / n);
        return metrics;
    }

    /** The model's state (e.g. BatchNorm running statistics), saved in the checkpoint. */
    @Override
    public Params state() {
        return model.state();
    }

    @Override
    public void loadState(Params state) {
        model.loadState(state);
    }
}
