package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static dev.metaforge.api.nn.LayerChecks.randomParams;
import static dev.metaforge.api.nn.LayerChecks.slice;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BatchNormTest {
    private final Engine engine = LayerChecks.engine();
    private static final int N = 3;
    private static final int C = 2;
    private static final int H = 2;
    private static final int W = 3;
    private static final BatchNorm NORM = new BatchNorm(C, 1e-5, 0.1, true);
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** Per-channel mean and biased variance of an [N, C, H, W] array, as float64 loops. */
    private static double[][] channelStatistics(double[] x) {
        double[] mean = new double[C];
        double[] var = new double[C];
        int count = N * H * W;
        for (int c = 0; c < C; c++) {
            for (int n = 0; n < N; n++) {
                for (int i = 0; i < H * W; i++) {
                    mean[c] += x[(n * C + c) * H * W + i] / count;
                }
            }
            for (int n = 0; n < N; n++) {
                for (int i = 0; i < H * W; i++) {
                    double d = x[(n * C + c) * H * W + i] - mean[c];
                    var[c] += d * d / count;
                }
            }
        }
        return new double[][] {mean, var};
    }

    private static double[] normalise(double[] x, double[] mean, double[] var, double[] weight, double[] bias) {
        double[] y = new double[x.length];
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                for (int i = 0; i < H * W; i++) {
                    int k = (n * C + c) * H * W + i;
                    y[k] = (x[k] - mean[c]) / Math.sqrt(var[c] + 1e-5) * weight[c] + bias[c];
                }
            }
        }
        return y;
    }

    @Test
    void applyNormalisesEachChannelWithTheBatchStatistics() {
        Tensor x = random(engine, 1, N, C, H, W).mul(3.0).add(1.0);
        Params p = randomParams(engine, NORM, 2);
        double[][] stats = channelStatistics(x.toDoubles());
        double[] expected = normalise(x.toDoubles(), stats[0], stats[1], p.get("weight").toDoubles(), p.get("bias").toDoubles());
        assertArrayEquals(expected, NORM.apply(p, x).toDoubles(), 1e-12);
    }

    /**
     * Two TRAIN calls from the initial state (mean 0, variance 1); the running statistics follow
     * PyTorch's update with the unbiased variance, computed here by hand in float64.
     */
    @Test
    void runningStatisticsAfterTwoTrainingCallsMatchAHandComputation() {
        Tensor x1 = random(engine, 3, N, C, H, W).mul(2.0).add(0.5);
        Tensor x2 = random(engine, 4, N, C, H, W).mul(0.5).sub(1.0);
        Params p = randomParams(engine, NORM, 5);
        Params state = NORM.initState(engine, 0);
        assertArrayEquals(new double[] {0, 0}, state.get("running_mean").toDoubles());
        assertArrayEquals(new double[] {1, 1}, state.get("running_var").toDoubles());

        ModuleOutput first = NORM.forward(p, x1, LayerChecks.train(state, 1));
        ModuleOutput second = NORM.forward(p, x2, LayerChecks.train(first.state(), 2));

        double[] runningMean = {0, 0};
        double[] runningVar = {1, 1};
        int count = N * H * W;
        for (double[] x : List.of(x1.toDoubles(), x2.toDoubles())) {
            double[][] stats = channelStatistics(x);
            for (int c = 0; c < C; c++) {
                runningMean[c] = 0.9 * runningMean[c] + 0.1 * stats[0][c];
                runningVar[c] = 0.9 * runningVar[c] + 0.1 * stats[1][c] * count / (count - 1);
            }
        }
        assertArrayEquals(runningMean, second.state().get("running_mean").toDoubles(), 1e-12);
        assertArrayEquals(runningVar, second.state().get("running_var").toDoubles(), 1e-12);
        // The training output itself uses the batch's statistics, not the running ones.
        double[][] stats2 = channelStatistics(x2.toDoubles());
        assertArrayEquals(normalise(x2.toDoubles(), stats2[0], stats2[1], p.get("weight").toDoubles(), p.get("bias").toDoubles()),
                second.output().toDoubles(), 1e-12);
        assertTrue(!second.state().get("running_mean").isTracked(), "running statistics carry no gradient");

        // EVAL normalises with the running statistics and returns the state unchanged.
        Tensor x3 = random(engine, 6, N, C, H, W);
        ModuleOutput eval = NORM.forward(p, x3, ModuleCall.eval(second.state()));
        assertArrayEquals(normalise(x3.toDoubles(), runningMean, runningVar, p.get("weight").toDoubles(), p.get("bias").toDoubles()),
                eval.output().toDoubles(), 1e-12);
        assertSame(second.state(), eval.state());
    }

    @Test
    void declaresItsStateAndCreatesItPerNetwork() {
        assertEquals(List.of(new StateSpec("running_mean", Shape.of(C), 0.0), new StateSpec("running_var", Shape.of(C), 1.0)),
                NORM.stateSpecs());
        Params batched = NORM.initState(engine, 4);
        assertEquals(Shape.of(4, C), batched.get("running_mean").shape());
        assertEquals(List.of("weight", "bias"), NORM.parameters().stream().map(ParamSpec::name).toList());
        assertEquals(List.of(ParamKind.SCALE, ParamKind.BIAS), NORM.parameters().stream().map(ParamSpec::kind).toList());
        assertEquals(List.of(Axis.OUT), NORM.parameters().get(0).axes());
        assertEquals(List.of(), new BatchNorm(C, 1e-5, 0.1, false).parameters());
        Params init = NORM.init(engine, dev.metaforge.api.random.RandomStream.of(0));
        assertArrayEquals(new double[] {1, 1}, init.get("weight").toDoubles());
        assertArrayEquals(new double[] {0, 0}, init.get("bias").toDoubles());
        assertEquals(List.of("1.running_mean", "1.running_var"),
                Sequential.of(Linear.of(3, C), NORM).stateSpecs().stream().map(StateSpec::name).toList());
    }

    /** B networks with their own parameters and state in one TRAIN call and one EVAL call equal B single calls. */
    @Test
    void weightBatchedTrainingAndEvaluationEqualSingleNetworks() {
        int networks = 3;
        List<Params> nets = List.of(randomParams(engine, NORM, 10), randomParams(engine, NORM, 20), randomParams(engine, NORM, 30));
        List<Params> states = List.of(state(40), state(50), state(60));
        Params stacked = LayerChecks.stack(nets);
        Params stackedState = LayerChecks.stack(states);
        for (boolean shared : List.of(true, false)) {
            Tensor x = shared ? random(engine, 7, N, C, H, W) : random(engine, 8, networks, N, C, H, W);
            ModuleOutput train = NORM.forward(stacked, x, LayerChecks.train(stackedState, 1));
            ModuleOutput eval = NORM.forward(stacked, x, ModuleCall.eval(stackedState));
            for (int b = 0; b < networks; b++) {
                Tensor xb = shared ? x : slice(x, b);
                ModuleOutput single = NORM.forward(nets.get(b), xb, LayerChecks.train(states.get(b), 1));
                String what = (shared ? "shared" : "per-network") + " input, network " + b;
                LayerChecks.assertClose(single.output(), slice(train.output(), b), 1e-12, what + ": train output");
                LayerChecks.assertClose(single.state().get("running_mean"), slice(train.state().get("running_mean"), b), 1e-12,
                        what + ": running mean");
                LayerChecks.assertClose(single.state().get("running_var"), slice(train.state().get("running_var"), b), 1e-12,
                        what + ": running variance");
                LayerChecks.assertClose(NORM.forward(nets.get(b), xb, ModuleCall.eval(states.get(b))).output(),
                        slice(eval.output(), b), 1e-12, what + ": eval output");
            }
        }
        // A batch of one: the unbatched path, bit for bit, output and state.
        Tensor x = random(engine, 9, N, C, H, W);
        ModuleOutput single = NORM.forward(nets.get(0), x, LayerChecks.train(states.get(0), 1));
        ModuleOutput one = NORM.forward(LayerChecks.stack(List.of(nets.get(0))), x.expandDims(0),
                LayerChecks.train(LayerChecks.stack(List.of(states.get(0))), 1));
        LayerChecks.assertIdentical(single.output().expandDims(0), one.output(), "B = 1 output");
        LayerChecks.assertIdentical(single.state().get("running_var").expandDims(0), one.state().get("running_var"), "B = 1 state");
    }

    /** Without affine parameters, the weight batch comes from the state (shared input) or the input. */
    @Test
    void withoutAffineParametersTheStateOrInputCarriesTheWeightBatch() {
        BatchNorm plain = new BatchNorm(C, 1e-5, 0.5, false);
        Params states = LayerChecks.stack(List.of(state(70), state(80)));
        Tensor x = random(engine, 10, N, C, H, W);
        ModuleOutput eval = plain.forward(Params.empty(), x, ModuleCall.eval(states));
        assertEquals(Shape.of(2, N, C, H, W), eval.output().shape());
        LayerChecks.assertClose(plain.forward(Params.empty(), x, ModuleCall.eval(state(80))).output(), slice(eval.output(), 1), 1e-12,
                "network 1");
        ModuleOutput train = plain.forward(Params.empty(), x, LayerChecks.train(states, 3));
        assertEquals(Shape.of(2, N, C, H, W), train.output().shape());
        assertEquals(Shape.of(2, C), train.state().get("running_mean").shape());
    }

    private Params state(long seed) {
        return Params.of(java.util.Map.of("running_mean", random(engine, seed, C),
                "running_var", random(engine, seed + 1, C).abs().add(0.5)));
    }

    @Test
    void describesAScaleTiedToItsInputChannels() {
        ModuleStructure s = Sequential.of(Conv2d.of(1, C, 3), NORM, Activation.RELU).structure();
        LayerInfo norm = s.layers().get(1);
        assertEquals("batchnorm", norm.kind());
        assertEquals("0.out", norm.input());
        assertEquals("0.out", norm.output(), "the normalisation scales the convolution's channels: same group");
        assertEquals("1.weight", norm.param("scale"));
        assertEquals("1.bias", norm.param("bias"));
    }

    @Test
    void badCallsAreClearErrors() {
        Params p = randomParams(engine, NORM, 1);
        Tensor x = random(engine, 2, N, C, H, W);
        IllegalArgumentException noState = assertThrows(IllegalArgumentException.class,
                () -> NORM.forward(p, x, ModuleCall.eval(Params.empty())));
        assertTrue(noState.getMessage().contains("initState"), noState.getMessage());
        IllegalArgumentException wrongBatch = assertThrows(IllegalArgumentException.class,
                () -> NORM.forward(p, x, ModuleCall.eval(NORM.initState(engine, 2))));
        assertTrue(wrongBatch.getMessage().contains("[2, 2]") && wrongBatch.getMessage().contains("initState(engine, 0)"),
                wrongBatch.getMessage());
        IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
                () -> NORM.apply(p, random(engine, 3, 1, C)));
        assertTrue(single.getMessage().contains("more than one value per channel"), single.getMessage());
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> NORM.apply(p, random(engine, 4, N, 3, H, W)));
        assertTrue(channels.getMessage().contains("[3, 3, 2, 3]") && channels.getMessage().contains("has 3 channels"),
                channels.getMessage());
    }
}
