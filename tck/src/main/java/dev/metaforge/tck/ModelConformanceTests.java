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
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/**
 * MODEL-FAMILY-*: every component example (built-in or a third party's, see
 * {@link dev.metaforge.api.plugin.MetaforgePlugin#conformanceExamples()} and {@link ComponentExamples}),
 * built from its JSON spec exactly as {@code metaforge train} builds it, run on the backend under
 * test: the training loss and its gradient (second order for MAML) agree with the float64 reference
 * backend from the same parameters and data; in FLOAT64 the gradient matches finite differences of
 * the loss; the same seed gives bit-identical parameters, loss and gradient; and the spec survives
 * a write and re-read through the registry unchanged. Examples come from every plugin the run's
 * class loader sees; {@value ComponentExamples#PARAMETER} narrows them.
 */
@ExtendWith(TckExtension.class)
class ModelConformanceTests {
    private static final long SEED = 5;

    @TckRule(id = "MODEL-FAMILY-1")
    @DisplayName("MODEL-FAMILY-1 every component example's training loss and gradient in FLOAT32 agree with the float64 reference backend")
    @TestFactory
    Stream<DynamicTest> lossAndGradientAgreeWithReference(TckContext tck, TestReporter reporter) {
        SpecRegistry specs = SpecRegistry.load(loader());
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
        return examples(tck, reporter).stream().map(c -> dynamicTest(c.label(), () -> {
            try (Scope s = Scope.open()) {
                Objective actualObjective = build(specs, c, engine);
                Params start = actualObjective.init(RandomStream.of(SEED));
                Objective expectedObjective = build(specs, c, reference);
                Params startReference = copy(start, reference, DType.FLOAT64);
                LossAndGradient expected = lossAndGradient(expectedObjective, startReference);
                LossAndGradient actual = lossAndGradient(actualObjective, start);
                Compare.assertClose(new double[] {expected.loss()}, new double[] {actual.loss()}, 2e-4, 1e-6,
                        c.label() + ": training loss");
                for (String name : expected.gradient().keySet()) {
                    double[] e = expected.gradient().get(name);
                    Compare.assertClose(e, actual.gradient().get(name), 2e-3, 1e-4 * Math.max(1e-3, Compare.maxAbs(e)),
                            c.label() + ": gradient of " + name);
                }
            }
        }));
    }

    @TckRule(id = "MODEL-FAMILY-2", capability = Capability.FLOAT64)
    @DisplayName("MODEL-FAMILY-2 every component example's gradient in FLOAT64 matches central finite differences of its loss")
    @TestFactory
    Stream<DynamicTest> gradientMatchesFiniteDifferences(TckContext tck, TestReporter reporter) {
        SpecRegistry specs = SpecRegistry.load(loader());
        Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
        // Examples with a surrogate gradient (first-order MAML drops the Hessian terms, Reptile's is
        // theta - phi by definition) do not follow the gradient of their loss; MODEL-FAMILY-1 still checks them.
        return examples(tck, reporter).stream().filter(c -> c.example().exactGradient()).map(c -> dynamicTest(c.label(), () -> {
            try (Scope s = Scope.open()) {
                Objective objective = build(specs, c, engine);
                Params start = objective.init(RandomStream.of(SEED));
                GradientCheck.assertDirectional(c.label() + ": directional derivative of the training loss",
                        start, GradientCheck.lossOf(objective, 0, SEED + 1), SEED + 2);
            }
        }));
    }

    @TckRule(id = "MODEL-FAMILY-3")
    @DisplayName("MODEL-FAMILY-3 every component example built twice from its JSON with the same seed gives bit-identical initial parameters, loss and gradient")
    @TestFactory
    Stream<DynamicTest> sameSeedRepeatsExactly(TckContext tck, TestReporter reporter) {
        SpecRegistry specs = SpecRegistry.load(loader());
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        return examples(tck, reporter).stream().map(c -> dynamicTest(c.label(), () -> {
            try (Scope s = Scope.open()) {
                Objective first = build(specs, c, engine);
                Objective second = build(specs, c, engine);
                Params a = first.init(RandomStream.of(SEED));
                Params b = second.init(RandomStream.of(SEED));
                if (!a.names().equals(b.names())) {
                    throw new AssertionFailedError(c.label() + ": two builds name their parameters differently: "
                            + a.names() + " vs " + b.names());
                }
                for (String name : a.names()) {
                    Compare.assertIdentical(a.get(name).toDoubles(), b.get(name).toDoubles(),
                            c.label() + ": initial parameter " + name + " of two builds with seed " + SEED);
                }
                LossAndGradient x = lossAndGradient(first, a);
                LossAndGradient y = lossAndGradient(second, b);
                Compare.assertIdentical(new double[] {x.loss()}, new double[] {y.loss()}, c.label() + ": training loss of two builds");
                for (String name : x.gradient().keySet()) {
                    Compare.assertIdentical(x.gradient().get(name), y.gradient().get(name),
                            c.label() + ": gradient of " + name + " of two builds");
                }
            }
        }));
    }

    @TckRule(id = "MODEL-FAMILY-4")
    @DisplayName("MODEL-FAMILY-4 every component example's spec written back to JSON by the registry reads back equal and gives the same loss")
    @TestFactory
    Stream<DynamicTest> specRoundTrip(TckContext tck, TestReporter reporter) {
        SpecRegistry specs = SpecRegistry.load(loader());
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        return examples(tck, reporter).stream().map(c -> dynamicTest(c.label(), () -> {
            ExperimentSpec spec = read(specs, c);
            String written = specs.write(spec);
            ExperimentSpec again;
            try {
                again = specs.read(written, ExperimentSpec.class, c.label() + " written back by the registry");
            } catch (RuntimeException e) {
                throw new AssertionFailedError(c.label() + ": the spec as the registry writes it (what a run saves next to its"
                        + " results) does not read back: " + e.getMessage() + "\nwritten:\n" + written, e);
            }
            if (!spec.equals(again)) {
                throw new AssertionFailedError(c.label() + ": the spec read back from its written form is not equal to the"
                        + " original (a field not written, or a spec without value equality)\nwritten:\n" + written
                        + "\nread back: " + again);
            }
            String rewritten = specs.write(again);
            if (!written.equals(rewritten)) {
                throw new AssertionFailedError(c.label() + ": writing the re-read spec gives different JSON\nfirst:\n" + written
                        + "\nsecond:\n" + rewritten, written, rewritten);
            }
            try (Scope s = Scope.open()) {
                Objective original = spec.build(context(specs, engine));
                Objective roundTripped = again.build(context(specs, engine));
                double expected = loss(original, original.init(RandomStream.of(SEED)));
                double actual = loss(roundTripped, roundTripped.init(RandomStream.of(SEED)));
                Compare.assertIdentical(new double[] {expected}, new double[] {actual},
                        c.label() + ": training loss of the original spec vs the round-tripped one");
            }
        }));
    }

    /** The run's examples, published as a figure naming each one's plugin. */
    static List<ComponentExamples.Entry> examples(TckContext tck, TestReporter reporter) {
        List<ComponentExamples.Entry> all;
        try {
            all = ComponentExamples.select(ComponentExamples.load(loader()), tck.parameter(ComponentExamples.PARAMETER).orElse(null));
        } catch (IllegalArgumentException | IllegalStateException | dev.metaforge.api.spec.SpecException e) {
            // a misconfigured run or plugin: the rule fails with the message alone, not as an unexpected exception
            throw new AssertionFailedError(e.getMessage(), e);
        }
        reporter.publishEntry(TckExtension.ENTRY_FIGURE, all.size() + " component examples: "
                + all.stream().map(ComponentExamples.Entry::label).collect(Collectors.joining(", ")));
        return all;
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

    private static Objective build(SpecRegistry specs, ComponentExamples.Entry example, Engine engine) {
        return read(specs, example).build(context(specs, engine));
    }

    static ExperimentSpec read(SpecRegistry specs, ComponentExamples.Entry example) {
        try {
            return specs.read(example.example().experimentJson(), ExperimentSpec.class,
                    "component example '" + example.example().name() + "' of plugin '" + example.plugin() + "'");
        } catch (dev.metaforge.api.spec.SpecException e) {
            // the message names the example, its plugin, the JSON path and the type names; no Java class needed
            throw new AssertionFailedError(e.getMessage(), e);
        }
    }

    private static BuildContext context(SpecRegistry specs, Engine engine) {
        return new BuildContext(engine, specs, Path.of("."), SEED);
    }

    private static Params copy(Params params, Engine engine, DType dtype) {
        return params.map(t -> engine.tensor(t.toDoubles(), t.shape(), dtype));
    }

    static ClassLoader loader() {
        ClassLoader tccl = Thread.currentThread().getContextClassLoader();
        return tccl != null ? tccl : ModelConformanceTests.class.getClassLoader();
    }
}
