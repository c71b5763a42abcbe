package dev.metaforge.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
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
 * One Adam update of the MLP's largest tensor, a [784, 256] float32 weight, with a fixed gradient:
 * the optimizer part of {@link MlpStepBenchmark} in isolation. Metaforge's {@link Adam#stepInPlace}
 * (the ownership pattern of the {@code Optimizer} javadoc: the previous parameters handed over, so
 * the backend may write the new ones into them) against DJL's Adam optimizer (in place, one native call) and ND4J's fused Adam updater applied
 * in place.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AdamStepBenchmark {
    static final int ROWS = 784;
    static final int COLUMNS = 256;

    /** Metaforge's Adam on one [784, 256] parameter of an engine; also used by {@link StepRateMain}. */
    static final class MetaforgeAdamStep implements AutoCloseable {
        final Adam adam = Adam.adam(MlpStepBenchmark.LEARNING_RATE);
        final Params grads;
        Params params;

        MetaforgeAdamStep(Engine engine) {
            params = Params.of(Map.of("w", engine.tensor(MlpStepBenchmark.torchInit(ROWS, ROWS * COLUMNS, 1), ROWS, COLUMNS)));
            grads = Params.of(Map.of("w", engine.tensor(BenchEnvironment.uniform(ROWS * COLUMNS, -1e-3, 1e-3, 2), ROWS, COLUMNS)));
        }

        /** One step with the ownership pattern of the Optimizer javadoc; returns 0 (there is no loss). */
        double step() {
            params = adam.stepInPlace(params, grads);
            return 0;
        }

        @Override
        public void close() {
            params.close();
            grads.close();
            adam.close();
        }
    }

    /**
     * Adam over the (d) hypernetwork's parameters ({@link StepRateMain.HyperStep#network}: 1.14M floats in
     * 7 tensors; fixed gradients), through {@link Adam#stepInPlace} ({@code donate}) or {@link Adam#step}
     * with the previous parameters closed: what handing the parameters over saves
     * ({@code PairedMain --group donation}).
     */
    static final class HyperAdamStep implements AutoCloseable {
        final Adam adam = Adam.adam(MlpStepBenchmark.LEARNING_RATE);
        final boolean donate;
        final Engine engine;
        final Params grads;
        Params params;

        HyperAdamStep(String backend, boolean donate) {
            this.donate = donate;
            engine = Engine.create(backend);
            params = StepRateMain.HyperStep.network(dev.metaforge.api.nn.Mlp.of(java.util.List.of(784, 256, 256, 10),
                    dev.metaforge.api.nn.Activation.RELU)).init(engine, dev.metaforge.api.random.RandomStream.of(0));
            Map<String, Tensor> g = new java.util.LinkedHashMap<>();
            long seed = 2;
            for (String name : params.names()) {
                Tensor p = params.get(name);
                g.put(name, engine.tensor(BenchEnvironment.uniform((int) p.size(), -1e-3, 1e-3, seed++), p.shape().dims()));
            }
            grads = Params.of(g);
        }

        Object step() {
            if (donate) {
                params = adam.stepInPlace(params, grads);
            } else {
                Params next = adam.step(params, grads);
                params.close();
                params = next;
            }
            return params;
        }

        @Override
        public void close() {
            params.close();
            grads.close();
            adam.close();
            engine.close();
        }
    }

    /** Metaforge's Adam on one backend. */
    public abstract static class MetaforgeAdam {
        Engine engine;
        MetaforgeAdamStep adam;

        void open(String backend) {
            engine = Engine.create(backend);
            adam = new MetaforgeAdamStep(engine);
        }

        Object step() {
            adam.step();
            return adam.params;
        }

        void close() {
            adam.close();
            engine.close();
        }
    }

    /** Metaforge on DJL. */
    @State(Scope.Thread)
    public static class MetaforgeDjl extends MetaforgeAdam {
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
    public static class MetaforgeNd4j extends MetaforgeAdam {
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

    /** DJL's Adam optimizer (PyTorch engine: one native call updating weight and moments in place). */
    @State(Scope.Thread)
    public static class RawDjl {
        NDManager manager;
        NDArray weight;
        NDArray grad;
        Optimizer adam;

        @Setup(Level.Trial)
        public void setup() {
            manager = NDManager.newBaseManager("PyTorch");
            weight = manager.create(MlpStepBenchmark.torchInit(ROWS, ROWS * COLUMNS, 1), new Shape(ROWS, COLUMNS));
            grad = manager.create(BenchEnvironment.uniform(ROWS * COLUMNS, -1e-3, 1e-3, 2), new Shape(ROWS, COLUMNS));
            adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed((float) MlpStepBenchmark.LEARNING_RATE)).build();
            BenchEnvironment.report("raw djl", BenchEnvironment.pytorchThreads());
        }

        Object step() {
            adam.update("w", weight, grad);
            return weight;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            manager.close();
        }
    }

    /** ND4J's fused Adam updater (turns the gradient into the update in place), then {@code subi}. */
    @State(Scope.Thread)
    public static class RawNd4j {
        INDArray weight;
        INDArray grad;
        INDArray update;
        AdamUpdater adam;
        int iteration;

        @Setup(Level.Trial)
        public void setup() {
            weight = Nd4j.create(MlpStepBenchmark.torchInit(ROWS, ROWS * COLUMNS, 1), new long[] {ROWS, COLUMNS}, 'c');
            grad = Nd4j.create(BenchEnvironment.uniform(ROWS * COLUMNS, -1e-3, 1e-3, 2), new long[] {ROWS, COLUMNS}, 'c');
            update = grad.dup();
            adam = new AdamUpdater(new org.nd4j.linalg.learning.config.Adam(MlpStepBenchmark.LEARNING_RATE));
            adam.setStateViewArray(Nd4j.create(grad.dataType(), 1, 2L * ROWS * COLUMNS), weight.shape(), 'c', true);
            BenchEnvironment.report("raw nd4j", BenchEnvironment.nd4jThreads());
        }

        Object step() {
            // The updater overwrites its input, so the fixed gradient is copied in first (one pass).
            update.assign(grad);
            adam.applyUpdater(update, iteration++, 0);
            weight.subi(update);
            return weight;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            weight.close();
            grad.close();
            update.close();
        }
    }

    @Benchmark
    public Object metaforgeDjl(MetaforgeDjl s) {
        return s.step();
    }

    @Benchmark
    public Object metaforgeNd4j(MetaforgeNd4j s) {
        return s.step();
    }

    @Benchmark
    public Object rawDjl(RawDjl s) {
        return s.step();
    }

    @Benchmark
    public Object rawNd4j(RawNd4j s) {
        return s.step();
    }
}
