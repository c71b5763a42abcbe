package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * MODEL-*: every built-in component (hypernetworks, continual learners, meta-learners, plain
 * regression), built from its JSON spec exactly as {@code metaforge train} builds it, run on the
 * backend under test: the training loss and its gradient (second order for MAML) agree with the
 * float64 reference backend from the same parameters and data, and in FLOAT64 the gradient
 * matches finite differences of the loss.
 */
@ExtendWith(TckExtension.class)
class ModelConformanceTests {
    private static final long SEED = 5;

    private static final java.util.Set<String> APPROXIMATE_GRADIENTS = java.util.Set.of("first-order maml", "reptile");

    /** Tiny experiments, one per component; data is drawn in Java, so every backend sees the same. */
    static final Map<String, String> COMPONENTS = components();

    private static Map<String, String> components() {
        Map<String, String> m = new LinkedHashMap<>();
        String target = "\"target\":{\"type\":\"mlp\",\"sizes\":[1,4,1],\"activation\":\"tanh\"}";
        String weighting = "\"task\":{\"type\":\"loss-weighting\",\"evaluationConditions\":2,\"evaluationPoints\":4},"
                + "\"contextsPerStep\":3,\"pointsPerContext\":5";
        m.put("hypernetwork hmlp", "{\"type\":\"hypernetwork\"," + target
                + ",\"hypernetwork\":{\"type\":\"hmlp\",\"contextSize\":1,\"hidden\":[6]}," + weighting + "}");
        m.put("hypernetwork mip", "{\"type\":\"hypernetwork\"," + target
                + ",\"hypernetwork\":{\"type\":\"mip\",\"inputs\":1,\"hidden\":[6]}," + weighting + "}");
        m.put("hypernetwork chunked", "{\"type\":\"hypernetwork\"," + target
                + ",\"hypernetwork\":{\"type\":\"chunked\",\"contextSize\":1,\"chunkSize\":4,\"chunkEmbeddingSize\":3,\"hidden\":[6]},"
                + weighting + "}");
        m.put("hypernetwork recurrent", "{\"type\":\"hypernetwork\"," + target
                + ",\"hypernetwork\":{\"type\":\"recurrent\",\"contextSize\":1,\"hiddenSize\":5,\"layerEmbeddingSize\":3},"
                + weighting + "}");
        String blobs = "\"target\":{\"type\":\"mlp\",\"sizes\":[2,4,2],\"activation\":\"tanh\"},"
                + "\"tasks\":{\"type\":\"split-blobs\",\"tasks\":2,\"evaluationSize\":10},\"stepsPerTask\":2,\"batchSize\":6";
        m.put("continual task-conditioned", "{\"type\":\"continual\"," + blobs
                + ",\"hypernetwork\":{\"type\":\"task-conditioned\",\"tasks\":2,\"embeddingSize\":3,\"hidden\":[6]}}");
        m.put("continual hyperinterval", "{\"type\":\"continual\"," + blobs
                + ",\"hypernetwork\":{\"type\":\"hyperinterval\",\"tasks\":2,\"embeddingSize\":3,\"hidden\":[6]}}");
        m.put("neumeta implicit weights", "{\"type\":\"neumeta\",\"frequencies\":1,\"hidden\":[4],\"minWidth\":2,\"maxWidth\":3,\"widths\":[2,3],\"batch\":4}");
        String sine = "\"model\":{\"type\":\"mlp\",\"sizes\":[1,5,1],\"activation\":\"tanh\"},"
                + "\"tasks\":{\"type\":\"sinusoid\",\"k\":3,\"queryK\":3},\"metaBatch\":2,\"evalTasks\":2,\"evalSteps\":[1]";
        m.put("maml (second order, 2 inner steps)", "{\"type\":\"maml\"," + sine + ",\"innerSteps\":2,\"innerLr\":0.05}");
        m.put("first-order maml", "{\"type\":\"maml\"," + sine + ",\"innerSteps\":2,\"innerLr\":0.05,\"firstOrder\":true}");
        m.put("meta-sgd", "{\"type\":\"meta-sgd\"," + sine + ",\"innerSteps\":1,\"innerLr\":0.05}");
        m.put("anil", "{\"type\":\"anil\"," + sine + ",\"innerSteps\":2,\"innerLr\":0.05}");
        m.put("reptile", "{\"type\":\"reptile\"," + sine + ",\"innerSteps\":2,\"innerLr\":0.05}");
        m.put("prototypical networks", "{\"type\":\"protonet\",\"model\":{\"type\":\"mlp\",\"sizes\":[4,6,3],\"activation\":\"tanh\"},"
                + "\"tasks\":{\"type\":\"few-shot\",\"dataset\":{\"type\":\"gaussian-clusters\",\"fromClass\":0,\"toClass\":5,"
                + "\"examplesPerClass\":6,\"informativeDims\":2,\"noiseDims\":2},\"ways\":3,\"shots\":2,\"queries\":2},"
                + "\"metaBatch\":2,\"evalTasks\":2}");
        m.put("regression", "{\"type\":\"regression\",\"model\":{\"type\":\"mlp\",\"sizes\":[1,4,1],\"activation\":\"tanh\"},"
                + "\"task\":{\"function\":\"sin\",\"batch\":5,\"evalPoints\":5}}");
        m.put("regression through layernorm, residual, batchnorm and dropout layers", "{\"type\":\"regression\",\"model\":"
                + "{\"type\":\"sequential\",\"layers\":[{\"type\":\"linear\",\"in\":1,\"out\":6},{\"type\":\"layernorm\",\"features\":6},"
                + "{\"type\":\"residual\",\"inner\":{\"type\":\"sequential\",\"layers\":[{\"type\":\"linear\",\"in\":6,\"out\":6},"
                + "{\"type\":\"activation\",\"function\":\"tanh\"}]}},{\"type\":\"batchnorm\",\"features\":6},"
                + "{\"type\":\"dropout\",\"p\":0.1},{\"type\":\"linear\",\"in\":6,\"out\":1}]},"
                + "\"task\":{\"function\":\"sin\",\"batch\":5,\"evalPoints\":5}}");
        return m;
    }

    @TckRule(id = "MODEL-FAMILY-1")
    @DisplayName("MODEL-FAMILY-1 every built-in component's training loss and gradient in FLOAT32 agree with the float64 reference backend")
    @TestFactory
    Stream<DynamicTest> lossAndGradientAgreeWithReference(TckContext tck) {
        SpecRegistry specs = SpecRegistry.load(loader());
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
        return COMPONENTS.entrySet().stream().map(c -> dynamicTest(c.getKey(), () -> {
            try (Scope s = Scope.open()) {
                Objective actualObjective = build(specs, c.getValue(), engine);
                Params start = actualObjective.init(RandomStream.of(SEED));
                Objective expectedObjective = build(specs, c.getValue(), reference);
                Params startReference = copy(start, reference, DType.FLOAT64);
                LossAndGradient expected = lossAndGradient(expectedObjective, startReference);
                LossAndGradient actual = lossAndGradient(actualObjective, start);
                Compare.assertClose(new double[] {expected.loss()}, new double[] {actual.loss()}, 2e-4, 1e-6,
                        c.getKey() + ": training loss");
                for (String name : expected.gradient().keySet()) {
                    double[] e = expected.gradient().get(name);
                    Compare.assertClose(e, actual.gradient().get(name), 2e-3, 1e-4 * Math.max(1e-3, Compare.maxAbs(e)),
                            c.getKey() + ": gradient of " + name);
                }
            }
        }));
    }

    @TckRule(id = "MODEL-FAMILY-2", capability = Capability.FLOAT64)
    @DisplayName("MODEL-FAMILY-2 every built-in component's gradient in FLOAT64 matches central finite differences of its loss")
    @TestFactory
    Stream<DynamicTest> gradientMatchesFiniteDifferences(TckContext tck) {
        SpecRegistry specs = SpecRegistry.load(loader());
        Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
        // First-order MAML drops the Hessian terms and Reptile's surrogate has gradient theta - phi by
        // definition: neither is the gradient of its loss. MODEL-FAMILY-1 still checks both against the reference.
        return COMPONENTS.entrySet().stream().filter(c -> !APPROXIMATE_GRADIENTS.contains(c.getKey())).map(c -> dynamicTest(c.getKey(), () -> {
            try (Scope s = Scope.open()) {
                Objective objective = build(specs, c.getValue(), engine);
                Params start = objective.init(RandomStream.of(SEED));
                Params direction = randomDirection(start, engine);
                double analytic = 0;
                Map<String, double[]> g = lossAndGradient(objective, start).gradient();
                for (String name : start.names()) {
                    double[] d = direction.get(name).toDoubles();
                    double[] gn = g.get(name);
                    for (int i = 0; i < d.length; i++) {
                        analytic += gn[i] * d[i];
                    }
                }
                double h = 1e-6;
                double numeric = (loss(objective, shifted(start, direction, h)) - loss(objective, shifted(start, direction, -h))) / (2 * h);
                Compare.assertClose(new double[] {numeric}, new double[] {analytic}, 1e-5, 1e-8,
                        c.getKey() + ": directional derivative of the training loss along a random direction");
            }
        }));
    }

    record LossAndGradient(double loss, Map<String, double[]> gradient) {
    }

    private static LossAndGradient lossAndGradient(Objective objective, Params params) {
        try (Scope s = Scope.open()) {
            Params tracked = params.requiringGrad();
            Tensor loss = objective.loss(tracked, 0, RandomStream.of(SEED + 1));
            Params grads = Grad.of(loss).wrt(tracked);
            Map<String, double[]> out = new LinkedHashMap<>();
            for (String name : grads.names()) {
                out.put(name, grads.get(name).toDoubles());
            }
            return new LossAndGradient(loss.item(), out);
        }
    }

    private static double loss(Objective objective, Params params) {
        // Recording stays on: meta-learners differentiate their inner loops while computing the loss.
        try (Scope s = Scope.open()) {
            return objective.loss(params, 0, RandomStream.of(SEED + 1)).item();
        }
    }

    private static Objective build(SpecRegistry specs, String json, Engine engine) {
        ExperimentSpec spec = specs.read(json, ExperimentSpec.class, "TCK component spec");
        return spec.build(new BuildContext(engine, specs, Path.of("."), SEED));
    }

    private static Params copy(Params params, Engine engine, DType dtype) {
        return params.map(t -> engine.tensor(t.toDoubles(), t.shape(), dtype));
    }

    private static Params randomDirection(Params like, Engine engine) {
        SplittableRandom r = new SplittableRandom(SEED + 2);
        return like.map(t -> {
            double[] d = new double[(int) t.size()];
            for (int i = 0; i < d.length; i++) {
                d[i] = r.nextDouble() * 2 - 1;
            }
            return engine.tensor(d, t.shape(), t.dtype());
        });
    }

    private static Params shifted(Params params, Params direction, double h) {
        return params.zip(direction, (p, d) -> p.add(d.mul(h)));
    }

    static ClassLoader loader() {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        return tccl != null ? tccl : ModelConformanceTests.class.getClassLoader();
    }

    /** The component names, for documentation and the report. */
    static List<String> names() {
        return List.copyOf(COMPONENTS.keySet());
    }
}
