package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.CapturableObjective;
import dev.metaforge.api.train.LossTerms;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/**
 * CAPTURE-*: a captured training step (a training spec's default, see {@code TrainSpec#capture}) replays to exactly what eager training
 * computes, on the backend under test, and a shape change traces a new program ({@link CaptureCheck}).
 */
@ExtendWith(TckExtension.class)
class CaptureConformanceTests {
    /** A small MLP regression (the shipped example's experiment). */
    static final String MLP_SPEC = "{\"experiment\": {\"type\": \"regression\", \"model\": {\"type\": \"mlp\","
            + " \"sizes\": [1, 32, 32, 1], \"activation\": \"tanh\"}, \"task\": {\"function\": \"sin\", \"batch\": 64,"
            + " \"evalPoints\": 64}}, \"optimizer\": {\"type\": \"adam\", \"learningRate\": 0.01}, \"steps\": 1, \"seed\": 7}";
    /** Finn et al.'s MAML sinusoid, second order, with a smaller meta-batch. */
    static final String MAML_SPEC = "{\"experiment\": {\"type\": \"maml\", \"model\": {\"type\": \"mlp\", \"sizes\": [1, 40, 40, 1],"
            + " \"activation\": \"relu\"}, \"tasks\": {\"type\": \"sinusoid\", \"k\": 10, \"queryK\": 20}, \"innerSteps\": 1,"
            + " \"innerLr\": 0.01, \"firstOrder\": false, \"metaBatch\": 5, \"evalTasks\": 0}, \"optimizer\": {\"type\": \"adam\","
            + " \"learningRate\": 0.001}, \"steps\": 1, \"seed\": 5}";
    static final int STEPS = 8;

    @TckRule(id = "CAPTURE-1")
    @DisplayName("CAPTURE-1 8 captured training steps (traced, then replayed) equal 8 eager steps bit for bit, losses and parameters, for an MLP regression and second-order MAML, in every floating dtype")
    @TestFactory
    Stream<DynamicTest> replayEqualsEager(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            tests.add(dynamicTest("MLP regression " + dtype, () -> CaptureCheck.compare(tck.backend(), dtype,
                    CaptureCheck.fromSpec(MLP_SPEC, "CAPTURE-1 MLP spec"), STEPS, UnaryOperator.identity())));
            tests.add(dynamicTest("MAML sinusoid 2nd order " + dtype, () -> CaptureCheck.compare(tck.backend(), dtype,
                    CaptureCheck.fromSpec(MAML_SPEC, "CAPTURE-1 MAML spec"), STEPS, UnaryOperator.identity())));
        }
        return tests.stream();
    }

    @TckRule(id = "CAPTURE-2")
    @DisplayName("CAPTURE-2 a batch-size change traces a second program, a change back replays the first, and every step still equals eager bit for bit")
    @TestFactory
    Stream<DynamicTest> shapeChangeRetraces(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            tests.add(dynamicTest("batch 8, 12, 8 " + dtype, () -> {
                CaptureCheck.Outcome o = CaptureCheck.compare(tck.backend(), dtype, ChangingBatch::new, 12, UnaryOperator.identity());
                // Steps 0-3 batch 8 (two traced, two replayed), 4-7 batch 12 (same), 8-11 batch 8 again (all replayed).
                if (o.programs() != 2 || o.traced() != 4 || o.replayed() != 8) {
                    throw new AssertionFailedError("expected 2 programs, 4 traced and 8 replayed steps, got " + o);
                }
            }));
        }
        return tests.stream();
    }

    /** MSE of a 4-16-1 tanh MLP on a fixed linear target, batch 8 on steps 0-3 and 8-11, 12 on steps 4-7. */
    static final class ChangingBatch implements CapturableObjective {
        private static final Mlp MODEL = new Mlp(List.of(4, 16, 1), Activation.TANH, Activation.IDENTITY, Initializer.torchDefault());
        private final Engine engine;

        ChangingBatch(Engine engine) {
            this.engine = engine;
        }

        @Override
        public Params init(RandomStream rng) {
            return MODEL.init(engine, rng);
        }

        @Override
        public Params inputs(long step, RandomStream rng) {
            int batch = step >= 4 && step < 8 ? 12 : 8;
            double[] x = new double[batch * 4];
            double[] y = new double[batch];
            for (int i = 0; i < batch; i++) {
                for (int j = 0; j < 4; j++) {
                    x[i * 4 + j] = 2 * rng.nextDouble() - 1;
                    y[i] += (j + 1) * x[i * 4 + j];
                }
            }
            Map<String, Tensor> out = new LinkedHashMap<>();
            out.put("x", engine.tensor(x, Shape.of(batch, 4), engine.defaultDType()));
            out.put("y", engine.tensor(y, Shape.of(batch, 1), engine.defaultDType()));
            return Params.of(out);
        }

        @Override
        public LossTerms lossTerms(Params params, Params inputs, RandomStream rng) {
            return LossTerms.of(Losses.mse(MODEL.apply(params, inputs.get("x")), inputs.get("y")));
        }

        @Override
        public Map<String, Double> evaluate(Params params) {
            return Map.of();
        }
    }

}
