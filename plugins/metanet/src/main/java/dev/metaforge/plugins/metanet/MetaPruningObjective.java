package dev.metaforge.plugins.metanet;

import dev.metaforge.api.graph.GraphLayout;
import dev.metaforge.api.graph.ParamGraph;
import dev.metaforge.api.metanet.MetaNetwork;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.EnableGrad;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.Objective;
import dev.metaforge.spi.Shape;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/** Trains a metanetwork to make networks easier to prune, and compares with magnitude pruning (see {@link MetaPruningSpec}). */
@SuppressWarnings("try") // EnableGrad is opened for its effect
final class MetaPruningObjective implements Objective {
    private static final double MOMENTUM = 0.9;

    private final Engine engine;
    private final ModelZoo zoo;
    private final MetaPruningSpec spec;
    private final MetaNetwork meta;
    private final GraphLayout layout;
    private final NeuronPruning pruning;
    private final int[] train;
    private final int[] targets;

    MetaPruningObjective(Engine engine, ModelZoo zoo, MetaPruningSpec spec) {
        this.engine = engine;
        this.zoo = zoo;
        this.spec = spec;
        this.layout = GraphLayout.of(zoo.model);
        this.meta = spec.metanetwork().build(layout);
        this.pruning = new NeuronPruning(layout);
        if (pruning.unitCount() == 0) {
            throw new IllegalArgumentException("the zoo's model has no hidden neurons to prune");
        }
        // Targets: the most accurate networks of a held-out quarter; the metanetwork trains on the rest.
        int n = zoo.size();
        int[] order = IntStream.range(0, n).toArray();
        SplittableRandom r = new SplittableRandom(zoo.spec.seed() + 202);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int held = Math.max(spec.targets(), n / 4);
        if (held >= n) {
            throw new IllegalArgumentException("a zoo of " + n + " networks cannot hold out " + spec.targets() + " targets and train on the rest");
        }
        int[] heldOut = Arrays.copyOfRange(order, n - held, n);
        this.train = Arrays.copyOfRange(order, 0, n - held);
        this.targets = Arrays.stream(heldOut).boxed().sorted(Comparator.comparingDouble(i -> -zoo.accuracy[i]))
                .limit(spec.targets()).mapToInt(Integer::intValue).toArray();
    }

    @Override
    public Params init(RandomStream rng) {
        return meta.init(engine, rng);
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        int[] rows = new int[Math.min(spec.batch(), train.length)];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = train[rng.nextInt(train.length)];
        }
        ParamGraph edited = meta.edit(params, layout.toGraph(zoo.select(rows)));
        return taskLoss(edited.toParams(), dataRows(rng, spec.dataBatch())).add(pruning.groupLasso(edited).mul(spec.sparsity()));
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        Map<String, Double> out = new LinkedHashMap<>();
        Params theta = zoo.select(targets);
        out.put("accuracy", mean(accuracy(theta)));
        ParamGraph original = layout.toGraph(theta);
        ParamGraph edited = meta.edit(params, original);
        out.put("editedAccuracy", mean(accuracy(edited.toParams())));
        for (double ratio : spec.ratios()) {
            String r = String.valueOf(ratio);
            double[] keepMagnitude = pruning.masks(original, ratio);
            Params magnitude = pruning.apply(original, keepMagnitude).toParams();
            out.put("magnitude@" + r, mean(accuracy(magnitude)));
            out.put("magnitude@" + r + "+ft", mean(accuracy(finetune(magnitude, keepMagnitude))));
            double[] keepMeta = pruning.masks(edited, ratio);
            Params metaPruned = pruning.apply(edited, keepMeta).toParams();
            out.put("meta@" + r, mean(accuracy(metaPruned)));
            out.put("meta@" + r + "+ft", mean(accuracy(finetune(metaPruned, keepMeta))));
        }
        return out;
    }

    /** Mean cross-entropy, summed over the networks of the batch, of networks on task rows (clean labels). */
    private Tensor taskLoss(Params batch, int[] rows) {
        int b = batch.values().iterator().next().dim(0);
        long[] labels = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            labels[i] = zoo.task.yTrain()[rows[i]];
        }
        Tensor y = SyntheticClassification.oneHot(engine, labels, zoo.task.classes(), engine.defaultDType())
                .expandDims(0).broadcastTo(Shape.of(b, rows.length, zoo.task.classes()));
        return zoo.model.apply(batch, zoo.task.trainInputs(engine, rows)).softmaxCrossEntropy(y, -1).mean(1, false).sum();
    }

    private int[] dataRows(RandomStream rng, int n) {
        int[] rows = new int[Math.min(n, zoo.task.trainPoints())];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = rng.nextInt(zoo.task.trainPoints());
        }
        return rows;
    }

    private double[] accuracy(Params batch) {
        try (Scope s = Scope.open()) {
            return zoo.task.accuracy(zoo.model, batch, engine);
        }
    }

    /** SGD with momentum on the batch, keeping pruned neurons at zero after every step; same data for every call. */
    private Params finetune(Params start, double[] keep) {
        RandomStream rng = RandomStream.of(zoo.spec.seed() + 303);
        Params params = start;
        Params velocity = start.map(t -> t.mul(0.0));
        boolean owned = false;
        try (EnableGrad g = EnableGrad.enter()) {
            for (int step = 0; step < spec.finetuneSteps(); step++) {
                Params nextParams;
                Params nextVelocity;
                try (Scope s = Scope.open()) {
                    Params tracked = params.requiringGrad();
                    Params grad = Grad.of(taskLoss(tracked, dataRows(rng, spec.dataBatch()))).wrt(tracked);
                    Params vel = velocity.zip(grad, (v, gi) -> v.mul(MOMENTUM).add(gi));
                    Params updated = params.zip(vel, (p, v) -> p.sub(v.mul(spec.finetuneLearningRate())));
                    nextParams = s.escape(pruning.apply(layout.toGraph(updated), keep).toParams());
                    nextVelocity = s.escape(vel);
                }
                if (owned) {
                    params.close();
                    velocity.close();
                }
                params = nextParams;
                velocity = nextVelocity;
                owned = true;
            }
        }
        if (!owned) {
            return params;
        }
        Params result = params.map(t -> t.mul(1.0));   // a copy in the caller's scope
        params.close();
        velocity.close();
        return result;
    }

    private static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }
}
