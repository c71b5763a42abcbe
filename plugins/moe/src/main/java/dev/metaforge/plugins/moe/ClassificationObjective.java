package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.StatefulModel;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Softmax cross-entropy on minibatches drawn (in Java, from the step's stream) from a labelled
 * dataset, with the model run through {@link StatefulModel}: its auxiliary losses are added to the
 * objective and logged, its metrics logged, its state carried across steps and checkpoints.
 */
final class ClassificationObjective implements Objective {
    private final Engine engine;
    private final Module model;
    private final LabelledDataset train;
    private final LabelledDataset test;
    private final int batch;
    private final int evalBatch;
    private final StatefulModel stateful;

    ClassificationObjective(Engine engine, Module model, LabelledDataset train, LabelledDataset test, int batch, int evalBatch) {
        this.engine = requireNonNull(engine, "engine is null");
        this.model = requireNonNull(model, "model is null");
        this.train = requireNonNull(train, "train is null");
        this.test = requireNonNull(test, "test is null");
        this.batch = batch;
        this.evalBatch = evalBatch;
        this.stateful = new StatefulModel(model, engine, 0);
    }

    Module model() {
        return model;
    }

    @Override
    public Params init(RandomStream rng) {
        return model.init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        int[] rows = new int[batch];
        for (int i = 0; i < batch; i++) {
            rows[i] = rng.nextInt(train.size());
        }
        Tensor x = inputs(train, rows);
        Tensor labels = train.labels(engine, rows);
        ModuleOutput out = stateful.train(params, x, rng.split());
        return StatefulModel.lossTerms(Losses.crossEntropyWithLabels(logits(out.output(), x), labels), out);
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        double hits = 0;
        double loss = 0;
        for (int from = 0; from < test.size(); from += evalBatch) {
            int count = Math.min(evalBatch, test.size() - from);
            int[] rows = new int[count];
            for (int i = 0; i < count; i++) {
                rows[i] = from + i;
            }
            Tensor x = inputs(test, rows);
            Tensor labels = test.labels(engine, rows);
            Tensor logits = logits(stateful.eval(params, x), x);
            hits += Losses.accuracy(logits, labels) * count;
            loss += Losses.crossEntropyWithLabels(logits, labels).item() * count;
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", hits / test.size());
        metrics.put("loss", loss / test.size());
        return metrics;
    }

    @Override
    public Params state() {
        return stateful.state();
    }

    @Override
    public void loadState(Params state) {
        stateful.loadState(state);
    }

    private Tensor inputs(LabelledDataset data, int[] rows) {
        Tensor x = data.inputs(engine, rows);
        return x.rank() == 2 ? x : x.reshape(rows.length, -1);
    }

    private static Tensor logits(Tensor output, Tensor x) {
        if (output.rank() != 2 || output.dim(0) != x.dim(0)) {
            throw new IllegalArgumentException("moe-classification: the model maps inputs " + x.shape() + " to " + output.shape()
                    + ", but it must give logits [N, classes]");
        }
        return output;
    }
}
