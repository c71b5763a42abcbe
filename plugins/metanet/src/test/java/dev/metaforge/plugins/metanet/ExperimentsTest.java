package dev.metaforge.plugins.metanet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zoo, accuracy-prediction and meta-pruning experiments at toy size on the float64 reference
 * backend (plumbing, caching, metrics), and the statistics they report against values computed by hand.
 */
class ExperimentsTest {
    private Engine engine;
    private Scope scope;
    private SpecRegistry specs;

    @TempDir
    Path dir;

    @BeforeEach
    void open() {
        engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        scope = Scope.open();
        specs = SpecRegistry.load(getClass().getClassLoader());
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static final String ZOO = "\"zoo\": {\"model\": {\"type\": \"mlp\", \"sizes\": [3, 5, 3]}, \"networks\": 10, \"steps\": [2, 30],"
            + " \"trainPoints\": 64, \"testPoints\": 64, \"batch\": 16, \"cache\": \"cache\"}";

    private Objective build(String json) {
        return specs.read(json, ExperimentSpec.class, "test").build(new BuildContext(engine, specs, dir, 0));
    }

    @Test
    void accuracyPredictionBuildsCachesAndReportsTauAgainstTheBaseline() throws Exception {
        String json = "{\"type\": \"accuracy-prediction\", " + ZOO + ", \"metanetwork\": {\"type\": \"gnn\", \"hidden\": 4, \"layers\": 1},"
                + " \"batch\": 4, \"holdout\": 0.3}";
        Objective o = build(json);
        try (var files = Files.list(dir.resolve("cache"))) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().startsWith("zoo-")).count());
        }
        Params p = o.init(RandomStream.of(1));
        Params tracked = p.requiringGrad();
        Tensor loss = o.loss(tracked, 0, RandomStream.of(2));
        assertTrue(Double.isFinite(loss.item()));
        assertTrue(Grad.of(loss).wrt(tracked).get("head.out.weight").abs().sum().item() > 0);
        Map<String, Double> m = o.evaluate(p);
        for (String key : new String[] {"kendallTau", "rmse", "baselineKendallTau", "baselineRmse"}) {
            assertTrue(m.containsKey(key) && Double.isFinite(m.get(key)), key + " in " + m);
        }
        assertEquals(3, ((AccuracyPredictionObjective) o).heldOut());
        // The second build reads the cache: same accuracies, same metrics.
        assertEquals(m.get("baselineKendallTau"), build(json).evaluate(p).get("baselineKendallTau"));
    }

    @Test
    void metaPruningReportsBothMethodsAtEveryRatio() {
        String json = "{\"type\": \"meta-pruning\", " + ZOO + ", \"metanetwork\": {\"type\": \"nfn\", \"channels\": 3, \"editScale\": 0.1},"
                + " \"batch\": 2, \"dataBatch\": 8, \"targets\": 2, \"ratios\": [0.4], \"finetuneSteps\": 2}";
        Objective o = build(json);
        Params p = o.init(RandomStream.of(1));
        Params tracked = p.requiringGrad();
        assertTrue(Double.isFinite(o.loss(tracked, 0, RandomStream.of(2)).item()));
        Map<String, Double> m = o.evaluate(p);
        for (String key : new String[] {"accuracy", "editedAccuracy", "magnitude@0.4", "magnitude@0.4+ft", "meta@0.4", "meta@0.4+ft"}) {
            assertTrue(m.containsKey(key) && m.get(key) >= 0 && m.get(key) <= 1, key + " in " + m);
        }
    }

    @Test
    void exampleSpecsAreValid() {
        for (String name : new String[] {"accuracy-prediction.json", "meta-pruning.json", "accuracy-prediction-fmnist-cnn.json", "meta-pruning-fmnist-cnn.json"}) {
            dev.metaforge.api.train.TrainSpec spec = specs.read(Path.of("..", "..", "examples", name), dev.metaforge.api.train.TrainSpec.class);
            assertTrue(spec.steps() > 0, name);
        }
    }

    @Test
    void kendallTauMatchesHandCountedPairs() {
        // Pairs of (1,2,3,4) against (1,3,2,4): 5 concordant, 1 discordant -> 4/6.
        assertEquals(4.0 / 6, Ranking.kendallTau(new double[] {1, 2, 3, 4}, new double[] {1, 3, 2, 4}), 1e-15);
        assertEquals(-1.0, Ranking.kendallTau(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-15);
        // One tie in b: tau-b = (2 - 0) / sqrt(3 * 2).
        assertEquals(2 / Math.sqrt(6), Ranking.kendallTau(new double[] {1, 2, 3}, new double[] {1, 2, 2}), 1e-15);
    }

    @Test
    void ridgeOnWeightStatisticsRecoversALinearRelation() {
        double[][] x = new double[40][2];
        double[] y = new double[40];
        for (int i = 0; i < 40; i++) {
            x[i][0] = i % 7;
            x[i][1] = (i * 3) % 11;
            y[i] = 0.5 + 0.02 * x[i][0] - 0.01 * x[i][1];
        }
        WeightStatistics fit = WeightStatistics.fit(x, y, 1e-9);
        assertEquals(0.5 + 0.02 * 3 - 0.01 * 5, fit.predict(new double[] {3, 5}), 1e-6);
    }
}
