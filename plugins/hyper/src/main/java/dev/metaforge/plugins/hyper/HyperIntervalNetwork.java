package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.hyper.Interval;
import dev.metaforge.api.hyper.IntervalHyperNetwork;
import dev.metaforge.api.hyper.IntervalParams;
import dev.metaforge.api.hyper.ParamLayout;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * HyperInterval (Krukowski et al., "HyperInterval: Hypernetwork approach to training weight
 * interval regions in continual learning", 2024, arXiv:2405.15444): each task t has an interval
 * embedding with centre {@code σ cos(e_t)} (σ = ε / (2 e), which keeps all centres in one small box
 * so the intervals can intersect) and radius {@code ε softmax(r_t)} (learned, summing to ε). The
 * interval is propagated through the MLP hypernetwork with interval arithmetic
 * ({@link dev.metaforge.api.hyper.IntervalBounds}) to interval weights for the target.
 *
 * <p>Parameters: {@code embeddings} [T, e], {@code radii} [T, e] (radius logits), {@code net.*}.
 * {@link #generate} returns the midpoint weights of a task's interval. The universal embedding
 * is the midpoint of the intersection of all tasks' embedding intervals; because interval
 * propagation is sound, the point weights it generates lie inside every task's weight interval.
 */
public final class HyperIntervalNetwork implements IntervalHyperNetwork {
    static final String EMBEDDINGS = "embeddings";
    static final String RADII = "radii";

    private final List<ParamSpec> generated;
    private final int tasks;
    private final int embeddingSize;
    private final double perturbation;
    private final PerturbationSchedule schedule;
    private final ParamLayout layout;
    private final MlpGenerator net;

    /**
     * @param perturbation ε, the total radius of each embedding interval (0 gives point embeddings)
     */
    public HyperIntervalNetwork(List<ParamSpec> generated, int tasks, int embeddingSize, List<Integer> hidden,
                                Activation activation, double perturbation) {
        this(generated, tasks, embeddingSize, hidden, activation, PerturbationSchedule.constant(perturbation));
    }

    /**
     * @param schedule ε over each task's training; its final ε is the total radius of each embedding interval
     */
    public HyperIntervalNetwork(List<ParamSpec> generated, int tasks, int embeddingSize, List<Integer> hidden,
                                Activation activation, PerturbationSchedule schedule) {
        this.schedule = requireNonNull(schedule, "schedule is null");
        double perturbation = schedule.epsilon();
        this.generated = List.copyOf(requireNonNull(generated, "generated is null"));
        if (tasks <= 0 || embeddingSize <= 0) {
            throw new IllegalArgumentException("hyperinterval: tasks and embeddingSize must be positive, got " + tasks + ", " + embeddingSize);
        }
        if (!(perturbation >= 0)) {
            throw new IllegalArgumentException("hyperinterval: perturbation ε must be >= 0, got " + perturbation);
        }
        if (activation == Activation.SIN) {
            throw new IllegalArgumentException("hyperinterval: interval propagation needs a monotone activation, not sin");
        }
        this.tasks = tasks;
        this.embeddingSize = embeddingSize;
        this.perturbation = perturbation;
        this.layout = new ParamLayout(this.generated);
        this.net = new MlpGenerator("net", MlpGenerator.sizes(embeddingSize, requireNonNull(hidden, "hidden is null"), layout.size()),
                requireNonNull(activation, "activation is null"), Initializer.torchDefault());
    }

    /** The final ε, used for evaluation, snapshots and the regularizer. */
    public double perturbation() {
        return perturbation;
    }

    /** ε over each task's training ({@link ContinualObjective} evaluates it at each step). */
    public PerturbationSchedule schedule() {
        return schedule;
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
        return generated;
    }

    @Override
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        out.add(new ParamSpec(EMBEDDINGS, Shape.of(tasks, embeddingSize), ParamKind.EMBEDDING, embeddingSize, embeddingSize,
                Initializer.normal(1.0)));
        out.add(new ParamSpec(RADII, Shape.of(tasks, embeddingSize), ParamKind.OTHER, embeddingSize, embeddingSize,
                (engine, spec, seed) -> engine.uniform(spec.shape(), 0.0, 1.0, seed)));
        out.addAll(net.parameters());
        return out;
    }

    @Override
    public Interval embeddingInterval(Params params, Tensor taskIds) {
        return embeddingInterval(params, taskIds, perturbation);
    }

    /**
     * As {@link #embeddingInterval(Params, Tensor)} with the radius scaled to {@code epsilon} (the
     * schedule's value at a step); the centres' box σ = ε / (2e) keeps the final ε, so a schedule
     * changes only the radius.
     */
    public Interval embeddingInterval(Params params, Tensor taskIds, double epsilon) {
        requireNonNull(params, "params is null");
        if (!(epsilon >= 0)) {
            throw new IllegalArgumentException("hyperinterval: ε must be >= 0, got " + epsilon);
        }
        TaskEmbeddingHyperNetwork.checkIds(this, taskIds);
        double sigma = 0.5 * perturbation / embeddingSize;
        Tensor center = TaskEmbeddingHyperNetwork.gatherRows(params.get(EMBEDDINGS), taskIds).cos().mul(sigma);
        Tensor radius = TaskEmbeddingHyperNetwork.gatherRows(params.get(RADII), taskIds).softmax(-1).mul(epsilon);
        return new Interval(center, radius);
    }

    @Override
    public IntervalParams generateInterval(Params params, Tensor taskIds) {
        return generateInterval(params, taskIds, perturbation);
    }

    /** Interval weights with the embedding radius at {@code epsilon} (see {@link #embeddingInterval(Params, Tensor, double)}). */
    public IntervalParams generateInterval(Params params, Tensor taskIds, double epsilon) {
        Interval emb = embeddingInterval(params, taskIds, epsilon);
        boolean unbatched = taskIds.rank() == 0;
        Interval in = unbatched ? new Interval(emb.center().reshape(1, embeddingSize), emb.radius().reshape(1, embeddingSize)) : emb;
        Interval out = net.applyInterval(params, in);
        Tensor c = unbatched ? out.center().reshape(layout.size()) : out.center();
        Tensor r = unbatched ? out.radius().reshape(layout.size()) : out.radius();
        return new IntervalParams(layout.split(c), layout.split(r));
    }

    /** The midpoint weights of each task's interval. */
    @Override
    public String kind() {
        return "hyperinterval";
    }

    @Override
    public Params generate(Params params, Tensor taskIds) {
        return generateInterval(params, taskIds).center();
    }

    @Override
    public Tensor universalEmbedding(Params params, int upToTasks) {
        Interval all = intersectionBounds(params, upToTasks);
        return all.center();
    }

    /**
     * The intersection of the embedding intervals of tasks {@code 0..upToTasks-1}: centre as in
     * {@link #universalEmbedding}, radius zero along axes where they do not intersect.
     */
    public Interval universalInterval(Params params, int upToTasks) {
        return intersectionBounds(params, upToTasks);
    }

    private Interval intersectionBounds(Params params, int upToTasks) {
        if (upToTasks <= 0 || upToTasks > tasks) {
            throw new IllegalArgumentException("hyperinterval: universal embedding over " + upToTasks + " tasks, but there are "
                    + tasks + " (ask for 1.." + tasks + ")");
        }
        int[] ids = new int[upToTasks];
        for (int i = 0; i < upToTasks; i++) {
            ids[i] = i;
        }
        Interval each = embeddingInterval(params, taskIds(params.get(EMBEDDINGS).engine(), ids));
        Tensor lower = each.lower().max(0, false);
        Tensor upper = each.upper().min(0, false);
        Tensor center = lower.add(upper).mul(0.5);
        Tensor radius = upper.sub(lower).mul(0.5).maximum(0.0);
        return new Interval(center, radius);
    }

    @Override
    public Params generateFromEmbedding(Params params, Tensor embedding) {
        requireNonNull(params, "params is null");
        requireNonNull(embedding, "embedding is null");
        boolean unbatched = embedding.rank() == 1;
        if (embedding.dim(-1) != embeddingSize || embedding.rank() > 2) {
            throw new IllegalArgumentException("hyperinterval: an embedding must be [" + embeddingSize + "] or [B, "
                    + embeddingSize + "], got " + embedding.shape());
        }
        Tensor flat = net.apply(params, unbatched ? embedding.reshape(1, embeddingSize) : embedding);
        return layout.split(unbatched ? flat.reshape(layout.size()) : flat);
    }
}
