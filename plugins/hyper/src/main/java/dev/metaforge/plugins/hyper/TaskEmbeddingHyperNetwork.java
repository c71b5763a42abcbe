package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.TaskConditionedHyperNetwork;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The task-conditioned hypernetwork of von Oswald, Henning, Grewe and Sacramento ("Continual
 * learning with hypernetworks", ICLR 2020): one learned embedding per task
 * ({@code embeddings} [T, e]) feeds a generator hypernetwork (standard or chunked) that emits the
 * whole target. Forgetting is prevented by {@link dev.metaforge.api.hyper.OutputRegularizer}, which
 * keeps the weights generated for earlier tasks' embeddings fixed while a new task is learned.
 *
 * <p>The context is INT64 task ids: a scalar for one network, [B] for a weight batch (e.g. every
 * earlier task at once for the regularizer).
 */
public final class TaskEmbeddingHyperNetwork implements TaskConditionedHyperNetwork {
    static final String EMBEDDINGS = "embeddings";

    private final int tasks;
    private final int embeddingSize;
    private final HyperNetwork generator;
    private final double lookAhead;

    public TaskEmbeddingHyperNetwork(int tasks, int embeddingSize, HyperNetwork generator) {
        this(tasks, embeddingSize, generator, 0.0);
    }

    /**
     * @param lookAhead step size α of von Oswald et al.'s optional look-ahead (0: off): the output
     *                  regularizer is evaluated at {@code Θ + ΔΘ}, {@code ΔΘ = −α ∇_Θ L_task} held
     *                  constant (see {@link ContinualObjective})
     */
    public TaskEmbeddingHyperNetwork(int tasks, int embeddingSize, HyperNetwork generator, double lookAhead) {
        if (!(lookAhead >= 0) || Double.isInfinite(lookAhead)) {
            throw new IllegalArgumentException("task-conditioned hypernetwork: the look-ahead step size must be a finite number >= 0, got "
                    + lookAhead);
        }
        this.lookAhead = lookAhead;
        if (tasks <= 0 || embeddingSize <= 0) {
            throw new IllegalArgumentException("task-conditioned hypernetwork: tasks and embeddingSize must be positive, got "
                    + tasks + ", " + embeddingSize);
        }
        this.tasks = tasks;
        this.embeddingSize = embeddingSize;
        this.generator = requireNonNull(generator, "generator is null");
        if (!generator.contextShape().equals(Shape.of(embeddingSize))) {
            throw new IllegalArgumentException("task-conditioned hypernetwork: the generator must take a context ["
                    + embeddingSize + "] (the task embedding) but takes " + generator.contextShape());
        }
        for (ParamSpec s : generator.parameters()) {
            if (s.name().equals(EMBEDDINGS)) {
                throw new IllegalArgumentException("task-conditioned hypernetwork: generator parameter '" + s.name()
                        + "' clashes with the task embeddings");
            }
        }
    }

    /** The look-ahead step size α; 0 when the look-ahead is off. */
    public double lookAhead() {
        return lookAhead;
    }

    public HyperNetwork generator() {
        return generator;
    }

    @Override
    public int tasks() {
        return tasks;
    }

    @Override
    public int embeddingSize() {
        return embeddingSize;
    }

    @Override
    public List<ParamSpec> generated() {
        return generator.generated();
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        out.add(new ParamSpec(EMBEDDINGS, Shape.of(tasks, embeddingSize), ParamKind.EMBEDDING, embeddingSize, embeddingSize,
                Initializer.normal(1.0)));
        out.addAll(generator.parameters());
        return out;
    }

    @Override
    public String kind() {
        return "task-conditioned";
    }

    @Override
    public Params generate(Params params, Tensor taskIds) {
        requireNonNull(params, "params is null");
        return generator.generate(params.filter(n -> !n.equals(EMBEDDINGS)), embeddings(params, taskIds));
    }

    /** The embeddings of {@code taskIds}: [B, e] for ids [B], [e] for a scalar id. */
    public Tensor embeddings(Params params, Tensor taskIds) {
        checkIds(this, taskIds);
        return gatherRows(params.get(EMBEDDINGS), taskIds);
    }

    /** Validates the ids' dtype and shape and returns the weight-batch size (0 for a scalar id). */
    static int checkIds(TaskConditionedHyperNetwork hyper, Tensor taskIds) {
        requireNonNull(taskIds, "taskIds is null");
        int batch = hyper.contextBatch(taskIds);
        if (taskIds.dtype() != DType.INT64) {
            throw new IllegalArgumentException("hypernetwork '" + hyper.kind() + "': the context must be INT64 task ids, got "
                    + taskIds.dtype() + "; build it with taskIds(engine, ids...)");
        }
        // The ids' range is checked where they are made (taskIds(engine, ids...), from Java ints), not here:
        // reading them back would copy to the host on every step. An id out of range still fails, in the gather.
        return batch;
    }

    /** Rows of {@code table} [T, e] at {@code ids}: [B, e] for [B] ids, [e] for a scalar id. */
    static Tensor gatherRows(Tensor table, Tensor ids) {
        if (ids.rank() == 0) {
            return table.gather(ids.reshape(1), 0).reshape(table.dim(1));
        }
        return table.gather(ids, 0);
    }
}
