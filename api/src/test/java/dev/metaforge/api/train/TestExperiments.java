package dev.metaforge.api.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.optim.OptimizerSpec;
import dev.metaforge.api.optim.Sgd;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Spec types the trainer tests register through a test plugin, as a real plugin would. */
final class TestExperiments {
    private TestExperiments() {
    }

    static final MetaforgePlugin PLUGIN = new MetaforgePlugin() {
        @Override
        public String name() {
            return "train-test";
        }

        @Override
        public List<SpecType> specTypes() {
            return List.of(new SpecType(ExperimentSpec.class, "test-linear", LinearExperiment.class),
                    new SpecType(dev.metaforge.api.optim.OptimizerSpec.class, "test-adam", AdamSpec.class),
                    new SpecType(dev.metaforge.api.optim.OptimizerSpec.class, "test-sgd", SgdSpec.class));
        }
    };

    /** A second plugin with a capturable experiment, for the step-capture tests only (the others list the types above). */
    static final MetaforgePlugin CAPTURE_PLUGIN = new MetaforgePlugin() {
        @Override
        public String name() {
            return "train-test-capture";
        }

        @Override
        public List<SpecType> specTypes() {
            return List.of(new SpecType(ExperimentSpec.class, "test-capturable", CapturableExperiment.class));
        }
    };

    static SpecRegistry registry() {
        return SpecRegistry.of(List.of(PLUGIN));
    }

    /** {@link #registry()} and {@code test-capturable}. */
    static SpecRegistry registryWithCapturable() {
        return SpecRegistry.of(List.of(PLUGIN, CAPTURE_PLUGIN));
    }

    record AdamSpec(double learningRate) implements OptimizerSpec {
        @Override
        public Optimizer build() {
            return Adam.adam(learningRate);
        }
    }

    record SgdSpec(double learningRate, double momentum) implements OptimizerSpec {
        @Override
        public Optimizer build() {
            return new Sgd(learningRate, momentum, 0.0);
        }
    }

    /**
     * Linear regression y = x·w* + b* + noise on batches drawn from the step's random stream, with
     * an anchor penalty towards a snapshot of the parameters taken every {@code anchorEvery} steps,
     * so the objective has state that a checkpoint must carry. {@code crashAtStep} (not part of the
     * JSON, so not of the spec hash) simulates a crash.
     */
    record LinearExperiment(int features, int batch, int anchorEvery, double anchorWeight,
                            @JsonIgnore Integer crashAtStep) implements ExperimentSpec {
        LinearExperiment(int features, int batch, int anchorEvery, double anchorWeight) {
            this(features, batch, anchorEvery, anchorWeight, null);
        }

        LinearExperiment withCrashAt(int step) {
            return new LinearExperiment(features, batch, anchorEvery, anchorWeight, step);
        }

        @Override
        public Objective build(BuildContext context) {
            if (features <= 0) {
                throw new IllegalArgumentException("features must be > 0, got " + features);
            }
            return new LinearObjective(context.engine(), this);
        }
    }

    static final class LinearObjective implements Objective {
        private final Engine engine;
        private final LinearExperiment spec;
        private final double[] trueWeights;
        private Params anchor;

        LinearObjective(Engine engine, LinearExperiment spec) {
            this.engine = engine;
            this.spec = spec;
            this.trueWeights = new double[spec.features()];
            for (int i = 0; i < trueWeights.length; i++) {
                trueWeights[i] = 0.5 * (i + 1) * (i % 2 == 0 ? 1 : -1);
            }
        }

        @Override
        public Params init(RandomStream rng) {
            Map<String, Tensor> p = new LinkedHashMap<>();
            p.put("w", engine.normal(Shape.of(spec.features(), 1), 0, 0.1, rng.nextSeed()));
            p.put("b", engine.zeros(1));
            return Params.of(p);
        }

        private Tensor[] batch(RandomStream rng, int n) {
            double[] x = new double[n * spec.features()];
            double[] y = new double[n];
            for (int i = 0; i < n; i++) {
                double sum = 0.3;
                for (int j = 0; j < spec.features(); j++) {
                    double v = rng.nextGaussian();
                    x[i * spec.features() + j] = v;
                    sum += v * trueWeights[j];
                }
                y[i] = sum + 0.05 * rng.nextGaussian();
            }
            return new Tensor[] {engine.tensor(x, n, spec.features()), engine.tensor(y, n, 1)};
        }

        @Override
        public Tensor loss(Params params, long step, RandomStream rng) {
            // A crash of the real run only: the pre-flight pass (shape-only backend) gets through.
            if (spec.crashAtStep() != null && step == spec.crashAtStep()
                    && !(engine.backend() instanceof dev.metaforge.api.preflight.ShapeBackend)) {
                throw new IllegalStateException("simulated crash at step " + step);
            }
            Tensor[] xy = batch(rng, spec.batch());
            Tensor prediction = xy[0].matmul(params.get("w")).add(params.get("b"));
            Tensor loss = Losses.mse(prediction, xy[1]);
            if (anchor != null) {
                Tensor penalty = params.get("w").sub(anchor.get("w")).square().sum()
                        .add(params.get("b").sub(anchor.get("b")).square().sum());
                loss = loss.add(penalty.mul(spec.anchorWeight()));
            }
            return loss;
        }

        @Override
        public void beforeStep(Params params, long step) {
            if (step % spec.anchorEvery() == 0) {
                if (anchor != null) {
                    anchor.close();
                }
                anchor = TrainingLoop.unscopedCopy(params);
            }
        }

        @Override
        public Map<String, Double> evaluate(Params params) {
            Tensor[] xy = batch(RandomStream.of(12345), 64);
            Tensor prediction = xy[0].matmul(params.get("w")).add(params.get("b"));
            Map<String, Double> out = new LinkedHashMap<>();
            out.put("mse", Losses.mse(prediction, xy[1]).item());
            double[] w = params.get("w").toDoubles();
            double err = 0;
            for (int i = 0; i < w.length; i++) {
                err += (w[i] - trueWeights[i]) * (w[i] - trueWeights[i]);
            }
            out.put("weightError", Math.sqrt(err));
            return out;
        }

        @Override
        public Params state() {
            return anchor == null ? Params.empty() : anchor;
        }

        @Override
        public void loadState(Params state) {
            if (anchor != null) {
                anchor.close();
                anchor = null;
            }
            if (!state.isEmpty()) {
                anchor = TrainingLoop.unscopedCopy(state);
            }
        }

        boolean hasAnchor() {
            return anchor != null;
        }
    }

    /**
     * Linear regression y = x·w* + b* + noise without state: its step's data (x, y) is drawn on the host
     * from the step's random stream and its loss is the MSE on that data alone, so its step can be captured.
     */
    record CapturableExperiment(int features, int batch) implements ExperimentSpec {
        @Override
        public Objective build(BuildContext context) {
            return new CapturableLinearObjective(context.engine(), new LinearExperiment(features, batch, 1, 0.0));
        }
    }

    /** The same data and model as {@link LinearObjective}, without its anchor. */
    static final class CapturableLinearObjective implements CapturableObjective {
        private final LinearObjective plain;
        private final int batch;

        CapturableLinearObjective(Engine engine, LinearExperiment spec) {
            this.plain = new LinearObjective(engine, spec);
            this.batch = spec.batch();
        }

        @Override
        public Params init(RandomStream rng) {
            return plain.init(rng);
        }

        @Override
        public Params inputs(long step, RandomStream rng) {
            Tensor[] xy = plain.batch(rng, batch);
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("x", xy[0]);
            in.put("y", xy[1]);
            return Params.of(in);
        }

        @Override
        public LossTerms lossTerms(Params params, Params inputs, RandomStream rng) {
            Tensor prediction = inputs.get("x").matmul(params.get("w")).add(params.get("b"));
            return LossTerms.of(Losses.mse(prediction, inputs.get("y")));
        }

        @Override
        public Map<String, Double> evaluate(Params params) {
            return plain.evaluate(params);
        }
    }
}
