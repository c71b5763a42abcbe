package dev.metaforge.bench;

import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Flatten;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.MaxPool2d;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.TransformerBlock;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.StatefulModel;
import dev.metaforge.spi.Shape;

/**
 * The layer workloads of {@code bench/compare.sh}, the same networks as {@code bench/python/step_rate.py}:
 * <ul>
 *   <li>{@link CnnStep}: conv 3x3 1→32 (pad 1), BatchNorm, ReLU, max-pool 2; conv 3x3 32→64, BatchNorm,
 *       ReLU, max-pool 2; flatten; linear 3136→10; softmax cross-entropy on a batch of 128 [1, 28, 28];
 *       Adam 1e-3; BatchNorm in training mode (running statistics updated as state).</li>
 *   <li>{@link TransformerStep}: one pre-LN transformer block, input [8, 128, 256], 4 heads, causal,
 *       MLP hidden 1024 (tanh-GELU), no dropout; loss mean(y²); Adam 1e-3.</li>
 * </ul>
 */
@SuppressWarnings("try") // scopes are opened for their effect on the tensors inside
final class LayerSteps {
    private LayerSteps() {
    }

    /** A training step of a module with state, a fixed batch and Adam. */
    abstract static class StatefulStep implements AutoCloseable {
        final StatefulModel model;
        final Adam adam = Adam.adam(1e-3);
        Params params;
        long step;

        StatefulStep(Engine engine, Module module) {
            model = new StatefulModel(module, engine, 0);
            try (Scope s = Scope.open()) {
                params = s.escape(module.init(engine, RandomStream.of(0)));
            }
        }

        abstract Tensor loss(ModuleOutput out);

        abstract Tensor input();

        double step() {
            double loss;
            Params next;
            try (Scope s = Scope.open()) {
                Params p = params.requiringGrad();
                ModuleOutput out = model.train(p, input(), RandomStream.of(step++));
                Tensor l = loss(out);
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
            model.close();
        }
    }

    static final class CnnStep extends StatefulStep {
        static final int BATCH = 128;
        final Tensor x;
        final Tensor y;

        CnnStep(Engine engine) {
            super(engine, Sequential.of(Conv2d.of(1, 32, 3).withPadding(1), BatchNorm.of(32), Activation.RELU, MaxPool2d.of(2),
                    Conv2d.of(32, 64, 3).withPadding(1), BatchNorm.of(64), Activation.RELU, MaxPool2d.of(2),
                    Flatten.of(), Linear.of(64 * 7 * 7, 10)));
            x = engine.wrapUnscoped(engine.kernels().fromFloats(BenchEnvironment.uniform(BATCH * 784, 0, 1, 5),
                    Shape.of(BATCH, 1, 28, 28)));
            int[] labels = new int[BATCH];
            RandomStream rng = RandomStream.of(6);
            for (int i = 0; i < BATCH; i++) {
                labels[i] = rng.nextInt(10);
            }
            y = engine.wrapUnscoped(engine.kernels().fromFloats(BenchEnvironment.oneHot(labels, 10), Shape.of(BATCH, 10)));
        }

        @Override
        Tensor input() {
            return x;
        }

        @Override
        Tensor loss(ModuleOutput out) {
            return Losses.crossEntropy(out.output(), y);
        }

        @Override
        public void close() {
            super.close();
            x.close();
            y.close();
        }
    }

    static final class TransformerStep extends StatefulStep {
        final Tensor x;

        TransformerStep(Engine engine) {
            super(engine, new TransformerBlock(256, 4, 1024, 0.0, true));
            x = engine.wrapUnscoped(engine.kernels().fromFloats(BenchEnvironment.uniform(8 * 128 * 256, -1, 1, 7),
                    Shape.of(8, 128, 256)));
        }

        @Override
        Tensor input() {
            return x;
        }

        @Override
        Tensor loss(ModuleOutput out) {
            return out.output().square().mean();
        }

        @Override
        public void close() {
            super.close();
            x.close();
        }
    }
}
