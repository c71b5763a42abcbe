package dev.metaforge.plugins.meta;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.meta.MetaLearner;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.loss.TaskLoss;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Prototypical networks (Snell, Swersky and Zemel 2017): an embedding network maps examples to
 * vectors; a class's prototype is the mean embedding of its support examples; a query is
 * classified by softmax over negative squared Euclidean distances to the prototypes. Adaptation
 * is computing the prototypes, so there are no inner gradient steps.
 *
 * <p>{@link #adapt} returns the (shared, unbatched) embedding parameters plus an entry
 * {@value #PROTOTYPES} of shape {@code [T, N, D]}. Targets are one-hot {@code [T, n, N]}.
 *
 * @param module the embedding network: examples {@code [m, features...]} to {@code [m, D]}
 */
public record PrototypicalNetwork(Module module) implements MetaLearner {
    /** The name of the prototypes entry in adapted parameters. */
    public static final String PROTOTYPES = "protonet.prototypes";

    public PrototypicalNetwork {
        requireNonNull(module, "module is null");
    }

    @Override
    public TaskLoss loss() {
        return TaskLoss.CROSS_ENTROPY;
    }

    @Override
    public int innerSteps() {
        return 0;
    }

    /** Embeddings {@code [T, n, D]} of inputs {@code [T, n, features...]}: one call on {@code [T·n, features...]}. */
    public Tensor embed(Params embeddingParams, Tensor inputs) {
        int tasks = inputs.dim(0);
        int points = inputs.dim(1);
        int[] dims = inputs.shape().dims();
        int[] flat = new int[dims.length - 1];
        flat[0] = tasks * points;
        System.arraycopy(dims, 2, flat, 1, dims.length - 2);
        Tensor z = module.apply(embeddingParams, inputs.reshape(flat));
        if (z.rank() != 2) {
            throw new IllegalArgumentException("prototypical network: the embedding network must map [m, features...] to [m, D], got "
                    + z.shape() + " for input " + inputs.reshape(flat).shape());
        }
        return z.reshape(tasks, points, z.dim(1));
    }

    /** The number of steps is ignored: prototypes are computed, not learned per task. */
    @Override
    public Params adapt(Params metaParams, TaskBatch tasks, int steps) {
        requireNonNull(metaParams, "metaParams is null");
        requireNonNull(tasks, "tasks is null");
        Params theta = InnerLoop.moduleParams(module, metaParams);
        Tensor embedded = embed(theta, tasks.supportInputs());
        Tensor oneHot = tasks.supportTargets();
        // prototypes[t, c] = sum_i onehot[t, i, c] z[t, i] / count[t, c]
        Tensor counts = oneHot.sum(1, false).expandDims(-1);
        Tensor prototypes = oneHot.mT().matmul(embedded).div(counts);
        Map<String, Tensor> out = new LinkedHashMap<>(theta.asMap());
        out.put(PROTOTYPES, prototypes);
        return Params.of(out);
    }

    /** Logits {@code [T, n, N]}: negative squared distances of each input's embedding to the task's prototypes. */
    @Override
    public Tensor predict(Params adapted, Tensor inputs) {
        Tensor prototypes = adapted.get(PROTOTYPES);
        Tensor z = embed(adapted.filter(n -> !n.equals(PROTOTYPES)), inputs);
        // -||z - c||^2 = 2 z.c - ||z||^2 - ||c||^2, one batched matmul instead of a [T, n, N, D] difference.
        Tensor cross = z.matmul(prototypes.mT()).mul(2.0);
        Tensor zNorm = z.square().sum(-1, true);
        Tensor cNorm = prototypes.square().sum(-1, false).expandDims(1);
        return cross.sub(zNorm).sub(cNorm);
    }

    @Override
    public Tensor metaLoss(Params metaParams, TaskBatch batch) {
        return queryLoss(adapt(metaParams, batch), batch).mean();
    }

    /** The meta-loss is the mean query loss over tasks, so the default {@link #metaLossPart} splits it exactly. */
    @Override
    public boolean splitsOverTasks() {
        return true;
    }
}
