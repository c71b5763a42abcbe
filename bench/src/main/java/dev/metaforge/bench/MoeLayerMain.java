package dev.metaforge.bench;

import dev.metaforge.api.moe.MixtureOfExperts;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.Locale;

/**
 * One mixture-of-experts layer step, for {@code bench/moe_compare.sh}, which runs it interleaved
 * with the PyTorch baselines of {@code bench/python/moe_layer.py}: tokens x [N, d], a softmax top-k
 * router ({@code topk}, renormalised, balance weight 0.01) with capacity factor f (or dropless),
 * E experts each a d → h → d ReLU MLP run as one weight batch. One step = forward in train mode,
 * loss = mean(y²) + the auxiliary losses, the gradient of every parameter, the loss read back.
 * <pre>
 * java -cp metaforge-bench.jar dev.metaforge.bench.MoeLayerMain --backend djl --experts 8 [--tokens 4096] [--dim 256]
 *     [--hidden 1024] [--k 2] [--capacity-factor 1.25 | --dropless] [--warmup 3] [--seconds 5]
 * </pre>
 * Prints {@code RESULT workload=moe-E8 backend=... steps_per_s=... steps_per_cpu_s=... tokens_per_s=...}.
 */
@SuppressWarnings("try")
public final class MoeLayerMain {
    private MoeLayerMain() {
    }

    public static void main(String[] args) {
        String backend = null;
        int experts = 8;
        int tokens = 4096;
        int dim = 256;
        int hidden = 1024;
        int k = 2;
        double factor = 1.25;
        boolean dropless = false;
        double warmup = 3;
        double seconds = 5;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--dropless")) {
                dropless = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--backend" -> backend = v;
                case "--experts" -> experts = Integer.parseInt(v);
                case "--tokens" -> tokens = Integer.parseInt(v);
                case "--dim" -> dim = Integer.parseInt(v);
                case "--hidden" -> hidden = Integer.parseInt(v);
                case "--k" -> k = Integer.parseInt(v);
                case "--capacity-factor" -> factor = Double.parseDouble(v);
                case "--warmup" -> warmup = Double.parseDouble(v);
                case "--seconds" -> seconds = Double.parseDouble(v);
                default -> throw new IllegalArgumentException("unknown argument '" + a + "'; known: --backend, --experts, --tokens, "
                        + "--dim, --hidden, --k, --capacity-factor, --dropless, --warmup, --seconds");
            }
        }
        try (Engine engine = Engine.create(backend)) {
            String threads = engine.backend().name().equals("djl") ? BenchEnvironment.pytorchThreads() : BenchEnvironment.nd4jThreads();
            System.out.println("backend " + engine.backend().name() + " (" + engine.backend().version() + "); " + threads);
            MixtureOfExperts moe = layer(experts, dim, hidden, k, dropless ? 0 : factor);
            try (Step step = new Step(engine, moe, tokens)) {
                StepRateMain.Rate rate = StepRateMain.rate(step::step, warmup, seconds);
                System.out.printf(Locale.ROOT, "RESULT workload=moe-E%d%s backend=%s steps_per_s=%.4f steps_per_cpu_s=%.4f tokens_per_s=%.1f"
                        + " warmup_s=%.1f stable=%s%n", experts, dropless ? "-dropless" : "", engine.backend().name(), rate.wall(), rate.cpu(),
                        rate.wall() * tokens, rate.warmupSeconds(), rate.stable());
            }
        }
    }

    /** The benchmark layer, built from its JSON spec; {@code factor} 0 for dropless. */
    static MixtureOfExperts layer(int experts, int dim, int hidden, int k, double factor) {
        String router = factor == 0 ? "{\"type\":\"dropless\",\"k\":" + k + ",\"balanceWeight\":0.01}"
                : "{\"type\":\"topk\",\"k\":" + k + ",\"capacityFactor\":" + factor + ",\"balanceWeight\":0.01}";
        String json = "{\"type\":\"moe\",\"width\":" + dim + ",\"experts\":" + experts + ",\"expert\":{\"type\":\"mlp\",\"sizes\":["
                + dim + "," + hidden + "," + dim + "],\"activation\":\"relu\"},\"router\":" + router + "}";
        SpecRegistry specs = SpecRegistry.load(MoeLayerMain.class.getClassLoader());
        return (MixtureOfExperts) specs.read(json, ModuleSpec.class, "bench").build();
    }

    /** Forward and backward of the layer on fixed tokens. */
    static final class Step implements AutoCloseable {
        private final MixtureOfExperts moe;
        private final Params params;
        private final Params state;
        private final Tensor x;
        private long count;

        Step(Engine engine, MixtureOfExperts moe, int tokens) {
            this.moe = moe;
            try (Scope s = Scope.open()) {
                this.params = s.escape(moe.init(engine, RandomStream.of(0)));
                this.state = s.escape(moe.initState(engine, 0));
                this.x = s.escape(engine.uniform(Shape.of(tokens, moe.width()), -1, 1, 1));
            }
        }

        double step() {
            try (Scope s = Scope.open()) {
                Params tracked = params.requiringGrad();
                ModuleOutput out = moe.forward(tracked, x, ModuleCall.train(state, RandomStream.of(count++)));
                Tensor loss = out.output().square().mean().add(out.auxLoss());
                double value = loss.item();
                Grad.of(loss).wrt(tracked);
                return value;
            }
        }

        @Override
        public void close() {
            params.close();
            state.close();
            x.close();
        }
    }
}
