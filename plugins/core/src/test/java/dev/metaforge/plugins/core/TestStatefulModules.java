package dev.metaforge.plugins.core;

import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;
import java.util.Map;

/**
 * A test-only stateful, stochastic module (until BatchNorm and dropout land): in train mode it
 * updates a running mean of its input (state), subtracts it, adds noise drawn from the call's
 * random stream and reports an auxiliary loss; in eval mode it subtracts the stored mean only.
 */
final class TestStatefulModules implements MetaforgePlugin {
    /** {@code {"type": "test-running-centre", "features": 8}}. */
    record RunningCentreSpec(int features) implements ModuleSpec {
        @Override
        public Module build() {
            return new RunningCentre(features);
        }
    }

    static final class RunningCentre implements Module {
        private final int features;

        RunningCentre(int features) {
            this.features = features;
        }

        @Override
        public List<ParamSpec> parameters() {
            return List.of();
        }

        @Override
        public List<StateSpec> stateSpecs() {
            return List.of(new StateSpec("mean", Shape.of(features), 0.0));
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return input;
        }

        @Override
        public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
            Tensor mean = call.state().get("mean");
            if (!call.training()) {
                return ModuleOutput.of(input.sub(mean), call.state());
            }
            Tensor next = mean.mul(0.9).add(input.stopGradient().mean(0, false).mul(0.1));
            RandomStream rng = call.random("test-running-centre");
            double[] noise = new double[(int) input.size()];
            for (int i = 0; i < noise.length; i++) {
                noise[i] = 0.01 * rng.nextGaussian();
            }
            Tensor out = input.sub(next).add(input.engine().tensor(noise, input.shape(), input.dtype()));
            return new ModuleOutput(out, Params.of(Map.of("mean", next)), Map.of("penalty", out.square().mean().mul(1e-3)),
                    Map.of("meanNorm", next.square().sum()));
        }

        @Override
        public String kind() {
            return "test-running-centre";
        }
    }

    @Override
    public String name() {
        return "core-tests";
    }

    @Override
    public List<SpecType> specTypes() {
        return List.of(new SpecType(ModuleSpec.class, "test-running-centre", RunningCentreSpec.class));
    }
}
