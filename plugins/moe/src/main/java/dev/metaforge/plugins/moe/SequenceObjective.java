package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.StatefulModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Softmax cross-entropy of a sequence classifier on {@link ModeSequences}, plus every auxiliary loss
 * of its modules (the model runs through {@link StatefulModel}, so routing statistics reach
 * {@code metrics.jsonl} and module state reaches the checkpoint).
 *
 * <p>Evaluation runs the test set one mode at a time, which gives, besides {@code accuracy} and
 * {@code loss}: {@code majority_baseline} (the accuracy of always answering the commonest test
 * label), {@code mode<m>.accuracy}, and for every MoE layer (metric prefix P, e.g. {@code 2.inner.1.})
 * the load per expert within each mode, {@code mode<m>.P expert_load.<e>}, and
 * {@code P mode_expert_mi}: the mutual information in nats between a token's mode and the expert it
 * is sent to (over assignments, modes weighted by their test frequency), with
 * {@code P mode_expert_mi_fraction} = that divided by its ceiling ln(min(modes, experts)). 0 means
 * routing ignores the mode; 1 means every mode has experts of its own.
 */
final class SequenceObjective implements Objective {
    private static final String LOAD = MixtureOfExperts.LOAD_METRIC + ".";

    private final Engine engine;
    private final Module model;
    private final ModeSequences.Split train;
    private final ModeSequences.Split test;
    private final int modes;
    private final int batch;
    private final int evalBatch;
    private final StatefulModel stateful;

    SequenceObjective(Engine engine, Module model, ModeSequences data, int batch, int evalBatch) {
        this.engine = requireNonNull(engine, "engine is null");
        this.model = requireNonNull(model, "model is null");
        ModeSequences.Split[] splits = data.generate();
        this.train = splits[0];
        this.test = splits[1];
        this.modes = data.modes();
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
        Tensor x = tokens(train, rows);
        ModuleOutput out = stateful.train(params, x, rng.split());
        return StatefulModel.lossTerms(Losses.crossEntropyWithLabels(logits(out.output(), x), labels(train, rows)), out);
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        double hits = 0;
        double loss = 0;
        Map<String, Double> perMode = new LinkedHashMap<>();
        // layer prefix -> [mode][expert] load, averaged over the mode's rows
        Map<String, double[][]> loads = new TreeMap<>();
        int[] rowsOfMode = new int[modes];
        for (int m = 0; m < modes; m++) {
            int[] rows = rowsOfMode(m);
            rowsOfMode[m] = rows.length;
            double modeHits = 0;
            for (int from = 0; from < rows.length; from += evalBatch) {
                int count = Math.min(evalBatch, rows.length - from);
                int[] chunk = java.util.Arrays.copyOfRange(rows, from, from + count);
                try (Scope scope = Scope.open()) {
                    Tensor x = tokens(test, chunk);
                    Tensor labels = labels(test, chunk);
                    ModuleOutput out = model.forward(params, x, ModuleCall.eval(stateful.state()));
                    Tensor logits = logits(out.output(), x);
                    double accuracy = Losses.accuracy(logits, labels);
                    modeHits += accuracy * count;
                    loss += Losses.crossEntropyWithLabels(logits, labels).item() * count;
                    for (Map.Entry<String, Tensor> e : out.metrics().entrySet()) {
                        int at = e.getKey().lastIndexOf(LOAD);
                        if (at < 0 || at > 0 && e.getKey().charAt(at - 1) != '.') {
                            continue;
                        }
                        String layer = e.getKey().substring(0, at);
                        int expert = Integer.parseInt(e.getKey().substring(at + LOAD.length()));
                        double[][] table = loads.computeIfAbsent(layer, k -> new double[modes][]);
                        if (table[m] == null || table[m].length <= expert) {
                            table[m] = table[m] == null ? new double[expert + 1] : java.util.Arrays.copyOf(table[m], expert + 1);
                        }
                        table[m][expert] += e.getValue().item() * count;
                    }
                }
            }
            hits += modeHits;
            if (rows.length > 0) {
                perMode.put("mode" + m + ".accuracy", modeHits / rows.length);
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", hits / test.size());
        metrics.put("loss", loss / test.size());
        metrics.put("majority_baseline", majorityRate(test.labels()));
        metrics.putAll(perMode);
        loads.forEach((layer, table) -> {
            for (int m = 0; m < modes; m++) {
                if (table[m] == null) {
                    continue;
                }
                for (int e = 0; e < table[m].length; e++) {
                    table[m][e] /= rowsOfMode[m];
                    metrics.put("mode" + m + "." + layer + LOAD + e, table[m][e]);
                }
            }
            double mi = modeExpertInformation(table, rowsOfMode);
            metrics.put(layer + "mode_expert_mi", mi);
            int experts = 0;
            for (double[] row : table) {
                experts = Math.max(experts, row == null ? 0 : row.length);
            }
            double ceiling = Math.log(Math.min(modes, experts));
            if (ceiling > 0) {
                metrics.put(layer + "mode_expert_mi_fraction", mi / ceiling);
            }
        });
        return metrics;
    }

    /**
     * I(mode; expert) in nats for the joint p(m) q(e | m), q(e | m) being mode m's load vector
     * (normalised, so top-k routing counts each of a token's k assignments once).
     */
    static double modeExpertInformation(double[][] load, int[] rowsOfMode) {
        int experts = 0;
        double total = 0;
        for (int m = 0; m < load.length; m++) {
            if (load[m] != null) {
                experts = Math.max(experts, load[m].length);
                total += rowsOfMode[m];
            }
        }
        double[][] q = new double[load.length][];
        double[] marginal = new double[experts];
        for (int m = 0; m < load.length; m++) {
            if (load[m] == null) {
                continue;
            }
            double sum = 0;
            for (double v : load[m]) {
                sum += Math.max(v, 0);
            }
            q[m] = new double[experts];
            for (int e = 0; e < load[m].length && sum > 0; e++) {
                q[m][e] = Math.max(load[m][e], 0) / sum;
                marginal[e] += rowsOfMode[m] / total * q[m][e];
            }
        }
        double mi = 0;
        for (int m = 0; m < load.length; m++) {
            if (q[m] == null) {
                continue;
            }
            for (int e = 0; e < experts; e++) {
                if (q[m][e] > 0 && marginal[e] > 0) {
                    mi += rowsOfMode[m] / total * q[m][e] * Math.log(q[m][e] / marginal[e]);
                }
            }
        }
        return mi;
    }

    private int[] rowsOfMode(int mode) {
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            if (test.modes()[i] == mode) {
                rows.add(i);
            }
        }
        return rows.stream().mapToInt(Integer::intValue).toArray();
    }

    private static double majorityRate(int[] labels) {
        Map<Integer, Integer> counts = new TreeMap<>();
        int best = 0;
        for (int y : labels) {
            best = Math.max(best, counts.merge(y, 1, Integer::sum));
        }
        return (double) best / labels.length;
    }

    @Override
    public Params state() {
        return stateful.state();
    }

    @Override
    public void loadState(Params state) {
        stateful.loadState(state);
    }

    private Tensor tokens(ModeSequences.Split split, int[] rows) {
        int length = split.length();
        long[] out = new long[rows.length * length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(split.tokens(), rows[i] * length, out, i * length, length);
        }
        return engine.indices(out, rows.length, length);
    }

    private Tensor labels(ModeSequences.Split split, int[] rows) {
        long[] out = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = split.labels()[rows[i]];
        }
        return engine.indices(out, rows.length);
    }

    private static Tensor logits(Tensor output, Tensor x) {
        if (output.rank() != 2 || output.dim(0) != x.dim(0)) {
            throw new IllegalArgumentException("moe-sequence-classification: the model maps token sequences " + x.shape() + " to "
                    + output.shape() + ", but it must give logits [N, classes] (e.g. end with a flatten and a linear layer)");
        }
        return output;
    }
}
