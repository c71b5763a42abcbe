package dev.metaforge.plugins.hyper;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.hyper.TaskConditionedHyperNetwork;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/** Small targets and one of each hypernetwork, for tests on the float64 reference backend. */
final class HyperFixtures {
    private HyperFixtures() {
    }

    static Engine engine() {
        return Engine.of(new ReferenceBackend(), DType.FLOAT64);
    }

    /** A 2-4-3 tanh MLP whose weights are generated and whose biases stay ordinary. */
    static HyperTarget smallTarget() {
        return new HyperTarget(Mlp.of(List.of(2, 4, 3), Activation.TANH), ParamSelection.kinds(ParamKind.WEIGHT));
    }

    /** One hypernetwork per kind for {@code target}; vector contexts have size 2, tasks number 3. */
    record Kind(String name, Function<HyperTarget, HyperNetwork> build) {
        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * A context for {@code hyper}: B task ids (i mod tasks) for task-conditioned ones, else uniform
     * values in [0, 1] ([B, d], or [d] when {@code batch} is 0).
     */
    static Tensor context(Engine engine, HyperNetwork hyper, int batch, long seed) {
        if (hyper instanceof TaskConditionedHyperNetwork t) {
            if (batch == 0) {
                return engine.indices(new long[] {(int) (seed % t.tasks())});
            }
            long[] ids = new long[batch];
            for (int i = 0; i < batch; i++) {
                ids[i] = (i + seed) % t.tasks();
            }
            return engine.indices(ids, batch);
        }
        int d = hyper.contextShape().dim(0);
        SplittableRandom random = new SplittableRandom(seed);
        double[] v = new double[Math.max(batch, 1) * d];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextDouble();
        }
        return batch == 0 ? engine.tensor(v, d) : engine.tensor(v, batch, d);
    }

    /** Uniform values in [-1, 1) of the given shape. */
    static Tensor uniform(Engine engine, long seed, int... dims) {
        SplittableRandom random = new SplittableRandom(seed);
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 2 * random.nextDouble() - 1;
        }
        return engine.tensor(v, dims);
    }

    static List<Kind> kinds() {
        return List.of(
                new Kind("hmlp", t -> new HmlpHyperNetwork(t.generated(), 2, List.of(5), Activation.TANH,
                        Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT))),
                new Kind("mip", t -> MipHyperNetwork.standard(t.generated(), 2, List.of(5), Activation.TANH)),
                new Kind("chunked", t -> new ChunkedHyperNetwork(t.generated(), 2, 7, 3, List.of(5), Activation.TANH,
                        Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT))),
                new Kind("task-conditioned", t -> new TaskEmbeddingHyperNetwork(3, 4,
                        new HmlpHyperNetwork(t.generated(), 4, List.of(5), Activation.TANH, Initializer.torchDefault()))),
                new Kind("hyperinterval", t -> new HyperIntervalNetwork(t.generated(), 3, 4, List.of(5), Activation.TANH, 0.5)),
                new Kind("recurrent", t -> new RecurrentHyperNetwork(t.generated(), 2, 5, 4, 3, Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT))),
                new Kind("ha-static", t -> new HaStaticHyperNetwork(t.generated(), 2, 3, 3, 2)));
    }
}
