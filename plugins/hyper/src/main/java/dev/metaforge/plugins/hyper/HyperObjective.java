package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.ConditionedBatch;
import dev.metaforge.api.hyper.ConditionedTask;
import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.ShardedObjective;
import dev.metaforge.spi.Shape;
import java.util.List;
import java.util.Map;

/**
 * Trains a hypernetwork on a {@link ConditionedTask}: each step samples B conditions × N points,
 * generates B target networks in one weight-batch call and applies all of them in one call.
 *
 * <p>Trainable parameters: the hypernetwork's under {@code hyper.} (for MIP this includes θ0 as
 * {@code hyper.theta0.<name>}) and the target's ordinary (non-generated) ones under {@code target.}.
 *
 * <p>Sharded over the batch's conditions ({@link ShardedObjective}) when the task
 * {@link ConditionedTask#splitsOverContexts() splits over contexts}: a shard draws the whole batch
 * and generates and applies only the networks of its conditions, its loss weighted by its share.
 * The {@link Objective} contract is unchanged.
 */
public final class HyperObjective implements ShardedObjective {
    static final String HYPER = "hyper";
    static final String TARGET = "target";

    private final Engine engine;
    private final HyperTarget target;
    private final HyperNetwork hyper;
    private final ConditionedTask task;
    private final int contexts;
    private final int points;
    private final Params pretrained;

    /**
     * @param pretrained the target's pretrained weights for MIP's θ0 (null: θ0 starts like the target's init)
     */
    public HyperObjective(Engine engine, HyperTarget target, HyperNetwork hyper, ConditionedTask task, int contexts, int points,
                          Params pretrained) {
        this.engine = requireNonNull(engine, "engine is null");
        this.target = requireNonNull(target, "target is null");
        this.hyper = requireNonNull(hyper, "hyper is null");
        this.task = requireNonNull(task, "task is null");
        if (contexts <= 0 || points <= 0) {
            throw new IllegalArgumentException("hypernetwork experiment: contextsPerStep and pointsPerContext must be positive, got "
                    + contexts + ", " + points);
        }
        this.contexts = contexts;
        this.points = points;
        this.pretrained = pretrained;
        if (pretrained != null && !hyper.generatesOffsets()) {
            throw new IllegalArgumentException("hypernetwork experiment: pretrained θ0 weights need a hypernetwork that generates"
                    + " offsets (θ = θ0 + Δθ, e.g. 'mip'), got '" + hyper.kind() + "'");
        }
        if (!hyper.contextShape().equals(Shape.of(task.conditions()))) {
            throw new IllegalArgumentException("hypernetwork experiment: the task gives " + task.conditions()
                    + " condition(s) per context but the hypernetwork takes a context " + hyper.contextShape());
        }
        checkSameGenerated(target.generated(), hyper.generated());
    }

    public HyperTarget target() {
        return target;
    }

    public HyperNetwork hypernetwork() {
        return hyper;
    }

    public ConditionedTask task() {
        return task;
    }

    @Override
    public Params init(RandomStream rng) {
        Params h = pretrained != null ? ((MipHyperNetwork) hyper).initFrom(engine, rng, pretrained) : hyper.init(engine, rng);
        return h.prefixed(HYPER).merge(target.initOrdinary(engine, rng).prefixed(TARGET));
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        ConditionedBatch batch = task.sample(engine, rng, contexts, points);
        return batch.loss(predict(params, batch.context(), batch.inputs()));
    }

    @Override
    public int shardUnits(long step) {
        return contexts;
    }

    @Override
    public String unitName() {
        return "contexts";
    }

    @Override
    public boolean shardable() {
        return task.splitsOverContexts();
    }

    @Override
    public LossTerms shardLossTerms(Params params, long step, RandomStream rng, int from, int to) {
        ShardedObjective.checkRange(this, step, from, to);
        if (from == 0 && to == contexts) {
            return LossTerms.of(loss(params, step, rng));
        }
        ConditionedBatch slice = task.sample(engine, rng, contexts, points).slice(from, to);
        return LossTerms.of(slice.loss(predict(params, slice.context(), slice.inputs())).mul((to - from) / (double) contexts));
    }

    @Override
    public Map<String, String> metricDescriptions() {
        return task.metricDescriptions();
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        ConditionedBatch batch = task.evaluation(engine);
        return batch.metrics(predict(params, batch.context(), batch.inputs()));
    }

    /** The B generated networks applied to their inputs [B, N, in] in one call: [B, N, out]. */
    public Tensor predict(Params params, Tensor context, Tensor inputs) {
        Params generated = hyper.generate(params.scoped(HYPER), context);
        return target.apply(generated, params.scoped(TARGET), inputs);
    }

    static void checkSameGenerated(List<ParamSpec> want, List<ParamSpec> got) {
        boolean same = want.size() == got.size();
        for (int i = 0; same && i < want.size(); i++) {
            same = want.get(i).name().equals(got.get(i).name()) && want.get(i).shape().equals(got.get(i).shape());
        }
        if (!same) {
            throw new IllegalArgumentException("the hypernetwork generates " + got.stream().map(s -> s.name() + s.shape()).toList()
                    + " but the target's generated parameters are " + want.stream().map(s -> s.name() + s.shape()).toList());
        }
    }
}
