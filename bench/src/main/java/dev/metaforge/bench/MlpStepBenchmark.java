package dev.metaforge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinearDerivative;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * (b) One training step of a 784-256-256-10 ReLU MLP on a batch of 128: forward, mean softmax
 * cross-entropy, backward, Adam (lr 1e-3); every variant reads the loss back, as a training loop
 * does. Variants:
 * <ul>
 * <li>{@code metaforge*}: {@link Mlp}, {@link Losses#crossEntropy}, {@link Grad}, {@link Adam}
 *     with the ownership pattern of the {@code Optimizer} javadoc (one scope per step, the old
 *     parameters handed to {@code stepInPlace}, as {@code TrainingLoop} does);
 * <li>{@code rawDjl}: DJL's {@code GradientCollector} (PyTorch autograd), {@code Linear.linear}
 *     (fused addmm), and DJL's Adam optimizer (one fused native update per parameter, which also
 *     zeroes the gradient);
 * <li>{@code rawDjlManualAdam}: the same with Adam written as in-place DJL ops;
 * <li>{@code rawNd4j}: forward and backward written by hand with preallocated {@code INDArray}
 *     buffers ({@code Nd4j.matmul} into outputs with transposes as flags, in-place bias, ReLU and
 *     softmax, libnd4j's {@code relu_bp}) and ND4J's fused native Adam updater applied in place.
 *     SameDiff was not measured: it runs the same libnd4j kernels behind a graph executor.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@SuppressWarnings("try") // scopes are opened for their effect on the tensors inside, not used by name
public class MlpStepBenchmark {
    static final int[] SIZES = {784, 256, 256, 10};
    static final int BATCH = 128;
    static final double LEARNING_RATE = 1e-3;
    static final long DATA_SEED = 7;

    static float[] inputs() {
        return BenchEnvironment.uniform(BATCH * SIZES[0], 0, 1, DATA_SEED);
    }

    static int[] labels() {
        return BenchEnvironment.labels(BATCH, SIZES[SIZES.length - 1], DATA_SEED + 1);
    }

    /** PyTorch's default Linear init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
    static float[] torchInit(int fanIn, int count, long seed) {
        double bound = 1 / Math.sqrt(fanIn);
        return BenchEnvironment.uniform(count, -bound, bound, seed);
    }

    /** One Metaforge training step on a backend; also used by {@link StepRateMain}. */
    static final class MetaforgeMlpStep implements AutoCloseable {
        final Engine engine;
        final Mlp mlp = Mlp.of(List.of(784, 256, 256, 10), dev.metaforge.api.nn.Activation.RELU);
        final Tensor x;
        final Tensor y;
        final Adam adam = Adam.adam(LEARNING_RATE);
        Params params;

        MetaforgeMlpStep(Engine engine) {
            this.engine = engine;
            params = mlp.init(engine, RandomStream.of(0));
            x = engine.tensor(inputs(), BATCH, SIZES[0]);
            int[] labels = labels();
            y = engine.tensor(BenchEnvironment.oneHot(labels, SIZES[3]), BATCH, SIZES[3]);
        }

        /** The pattern of the Optimizer javadoc; returns the loss before the update. */
        double step() {
            double loss;
            Params next;
            try (dev.metaforge.api.tensor.Scope s = dev.metaforge.api.tensor.Scope.open()) {
                Params p = params.requiringGrad();
                Tensor l = Losses.crossEntropy(mlp.apply(p, x), y);
                loss = l.item();
                next = adam.stepInPlace(params, Grad.of(l).wrt(p));
            }
            params = next;
            return loss;
        }

        @Override
        public void close() {
            params.close();
            adam.close();
            x.close();
            y.close();
        }
    }

    /** Metaforge state on one backend. */
    public abstract static class MetaforgeState {
        Engine engine;
        MetaforgeMlpStep step;

        void open(String backend) {
            engine = Engine.create(backend);
            step = new MetaforgeMlpStep(engine);
        }

        void close() {
            step.close();
            engine.close();
        }
    }

    /** Metaforge on DJL. */
    @State(Scope.Thread)
    public static class MetaforgeDjl extends MetaforgeState {
        @Setup(Level.Trial)
        public void setup() {
            open("djl");
            BenchEnvironment.report("metaforge djl", BenchEnvironment.pytorchThreads());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** Metaforge on DL4J. */
    @State(Scope.Thread)
    public static class MetaforgeNd4j extends MetaforgeState {
        @Setup(Level.Trial)
        public void setup() {
            open("dl4j");
            BenchEnvironment.report("metaforge dl4j", BenchEnvironment.nd4jThreads());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    /** Raw DJL: PyTorch autograd through DJL, weights in PyTorch's [out, in] layout. */
    @State(Scope.Thread)
    public static class RawDjl {
        NDManager manager;
        NDArray x;
        NDArray y;
        NDArray[] params;
        String[] ids;
        Optimizer adam;
        // Hand-written Adam state.
        NDArray[] m;
        NDArray[] v;
        int t;

        @Setup(Level.Trial)
        public void setup() {
            manager = NDManager.newBaseManager("PyTorch");
            x = manager.create(inputs(), new Shape(BATCH, SIZES[0]));
            y = manager.create(BenchEnvironment.oneHot(labels(), SIZES[3]), new Shape(BATCH, SIZES[3]));
            int layers = SIZES.length - 1;
            params = new NDArray[2 * layers];
            ids = new String[2 * layers];
            m = new NDArray[2 * layers];
            v = new NDArray[2 * layers];
            for (int i = 0; i < layers; i++) {
                int in = SIZES[i];
                int out = SIZES[i + 1];
                params[2 * i] = manager.create(torchInit(in, in * out, 100 + i), new Shape(out, in));
                params[2 * i + 1] = manager.create(torchInit(in, out, 200 + i), new Shape(out));
                ids[2 * i] = i + ".weight";
                ids[2 * i + 1] = i + ".bias";
            }
            for (int i = 0; i < params.length; i++) {
                params[i].setRequiresGradient(true);
                m[i] = params[i].zerosLike();
                v[i] = params[i].zerosLike();
            }
            adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed((float) LEARNING_RATE)).build();
            BenchEnvironment.report("raw djl", BenchEnvironment.pytorchThreads());
        }

        /** Forward, loss and backward; the gradients are left in the parameters. */
        double forwardBackward() {
            try (NDManager step = manager.newSubManager();
                 GradientCollector collector = manager.getEngine().newGradientCollector()) {
                // Results attach to their first operand's manager: the step manager frees them all.
                x.tempAttach(step);
                y.tempAttach(step);
                NDArray h = x;
                int layers = SIZES.length - 1;
                for (int i = 0; i < layers; i++) {
                    h = Linear.linear(h, params[2 * i], params[2 * i + 1]).singletonOrThrow();
                    if (i + 1 < layers) {
                        h = Activation.relu(h);
                    }
                }
                NDArray loss = h.logSoftmax(1).mul(y).sum().mul(-1f / BATCH);
                collector.backward(loss);
                return loss.getFloat();
            }
        }

        double stepWithDjlAdam() {
            double loss = forwardBackward();
            for (int i = 0; i < params.length; i++) {
                try (NDArray g = params[i].getGradient()) {
                    adam.update(ids[i], params[i], g);
                }
            }
            return loss;
        }

        /** Adam as in torch.optim.Adam, in place; the gradients are zeroed in place for the next step. */
        double stepWithManualAdam() {
            double loss = forwardBackward();
            t++;
            double c1 = 1 - Math.pow(0.9, t);
            double c2 = 1 - Math.pow(0.999, t);
            for (int i = 0; i < params.length; i++) {
                try (NDManager tmp = manager.newSubManager(); NDArray g = params[i].getGradient()) {
                    g.tempAttach(tmp);
                    m[i].muli(0.9f).addi(g.mul(0.1f));
                    v[i].muli(0.999f).addi(g.square().muli(0.001f));
                    NDArray denom = v[i].sqrt().divi((float) Math.sqrt(c2)).addi(1e-8f);
                    params[i].subi(m[i].div(denom).muli((float) (LEARNING_RATE / c1)));
                    g.subi(g);
                }
            }
            return loss;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            manager.close();
        }
    }

    /** Raw ND4J: hand-written forward and backward into preallocated buffers, ND4J's fused Adam. */
    @State(Scope.Thread)
    public static class RawNd4j {
        INDArray x;
        INDArray y;
        INDArray[] w;
        INDArray[] b;
        INDArray[] dw;
        INDArray[] db;
        INDArray[] act;   // act[0] = x, act[i + 1] = output of layer i (after ReLU for hidden layers)
        INDArray[] delta; // delta[i]: gradient with respect to the pre-activation of layer i
        AdamUpdater[] wAdam;
        AdamUpdater[] bAdam;
        int iteration;

        @Setup(Level.Trial)
        public void setup() {
            Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
            x = Nd4j.create(inputs(), new long[] {BATCH, SIZES[0]}, 'c');
            y = Nd4j.create(BenchEnvironment.oneHot(labels(), SIZES[3]), new long[] {BATCH, SIZES[3]}, 'c');
            int layers = SIZES.length - 1;
            w = new INDArray[layers];
            b = new INDArray[layers];
            dw = new INDArray[layers];
            db = new INDArray[layers];
            act = new INDArray[layers + 1];
            delta = new INDArray[layers];
            wAdam = new AdamUpdater[layers];
            bAdam = new AdamUpdater[layers];
            act[0] = x;
            org.nd4j.linalg.learning.config.Adam config = new org.nd4j.linalg.learning.config.Adam(LEARNING_RATE);
            for (int i = 0; i < layers; i++) {
                int in = SIZES[i];
                int out = SIZES[i + 1];
                w[i] = Nd4j.create(torchInit(in, in * out, 100 + i), new long[] {in, out}, 'c');
                b[i] = Nd4j.create(torchInit(in, out, 200 + i), new long[] {1, out}, 'c');
                dw[i] = Nd4j.create(DataType.FLOAT, in, out);
                db[i] = Nd4j.create(DataType.FLOAT, 1, out);
                act[i + 1] = Nd4j.create(DataType.FLOAT, BATCH, out);
                delta[i] = Nd4j.create(DataType.FLOAT, BATCH, out);
                wAdam[i] = new AdamUpdater(config);
                wAdam[i].setStateViewArray(Nd4j.create(DataType.FLOAT, 1, 2L * in * out), w[i].shape(), 'c', true);
                bAdam[i] = new AdamUpdater(config);
                bAdam[i].setStateViewArray(Nd4j.create(DataType.FLOAT, 1, 2L * out), b[i].shape(), 'c', true);
            }
            BenchEnvironment.report("raw nd4j", BenchEnvironment.nd4jThreads());
        }

        double step() {
            int layers = w.length;
            for (int i = 0; i < layers; i++) {
                // Nd4j.matmul writes row-major outputs directly (INDArray.mmuli would gemm into a
                // column-major temporary and copy) and takes transposes as flags.
                Nd4j.matmul(act[i], w[i], act[i + 1], false, false, false);
                act[i + 1].addiRowVector(b[i]);
                if (i + 1 < layers) {
                    Transforms.relu(act[i + 1], false);
                }
            }
            INDArray probabilities = Transforms.softmax(act[layers], false);
            // Mean cross-entropy -sum(y log p) / N, read back like the other variants.
            INDArray logP = Transforms.log(probabilities, true);
            double loss = -logP.muli(y).sumNumber().doubleValue() / BATCH;
            logP.close();
            INDArray d = delta[layers - 1].assign(probabilities).subi(y).divi(BATCH);
            for (int i = layers - 1; i >= 0; i--) {
                Nd4j.matmul(act[i], d, dw[i], true, false, false);
                d.sum(db[i], true, 0);
                if (i > 0) {
                    INDArray prev = delta[i - 1];
                    Nd4j.matmul(d, w[i], prev, false, true, false);
                    Nd4j.exec(new RectifiedLinearDerivative(act[i], prev, prev));
                    d = prev;
                }
            }
            for (int i = 0; i < layers; i++) {
                wAdam[i].applyUpdater(dw[i], iteration, 0);
                w[i].subi(dw[i]);
                bAdam[i].applyUpdater(db[i], iteration, 0);
                b[i].subi(db[i]);
            }
            iteration++;
            return loss;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            for (INDArray[] group : new INDArray[][] {w, b, dw, db, act, delta}) {
                for (INDArray a : group) {
                    a.close();
                }
            }
            y.close();
        }
    }

    @Benchmark
    public double metaforgeDjl(MetaforgeDjl s) {
        return s.step.step();
    }

    @Benchmark
    public double metaforgeNd4j(MetaforgeNd4j s) {
        return s.step.step();
    }

    @Benchmark
    public double rawDjl(RawDjl s) {
        return s.stepWithDjlAdam();
    }

    @Benchmark
    public double rawDjlManualAdam(RawDjl s) {
        return s.stepWithManualAdam();
    }

    @Benchmark
    public double rawNd4j(RawNd4j s) {
        return s.step();
    }
}
