package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.StatefulModel;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * MixER training on {@link MixedSystems}: the experts are trained by gradient on the mean squared
 * error of all environments' points, while the top-1 gate is refitted in closed form (K-means on the
 * environments' contexts, then least squares; {@link MixerRouter#fit}) before every
 * {@code refitEvery}-th step and kept as module state (checkpointed with the run). Evaluation
 * reports {@code mse} on a fixed grid of every environment and {@code routingPurity}: the mean over
 * families of the fraction of its environments sent to the family's most used expert.
 */
final class MixerObjective implements Objective {
    private static final int EVAL_POINTS = 41;

    private final Engine engine;
    private final MixtureOfExperts model;
    private final MixerRouter router;
    private final MixedSystems task;
    private final MixedSystems.Environment[] environments;
    private final int refitEvery;
    private final int iterations;
    private final double ridge;
    private final StatefulModel stateful;

    MixerObjective(Engine engine, MixtureOfExperts model, MixedSystems task, int refitEvery, int iterations, double ridge) {
        this.engine = requireNonNull(engine, "engine is null");
        this.model = requireNonNull(model, "model is null");
        this.router = (MixerRouter) model.router();
        this.task = requireNonNull(task, "task is null");
        this.environments = task.environmentsList();
        this.refitEvery = refitEvery;
        this.iterations = iterations;
        this.ridge = ridge;
        this.stateful = new StatefulModel(model, engine, 0);
    }

    MixtureOfExperts model() {
        return model;
    }

    /** The gate fitted to the environments' contexts now. */
    MixerRouter.Fit fit() {
        double[][] contexts = new double[environments.length][];
        for (int e = 0; e < environments.length; e++) {
            contexts[e] = environments[e].context();
        }
        return router.fit(contexts, iterations, ridge, task.seed());
    }

    @Override
    public Params init(RandomStream rng) {
        return model.init(engine, rng);
    }

    @Override
    public void beforeStep(Params params, long step) {
        if (step % refitEvery == 0) {
            stateful.loadState(fit().state(engine, engine.defaultDType()).prefixed(MixtureOfExperts.ROUTER));
        }
    }

    @Override
    public Tensor loss(Params params, long step, RandomStream rng) {
        return lossTerms(params, step, rng).total();
    }

    @Override
    public LossTerms lossTerms(Params params, long step, RandomStream rng) {
        int n = environments.length * task.points();
        double[] x = new double[n * task.width()];
        double[] y = new double[n];
        int row = 0;
        for (MixedSystems.Environment env : environments) {
            for (int i = 0; i < task.points(); i++) {
                double t = -1.5 + 3 * rng.nextDouble();
                env.token(t, x, row * task.width());
                y[row++] = env.target(t);
            }
        }
        Tensor tokens = engine.tensor(x, Shape.of(n, task.width()), engine.defaultDType());
        Tensor targets = engine.tensor(y, Shape.of(n, 1), engine.defaultDType());
        ModuleOutput out = stateful.train(params, tokens, rng.split());
        return StatefulModel.lossTerms(Losses.mse(out.output(), targets), out);
    }

    @Override
    public Map<String, Double> evaluate(Params params) {
        int n = environments.length * EVAL_POINTS;
        double[] x = new double[n * task.width()];
        double[] y = new double[n];
        int row = 0;
        for (MixedSystems.Environment env : environments) {
            for (int i = 0; i < EVAL_POINTS; i++) {
                double t = -1.5 + 3.0 * i / (EVAL_POINTS - 1);
                env.token(t, x, row * task.width());
                y[row++] = env.target(t);
            }
        }
        Tensor tokens = engine.tensor(x, Shape.of(n, task.width()), engine.defaultDType());
        Tensor targets = engine.tensor(y, Shape.of(n, 1), engine.defaultDType());
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("mse", Losses.mse(stateful.eval(params, tokens), targets).item());
        metrics.put("routingPurity", purity(fitFromState()));
        return metrics;
    }

    /** The gate as it is now in the model's state. */
    MixerRouter.Fit fitFromState() {
        double[] w = stateful.state().get(MixtureOfExperts.ROUTER + "." + MixerRouter.WEIGHT).toDoubles();
        double[] b = stateful.state().get(MixtureOfExperts.ROUTER + "." + MixerRouter.BIAS).toDoubles();
        int c = task.contextWidth();
        int e = router.experts();
        double[][] gate = new double[c + 1][e];
        for (int i = 0; i < c; i++) {
            System.arraycopy(w, i * e, gate[i], 0, e);
        }
        System.arraycopy(b, 0, gate[c], 0, e);
        return new MixerRouter.Fit(new int[0], gate);
    }

    /** Mean over families of the share of its environments routed to its most used expert. */
    double purity(MixerRouter.Fit fit) {
        int families = task.families();
        int[][] counts = new int[families][router.experts()];
        int[] sizes = new int[families];
        for (MixedSystems.Environment env : environments) {
            counts[env.family()][fit.route(env.context())]++;
            sizes[env.family()]++;
        }
        double sum = 0;
        for (int f = 0; f < families; f++) {
            int best = 0;
            for (int c : counts[f]) {
                best = Math.max(best, c);
            }
            sum += best / (double) sizes[f];
        }
        return sum / families;
    }

    @Override
    public Params state() {
        return stateful.state();
    }

    @Override
    public void loadState(Params state) {
        stateful.loadState(state);
    }
}
