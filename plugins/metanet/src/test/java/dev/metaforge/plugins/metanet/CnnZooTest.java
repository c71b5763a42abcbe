package dev.metaforge.plugins.metanet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.ElementType;
import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.IdxArray;
import dev.metaforge.api.preflight.MemoryMeter;
import dev.metaforge.api.preflight.ShapeBackend;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.ExperimentSpec;
import dev.metaforge.api.train.Objective;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A zoo of small CNNs (conv2d, batchnorm, relu, flatten, linear from the core plugin) trained on
 * labelled IDX files, with generated 8x8 images of 3 classes standing in for Fashion-MNIST, on the
 * float64 reference backend: the accuracies the zoo stores against an independent recount, the cache
 * key against changed data, errors before any file is written, the shape-only pass, both experiments
 * on the CNN zoo, and Kendall's tau against a float64 brute-force formula.
 */
class CnnZooTest {
    private static final int SIDE = 8;
    private static final int CLASSES = 3;

    private Engine engine;
    private Scope scope;
    private SpecRegistry specs;

    @TempDir
    Path dir;

    @BeforeEach
    void open() throws IOException {
        engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        scope = Scope.open();
        specs = SpecRegistry.load(getClass().getClassLoader());
        writeImages("train", 48, 1);
        writeImages("test", 30, 2);
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** Class c is a bright horizontal bar at rows 2c..2c+1 over noise, so a CNN can learn it. */
    private void writeImages(String split, int n, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        double[] pixels = new double[n * SIDE * SIDE];
        double[] labels = new double[n];
        for (int i = 0; i < n; i++) {
            int c = i % CLASSES;
            labels[i] = c;
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    boolean bar = y / 2 == c;
                    pixels[(i * SIDE + y) * SIDE + x] = Math.min(255, (bar ? 150 : 0) + r.nextInt(100));
                }
            }
        }
        Idx.write(dir.resolve(split + "-images.idx"), IdxArray.of(ElementType.UBYTE, new int[] {n, SIDE, SIDE}, pixels));
        Idx.write(dir.resolve(split + "-labels.idx"), IdxArray.of(ElementType.UBYTE, new int[] {n}, labels));
    }

    private static String zoo(String inputShape, int outputs) {
        return "{\"model\": {\"type\": \"sequential\", \"layers\": ["
                + "{\"type\": \"conv2d\", \"inChannels\": 1, \"outChannels\": 2, \"kernel\": 3, \"padding\": 1},"
                + "{\"type\": \"batchnorm\", \"features\": 2}, {\"type\": \"activation\", \"function\": \"relu\"},"
                + "{\"type\": \"flatten\", \"startAxis\": -3, \"endAxis\": -1},"
                + "{\"type\": \"linear\", \"in\": " + 2 * SIDE * SIDE + ", \"out\": " + outputs + "}]},"
                + " \"data\": {\"train\": {\"type\": \"idx\", \"images\": \"train-images.idx\", \"labels\": \"train-labels.idx\"},"
                + " \"test\": {\"type\": \"idx\", \"images\": \"test-images.idx\", \"labels\": \"test-labels.idx\"},"
                + " \"inputShape\": " + inputShape + ", \"mean\": 0.3, \"std\": 0.3},"
                + " \"networks\": 6, \"steps\": [2, 12], \"learningRate\": [0.01, 0.1], \"trainPoints\": 40, \"testPoints\": 30,"
                + " \"batch\": 8, \"cache\": \"cache\"}";
    }

    private static final String ZOO = zoo("[1, 8, 8]", CLASSES);

    private ModelZoo load(String zooJson, Engine on) {
        ZooSpec spec = specs.read(zooJson, ZooSpec.class, "test");
        return ModelZoo.load(spec, new BuildContext(on, specs, dir, 0), new PrintWriter(new StringWriter(), true));
    }

    private List<Path> cacheFiles() throws IOException {
        if (!Files.isDirectory(dir.resolve("cache"))) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir.resolve("cache"))) {
            return files.filter(f -> f.getFileName().toString().startsWith("zoo-")).sorted().toList();
        }
    }

    @Test
    void storedAccuraciesMatchAnUnbatchedRecountOfEachNetwork() throws IOException {
        ModelZoo zoo = load(ZOO, engine);
        assertFalse(zoo.fromCache);
        assertEquals(1, cacheFiles().size());
        double[] pixels = Idx.read(dir.resolve("test-images.idx")).toDoubles();
        long[] labels = Idx.read(dir.resolve("test-labels.idx")).toLongs();
        // Reference: each network alone (the unbatched conv/batchnorm/linear path, not the grouped weight-batch
        // path the zoo trains and measures with), inputs normalised here from the raw bytes, argmax counted here.
        double[] x = new double[pixels.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (pixels[i] / 255 - 0.3) / 0.3;
        }
        Tensor images = engine.tensor(x, Shape.of(30, 1, SIDE, SIDE), DType.FLOAT64);
        double lowest = 1;
        double highest = 0;
        for (int net = 0; net < zoo.size(); net++) {
            int row = net;
            Map<String, Tensor> one = new LinkedHashMap<>();
            zoo.params.asMap().forEach((name, t) -> one.put(name, t.slice(0, row, row + 1).squeeze(0)));
            double[] logits = zoo.model.apply(Params.of(one), images).toDoubles();
            int hits = 0;
            for (int i = 0; i < 30; i++) {
                int best = 0;
                for (int c = 1; c < CLASSES; c++) {
                    if (logits[i * CLASSES + c] > logits[i * CLASSES + best]) {
                        best = c;
                    }
                }
                hits += best == labels[i] ? 1 : 0;
            }
            assertEquals(hits / 30.0, zoo.accuracy[net], 1e-12, "network " + net);
            lowest = Math.min(lowest, zoo.accuracy[net]);
            highest = Math.max(highest, zoo.accuracy[net]);
        }
        // Varied hyperparameters give varied accuracies: something for a metanetwork to rank.
        assertTrue(highest > lowest, "accuracies " + java.util.Arrays.toString(zoo.accuracy));
        assertTrue(highest > 0.6, "the best network learned the bars: " + highest);
    }

    @Test
    void theCacheIsHitForTheSameDataAndMissedForChangedData() throws IOException {
        // Float32 weights: the accuracies (k/30, not float32 numbers) must still come back from the cache unrounded.
        Engine float32 = Engine.of(new ReferenceBackend(), DType.FLOAT32);
        ModelZoo fresh = load(ZOO, float32);
        ModelZoo again = load(ZOO, float32);
        assertTrue(again.fromCache);
        assertEquals(java.util.Arrays.toString(fresh.accuracy), java.util.Arrays.toString(again.accuracy));
        assertEquals(java.util.Arrays.toString(fresh.params.get("0.weight").toDoubles()),
                java.util.Arrays.toString(again.params.get("0.weight").toDoubles()));
        // One test pixel changed: same spec text, other data, so another cache file.
        IdxArray images = Idx.read(dir.resolve("test-images.idx"));
        double[] pixels = images.toDoubles();
        pixels[5] = pixels[5] == 0 ? 1 : 0;
        Idx.write(dir.resolve("test-images.idx"), IdxArray.of(ElementType.UBYTE, images.dims(), pixels));
        assertFalse(load(ZOO, float32).fromCache);
        assertEquals(2, cacheFiles().size());
    }

    @Test
    void badDataIsReportedBeforeAnyFileIsWritten() throws IOException {
        IllegalArgumentException layout = assertThrows(IllegalArgumentException.class, () -> load(zoo("[1, 28, 28]", CLASSES), engine));
        assertTrue(layout.getMessage().contains("'inputShape'") && layout.getMessage().contains("64 values"), layout.getMessage());
        IllegalArgumentException outputs = assertThrows(IllegalArgumentException.class, () -> load(zoo("[1, 8, 8]", 2), engine));
        assertTrue(outputs.getMessage().contains("2 outputs") && outputs.getMessage().contains("label 2"), outputs.getMessage());
        IllegalArgumentException reads = assertThrows(IllegalArgumentException.class, () -> load(zoo("[64]", CLASSES), engine));
        assertTrue(reads.getMessage().contains("zoo.data.inputShape") && reads.getMessage().contains("sequential"), reads.getMessage());
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> load(ZOO.replace("\"trainPoints\": 40", "\"trainPoints\": 400"), engine));
        assertTrue(tooMany.getMessage().contains("'trainPoints'") && tooMany.getMessage().contains("48"), tooMany.getMessage());
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void theShapeOnlyPassNeitherTrainsNorCachesTheZoo() throws IOException {
        Engine shapes = Engine.of(ShapeBackend.of(new MemoryMeter(1L << 30, 1_000_000)), DType.FLOAT64);
        ModelZoo zoo = load(ZOO, shapes);
        assertEquals(6, zoo.size());
        assertEquals(List.of(), cacheFiles());
        assertFalse(load(ZOO, engine).fromCache);   // the real run trains it
    }

    private Objective build(String json) {
        return specs.read(json, ExperimentSpec.class, "test").build(new BuildContext(engine, specs, dir, 0));
    }

    @Test
    void bothExperimentsRunOnTheCnnZoo() {
        Objective predict = build("{\"type\": \"accuracy-prediction\", \"zoo\": " + ZOO
                + ", \"metanetwork\": {\"type\": \"gnn\", \"hidden\": 4, \"layers\": 1}, \"batch\": 3, \"holdout\": 0.34}");
        Params p = predict.init(RandomStream.of(1));
        assertTrue(Double.isFinite(predict.loss(p.requiringGrad(), 0, RandomStream.of(2)).item()));
        Map<String, Double> m = predict.evaluate(p);
        assertEquals(2, ((AccuracyPredictionObjective) predict).heldOut());
        for (String key : new String[] {"kendallTau", "baselineKendallTau"}) {
            assertTrue(m.get(key) >= -1 && m.get(key) <= 1, key + " in " + m);
        }
        Objective prune = build("{\"type\": \"meta-pruning\", \"zoo\": " + ZOO
                + ", \"metanetwork\": {\"type\": \"gnn\", \"hidden\": 4, \"layers\": 1, \"editScale\": 0.1},"
                + " \"batch\": 2, \"dataBatch\": 8, \"targets\": 2, \"ratios\": [0.5], \"finetuneSteps\": 2}");
        Params q = prune.init(RandomStream.of(1));
        assertTrue(Double.isFinite(prune.loss(q.requiringGrad(), 0, RandomStream.of(2)).item()));
        Map<String, Double> r = prune.evaluate(q);
        for (String key : new String[] {"accuracy", "editedAccuracy", "magnitude@0.5", "magnitude@0.5+ft", "meta@0.5", "meta@0.5+ft"}) {
            assertTrue(r.containsKey(key) && r.get(key) >= 0 && r.get(key) <= 1, key + " in " + r);
        }
    }

    @Test
    void pruningHalfTheChannelsZeroesOneConvChannelOfEachNetwork() {
        ModelZoo zoo = load(ZOO, engine);
        var layout = dev.metaforge.api.graph.GraphLayout.of(zoo.model);
        NeuronPruning pruning = new NeuronPruning(layout);
        assertEquals(2, pruning.unitCount());
        var graph = layout.toGraph(zoo.params);
        Params pruned = pruning.apply(graph, pruning.masks(graph, 0.5)).toParams();
        String conv = zoo.model.parameters().get(0).name();
        double[] w = pruned.get(conv).toDoubles();   // [6, 2, 1, 3, 3]
        for (int net = 0; net < 6; net++) {
            int zeroChannels = 0;
            for (int c = 0; c < 2; c++) {
                boolean zero = true;
                for (int k = 0; k < 9; k++) {
                    zero &= w[(net * 2 + c) * 9 + k] == 0;
                }
                zeroChannels += zero ? 1 : 0;
            }
            assertEquals(1, zeroChannels, "network " + net);
        }
        assertNotEquals(0, zoo.params.get(conv).abs().sum().item());
    }

    @Test
    void kendallTauMatchesTheTieCorrectedFormulaOnRandomSamplesWithTies() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 50; trial++) {
            int n = 2 + r.nextInt(40);
            double[] a = new double[n];
            double[] b = new double[n];
            for (int i = 0; i < n; i++) {
                a[i] = r.nextInt(1 + r.nextInt(12));   // few distinct values: many ties
                b[i] = 0.5 * a[i] + r.nextInt(6);
            }
            assertEquals(tauB(a, b), Ranking.kendallTau(a, b), 1e-12, "trial " + trial);
        }
    }

    /**
     * Reference tau-b from the textbook formula: S = sum over i < j of sgn(a_i - a_j) sgn(b_i - b_j),
     * over sqrt((n0 - n1)(n0 - n2)) with n0 = n(n-1)/2 and n1, n2 = sum over tie groups t(t-1)/2 of each sample.
     */
    private static double tauB(double[] a, double[] b) {
        int n = a.length;
        double s = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                s += Math.signum(a[i] - a[j]) * Math.signum(b[i] - b[j]);
            }
        }
        double n0 = n * (n - 1) / 2.0;
        double d = Math.sqrt((n0 - tiePairs(a)) * (n0 - tiePairs(b)));
        return d == 0 ? 0 : s / d;
    }

    private static double tiePairs(double[] v) {
        Map<Double, Integer> counts = new LinkedHashMap<>();
        for (double x : v) {
            counts.merge(x, 1, Integer::sum);
        }
        return counts.values().stream().mapToDouble(t -> t * (t - 1) / 2.0).sum();
    }
}
