package dev.metaforge.plugins.moe;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Meta-DMoE (Zhong et al. 2022, "Meta-DMoE: Adapting to Domain Shift by Meta-Distillation from
 * Mixture-of-Experts"): E domain experts (one per source domain, run as one weight batch), an
 * aggregator that weighs them from the target batch itself, and a student adapted <em>at test time
 * on unlabeled target data only</em> by distilling the aggregated teacher into it:
 * <ul>
 *   <li>teacher: {@code T(x) = Σ_e α_e(x_batch) · expert_e(x)}, {@code α = softmax(aggregator(mean
 *       and standard deviation of the unlabeled batch))}; the experts are frozen inside it;</li>
 *   <li>adaptation: k steps {@code θ ← θ − η ∇_θ mean((student_θ(x_u) − T(x_u))²)} on unlabeled
 *       x_u, recorded so it can be differentiated;</li>
 *   <li>meta-training: the adapted student's supervised loss on labelled query data of the same
 *       domain is minimised with respect to the student's initialisation and the aggregator,
 *       through the adaptation (second order), while each expert learns its own domain.</li>
 * </ul>
 * The aggregator here is a small MLP over batch statistics where the paper uses a transformer
 * over expert features; the bi-level meta-distillation is the paper's.
 *
 * <p>Defining properties, tested in {@code MetaDmoeTest}: adaptation reads no labels and lowers
 * the distillation loss; the meta-gradient through the adaptation matches finite differences
 * (second order); after meta-training, adaptation on unlabeled data of unseen target domains lowers
 * the student's error.
 *
 * @param in         input width
 * @param out        output width
 * @param experts    E, one per source domain
 * @param expert     one expert (and the student's architecture)
 * @param innerSteps k
 * @param innerLr    η
 */
public record MetaDmoe(int in, int out, int experts, Mlp expert, int innerSteps, double innerLr) {
    static final String EXPERTS = MixtureOfExperts.EXPERTS;
    static final String AGGREGATOR = "aggregator";
    static final String STUDENT = "student";

    public MetaDmoe {
        requireNonNull(expert, "expert is null");
        Fields.positive(experts, "experts");
        Fields.positive(innerSteps, "innerSteps");
        Fields.positive(innerLr, "innerLr");
    }

    Mlp aggregator() {
        return new Mlp(List.of(2 * in, 16, experts), Activation.TANH, Activation.IDENTITY, Initializer.torchDefault());
    }

    List<ParamSpec> parameters() {
        List<ParamSpec> specs = new ArrayList<>();
        expert.parameters().forEach(s -> specs.add(MixtureOfExperts.expertSpec(s, experts)));
        aggregator().parameters().forEach(s -> specs.add(s.prefixed(AGGREGATOR)));
        expert.parameters().forEach(s -> specs.add(s.prefixed(STUDENT)));
        return specs;
    }

    Params init(Engine engine, RandomStream rng) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec spec : parameters()) {
            out.put(spec.name(), spec.init().create(engine, spec, rng.nextSeed()));
        }
        return Params.of(out);
    }

    /** Every expert on x [N, in], as one weight batch: [E, N, out]. */
    Tensor expertOutputs(Params params, Tensor x) {
        return expert.apply(params.scoped(EXPERTS), x);
    }

    /** α [E] from the batch's statistics (mean and standard deviation of every input feature). */
    Tensor coefficients(Params params, Tensor x) {
        Tensor mean = x.mean(0, true);
        Tensor std = x.sub(mean).square().mean(0, true).add(1e-6).sqrt();
        Tensor signature = Tensor.concat(List.of(mean, std), 1);
        return aggregator().apply(params.scoped(AGGREGATOR), signature).softmax(-1).reshape(experts);
    }

    /** The teacher T(x) [N, out]: the experts frozen, the aggregator differentiable. */
    Tensor teacher(Params params, Tensor x) {
        Tensor outputs = expertOutputs(params.stopGradient(), x);
        return outputs.mul(coefficients(params, x).reshape(experts, 1, 1)).sum(0, false);
    }

    /** The student adapted by k distillation steps on unlabeled {@code x}; differentiable in params. */
    Params adapt(Params params, Tensor unlabeled) {
        Tensor target = teacher(params, unlabeled);
        // untracked parameters (evaluation, finite differences) still need gradients for the inner loop
        Params student = params.scoped(STUDENT).map(t -> t.isTracked() ? t : t.requiresGrad());
        for (int step = 0; step < innerSteps; step++) {
            Tensor loss = Losses.mse(expert.apply(student, unlabeled), target);
            Params g = Grad.of(loss).withGraph().wrt(student);
            Params current = student;
            student = current.zip(g, (p, d) -> p.sub(d.mul(innerLr)));
        }
        return student;
    }

    /** The distillation loss of a student on unlabeled data. */
    Tensor distillation(Params params, Params student, Tensor unlabeled) {
        return Losses.mse(expert.apply(student, unlabeled), teacher(params, unlabeled));
    }

    /** The meta-objective of one domain: the adapted student's error on the labelled query. */
    Tensor metaLoss(Params params, Tensor unlabeled, Tensor queryX, Tensor queryY) {
        return Losses.mse(expert.apply(adapt(params, unlabeled), queryX), queryY);
    }
}
