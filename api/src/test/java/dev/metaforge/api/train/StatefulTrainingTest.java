package dev.metaforge.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.loss.Losses;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.nn.StateSpec;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.spec.SpecType;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model with state and an auxiliary loss, trained by the file-based trainer: the auxiliary loss
 * is part of what is minimised and appears in metrics.jsonl, the state is checkpointed with the
 * objective, and a resumed run equals an uninterrupted one bit for bit (float64, reference backend).
 */
class StatefulTrainingTest {
    @TempDir
    Path dir;

    /**
     * Centres its input: in TRAIN by the batch mean, while keeping a running mean as state (as
     * BatchNorm does); in EVAL by the running mean. Reports an aux loss 0.01 * mean(x^2).
     */
    record Centering(int features) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of();
        }

        @Override
        public List<StateSpec> stateSpecs() {
            return List.of(new StateSpec("running_mean", Shape.of(features), 0.0));
        }

        @Override
        public Tensor apply(Params params, Tensor x) {
            return x.sub(x.mean(0, true));
        }

        @Override
        public ModuleOutput forward(Params params, Tensor x, ModuleCall call) {
            Tensor running = call.state().get("running_mean");
            if (!call.training()) {
                return ModuleOutput.of(x.sub(running), call.state());
            }
            Tensor batchMean = x.mean(0, false);
            Tensor next = running.mul(0.9).add(batchMean.stopGradient().mul(0.1));
            return ModuleOutput.of(x.sub(batchMean.expandDims(0)), Params.of(Map.of("running_mean", next)))
                    .withLoss("activity", x.square().mean().mul(0.01))
                    .withMetric("batch_mean_norm", batchMean.square().sum().sqrt());
        }
    }

    record StatefulExperiment() implements ExperimentSpec {
        @Override
        public Objective build(BuildContext context) {
            return new StatefulObjective(context.engine());
        }
    }

    static final class StatefulObjective implements Objective {
        private final Engine engine;
        private final StatefulModel model;

        StatefulObjective(Engine engine) {
            this.engine = engine;
            Module net = Sequential.of(new Linear(2, 3, true, Initializer.torchDefault()), new Centering(3),
                    new Linear(3, 1, true, Initializer.torchDefault()));
            this.model = new StatefulModel(net, engine, 0);
        }

        @Override
        public Params init(RandomStream rng) {
            return model.module().init(engine, rng);
        }

        private Tensor[] batch(RandomStream rng) {
            double[] x = new double[16 * 2];
            double[] y = new double[16];
            for (int i = 0; i < 16; i++) {
                x[2 * i] = rng.nextGaussian() + 1.5;
                x[2 * i + 1] = rng.nextGaussian();
                y[i] = 0.7 * x[2 * i] - x[2 * i + 1];
            }
            return new Tensor[] {engine.tensor(x, 16, 2), engine.tensor(y, 16, 1)};
        }

        @Override
        public Tensor loss(Params params, long step, RandomStream rng) {
            return lossTerms(params, step, rng).total();
        }

        @Override
        public LossTerms lossTerms(Params params, long step, RandomStream rng) {
            Tensor[] xy = batch(rng);
            ModuleOutput out = model.train(params, xy[0], rng);
            return StatefulModel.lossTerms(Losses.mse(out.output(), xy[1]), out);
        }

        @Override
        public Map<String, Double> evaluate(Params params) {
            Tensor[] xy = batch(RandomStream.of(99));
            return Map.of("mse", Losses.mse(model.eval(params, xy[0]), xy[1]).item());
        }

        @Override
        public Params state() {
            return model.state();
        }

        @Override
        public void loadState(Params state) {
            model.loadState(state);
        }
    }

    private final SpecRegistry specs = SpecRegistry.of(List.of(new MetaforgePlugin() {
        @Override
        public String name() {
            return "stateful-test";
        }

        @Override
        public List<SpecType> specTypes() {
            return List.of(new SpecType(ExperimentSpec.class, "test-stateful", StatefulExperiment.class),
                    new SpecType(dev.metaforge.api.optim.OptimizerSpec.class, "test-adam", TestExperiments.AdamSpec.class));
        }
    }));
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final Trainer trainer = new Trainer(engine, specs);

    private static TrainSpec spec(int steps) {
        return new TrainSpec(new StatefulExperiment(), new TestExperiments.AdamSpec(0.02), steps, 5L, "float64", 2, 10, 0);
    }

    @Test
    void auxiliaryLossesAreMinimisedAndLogged() throws IOException {
        Path out = dir.resolve("run");
        trainer.train(spec(30), dir, out, false);
        List<JsonNode> lines = readMetrics(out);
        JsonNode first = lines.get(0);
        assertTrue(first.has("terms"), "train lines carry the loss parts: " + first);
        assertTrue(first.get("terms").has("1.activity"), first.toString());
        assertTrue(first.get("terms").has("1.batch_mean_norm"), first.toString());
        double activity = first.get("terms").get("1.activity").asDouble();
        assertTrue(activity > 0 && activity < first.get("loss").asDouble(), "the aux loss is a part of the total: " + first);
        Checkpoint checkpoint = Checkpoint.load(out.resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(List.of("1.running_mean"), List.copyOf(checkpoint.objectiveState().keySet()),
                "the module's state is checkpointed with the objective");
    }

    @Test
    void resumedStatefulRunEqualsUninterruptedRun() throws IOException {
        Path straight = dir.resolve("straight");
        trainer.train(spec(24), dir, straight, false);
        Path resumed = dir.resolve("resumed");
        trainer.train(spec(11), dir, resumed, false);
        trainer.train(spec(24), dir, resumed, true);

        List<JsonNode> a = withoutTimings(readMetrics(straight));
        List<JsonNode> b = withoutTimings(readMetrics(resumed));
        assertEquals(a, b, "metrics lines (including every loss part) after a resume");
        Checkpoint ca = Checkpoint.load(straight.resolve(Trainer.CHECKPOINT_FILE));
        Checkpoint cb = Checkpoint.load(resumed.resolve(Trainer.CHECKPOINT_FILE));
        assertEquals(ca.params(), cb.params(), "parameters, bit for bit");
        assertEquals(ca.objectiveState(), cb.objectiveState(), "running mean, bit for bit");
    }

    private static List<JsonNode> readMetrics(Path out) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve(Trainer.METRICS_FILE))) {
            lines.add(json.readTree(line));
        }
        return lines;
    }

    private static List<JsonNode> withoutTimings(List<JsonNode> lines) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode n : lines) {
            ObjectNode copy = n.deepCopy();
            copy.remove(List.of("seconds", "stepsPerSecond"));
            out.add(copy);
        }
        return out;
    }
}
