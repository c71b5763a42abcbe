package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.data.GaussianClusters;
import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tiny meta-learning problems whose every number comes from Java (parameters and tasks), so the
 * same meta-gradient can be computed on any backend and compared with the float64 reference:
 * the workload of the TCK's model-level meta-learning rules.
 *
 * <pre>{@code
 * for (String name : MetaConformance.learners()) {
 *     Params onBackend = MetaConformance.metaGradient(engine, name);
 *     Params reference = MetaConformance.metaGradient(referenceFloat64, name);
 * }
 * }</pre>
 */
public final class MetaConformance {
    private static final List<String> LEARNERS = List.of("maml", "fomaml", "meta-sgd", "anil", "reptile", "protonet");

    private MetaConformance() {
    }

    /** The learners covered, by their experiment type names ("fomaml" is MAML with {@code firstOrder}). */
    public static List<String> learners() {
        return LEARNERS;
    }

    /** A small instance of learner {@code name}: a 1-6-6-1 tanh network with two inner steps (ProtoNet: a 4-6-3 embedding). */
    public static MetaLearner learner(String name) {
        requireNonNull(name, "name is null");
        Mlp net = Mlp.of(List.of(1, 6, 6, 1), Activation.TANH);
        return switch (name) {
            case "maml" -> new Maml(net, TaskLoss.MSE, 2, 0.1, false);
            case "fomaml" -> new Maml(net, TaskLoss.MSE, 2, 0.1, true);
            case "meta-sgd" -> new MetaSgd(net, TaskLoss.MSE, 2, 0.1, false);
            case "anil" -> Anil.withLastLayerHead(net, TaskLoss.MSE, 2, 0.1, false);
            case "reptile" -> new Reptile(net, TaskLoss.MSE, 2, 0.1);
            case "protonet" -> new PrototypicalNetwork(Mlp.of(List.of(4, 6, 3), Activation.TANH));
            default -> throw new IllegalArgumentException("unknown meta-learner '" + name + "'; known: " + LEARNERS);
        };
    }

    /**
     * Meta-parameters of {@code learner} drawn in Java from {@code seed} (uniform in ±0.6; learned
     * learning rates uniform in [0.05, 0.15]), as tensors of the engine's default dtype.
     */
    public static Params parameters(Engine engine, MetaLearner learner, long seed) {
        requireNonNull(engine, "engine is null");
        requireNonNull(learner, "learner is null");
        RandomStream rng = RandomStream.of(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : learner.module().parameters()) {
            out.put(spec.name(), uniform(engine, spec, rng, -0.6, 0.6));
        }
        for (ParamSpec spec : learner.extraParameters()) {
            out.put(spec.name(), uniform(engine, spec, rng, 0.05, 0.15));
        }
        return Params.of(out);
    }

    /** Tasks for {@code learner}: 3 sinusoids of 4 support and 4 query points, or 2 episodes of 3-way 2-shot classification. */
    public static TaskBatch tasks(Engine engine, MetaLearner learner, long seed) {
        if (learner.loss() == TaskLoss.CROSS_ENTROPY) {
            FewShotEpisodes episodes = new FewShotEpisodes(GaussianClusters.generate(11, 0, 6, 5, 2, 2, 0.5, 1.0), 3, 2, 2, true);
            return episodes.sample(engine, 2, RandomStream.of(seed));
        }
        return SinusoidTasks.standard(4, 4).sample(engine, 3, RandomStream.of(seed));
    }

    /** The meta-gradient of learner {@code name} on its tiny problem (seed 0), as constants. */
    public static Params metaGradient(Engine engine, String name) {
        MetaLearner learner = learner(name);
        return learner.metaGradient(parameters(engine, learner, 0), tasks(engine, learner, 0));
    }

    private static Tensor uniform(Engine engine, ParamSpec spec, RandomStream rng, double low, double high) {
        double[] values = new double[spec.shape().sizeAsInt()];
        for (int i = 0; i < values.length; i++) {
            values[i] = low + (high - low) * rng.nextDouble();
        }
        return engine.tensor(values, spec.shape(), engine.defaultDType());
    }
}
