package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.EnableGrad;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Meta-DMoE training on {@link DomainShift}: per step, each expert's supervised loss on its own
 * source domain, plus the meta-distillation loss (adapt the student on unlabeled support data of a
 * source domain, score it on that domain's labelled query). Evaluation adapts the student on the
 * unlabeled support of every unseen target domain and reports the query error before
 * ({@code mse_before}) and after ({@code mse_after}) adaptation, averaged over target domains.
 */
@SuppressWarnings("try")
final class MetaDmoeObjective implements Objective {
    private final Engine engine;
    private final MetaDmoe model;
    private final DomainShift task;
    private final int domainsPerStep;

    MetaDmoeObjective(Engine engine, MetaDmoe model, DomainShift task, int domainsPerStep) {
        this.engine = requireNonNull(engine, "engine is null");
        this.model = requireNonNull(model, "model is null");
        this.task = requireNonNull(task, "task is null");
        this.domainsPerStep = domainsPerStep;
    }

    MetaDmoe model() {
        return model;
    }

    @Override
    public Params init(RandomStream rng) {
        return model.init(engine, rng);
    }

    /** Inputs [n, 1] and targets [n, 1] of domain {@code shift}. */
    Tensor[] sample(double shift, int n, SplittableRandom random) {
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double u1 = 1.0 - random.nextDouble();
            double g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random.nextDouble());
            x[i] = DomainShift.input(shift, g);
            y[i] = DomainShift.target(shift, x[i]);
        }
        return new Tensor[] {engine.tensor(x, Shape.of(n, 1), engine.defaultDType()), engine.tensor(y, Shape.of(n, 1), engine.defaultDType())};
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        SplittableRandom random = new SplittableRandom(rng.nextSeed());
        int e = task.sourceDomains().size();
        // each expert on its own domain, as one weight batch: [E, n, 1]
        Tensor[][] data = new Tensor[e][];
        for (int d = 0; d < e; d++) {
            data[d] = sample(task.sourceDomains().get(d), task.query(), random);
        }
        Tensor xs = Tensor.stack(java.util.Arrays.stream(data).map(t -> t[0]).toList(), 0);
        Tensor ys = Tensor.stack(java.util.Arrays.stream(data).map(t -> t[1]).toList(), 0);
        Tensor expertLoss = Losses.mse(model.expert().apply(params.scoped(MetaDmoe.EXPERTS), xs), ys);
        Tensor meta = null;
        for (int i = 0; i < domainsPerStep; i++) {
            double shift = task.sourceDomains().get(random.nextInt(e));
            Tensor support = sample(shift, task.support(), random)[0];
            Tensor[] query = sample(shift, task.query(), random);
            Tensor l = model.metaLoss(params, support, query[0], query[1]);
            meta = meta == null ? l : meta.add(l);
        }
        meta = meta.div(domainsPerStep);
        Map<String, Tensor> parts = new LinkedHashMap<>();
        parts.put("expert_loss", expertLoss);
        parts.put("meta_loss", meta);
        return new LossTerms(expertLoss.add(meta), parts, Map.of());
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        SplittableRandom random = new SplittableRandom(12345);
        double before = 0;
        double after = 0;
        for (double shift : task.targetDomains()) {
            Tensor support = sample(shift, task.support(), random)[0];
            Tensor[] query = sample(shift, 4 * task.query(), random);
            // adaptation takes gradients even though evaluation records nothing else
            try (EnableGrad g = EnableGrad.enter()) {
                Params tracked = params.requiringGrad();
                before += Losses.mse(model.expert().apply(tracked.scoped(MetaDmoe.STUDENT), query[0]), query[1]).item();
                after += Losses.mse(model.expert().apply(model.adapt(tracked, support), query[0]), query[1]).item();
            }
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("mse_before", before / task.targetDomains().size());
        metrics.put("mse_after", after / task.targetDomains().size());
        return metrics;
    }
}
