package dev.metaforge.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.spi.DType;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * MODEL-HOST-*: a training step of every component example (its loss with auxiliary terms, the gradient,
 * an Adam update) copies nothing from the backend to the host. On a device, a copy-out synchronises the
 * stream and stalls the step; only logging and evaluation, which read values on purpose, may copy.
 * Data a task samples in Java is uploaded, never read back, so it does not count.
 */
@ExtendWith(TckExtension.class)
class HostCopyConformanceTests {
    private static final long SEED = 11;

    @TckRule(id = "MODEL-HOST-1")
    @DisplayName("MODEL-HOST-1 two TrainingLoop steps (loss, gradient, Adam) of every component example copy nothing to the host; reading the loss back is one copy")
    @TestFactory
    Stream<DynamicTest> trainingStepsCopyNothingToTheHost(TckContext tck, TestReporter reporter) {
        SpecRegistry specs = SpecRegistry.load(ModelConformanceTests.loader());
        HostCopyCounter copies = new HostCopyCounter(tck.backend());
        Engine engine = Engine.of(copies.backend(), DType.FLOAT32);
        return ModelConformanceTests.examples(tck, reporter).stream().map(e -> dynamicTest(e.label(), () -> {
            String what = e.label();
            try (Scope s = Scope.open()) {
                ExperimentSpec spec = ModelConformanceTests.read(specs, e);
                Objective objective = spec.build(new BuildContext(engine, specs, Path.of("."), SEED));
                try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(1e-3), SEED)) {
                    copies.reset();
                    loop.advance();
                    loop.advance();
                    assertEquals(0, copies.count(), what + ": copies to the host during two training steps");
                    double loss = loop.lastLoss();
                    assertEquals(1, copies.count(), what + ": reading the last step's loss and terms is one copy");
                    assertTrue(Double.isFinite(loss), what + ": loss " + loss);
                }
            }
        }));
    }
}
