package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.GaussianClusters;
import dev.metaforge.api.data.LabelledDataset;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.TrainingLoop;
import dev.metaforge.plugins.meta.FewShotEpisodes;
import dev.metaforge.plugins.meta.MetaObjective;
import dev.metaforge.plugins.meta.PrototypicalNetwork;
import dev.metaforge.spi.DType;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Federated reconnaissance (Hendryx, Kc, Wright and Chapman 2021) with prototypical networks on
 * Spark: an embedding network is meta-trained once on base classes; then new classes arrive in
 * rounds, their examples spread unevenly over clients (Spark tasks, one per client). Each client
 * embeds only its own examples and reports per-class mean embeddings and counts; the server merges
 * them by count-weighted averaging ({@link PrototypeBank}) and classifies by the nearest
 * prototype. Learning a class never retrains the network or touches the other classes.
 *
 * <p>Each round reports accuracy on held-out examples of every class seen so far, of the round's
 * new classes and of the first round's classes, and how far the merged prototypes are from the
 * centralised ones (all of a class's examples embedded in one place on the driver: the reference),
 * with the untrained embedding's final accuracy for comparison. Data: Fashion-MNIST (IDX files;
 * the embedding is meta-trained on classes 0-4, classes 5-9 arrive one per round) or generated
 * Gaussian clusters with loud noise dimensions ({@link GaussianClusters}).
 */
final class FederatedReconnaissance {
    /**
     * The experiment.
     *
     * @param seed              every random choice follows from it
     * @param dataset           "clusters" (generated) or "fashion-mnist" (IDX files in {@code dataDir})
     * @param dataDir           directory of the Fashion-MNIST IDX files (train/t10k images and labels, gzipped or not)
     * @param rounds            rounds of new classes (clusters; Fashion-MNIST has 1 + 5)
     * @param classesPerRound   new classes per round (clusters)
     * @param clients           clients (Spark tasks) per round
     * @param pretrainSteps     meta-training steps of the embedding (prototypical network episodes)
     * @param backendName       backend of the clients (null: the selection rule)
     */
    record Config(long seed, String dataset, java.nio.file.Path dataDir, int rounds, int classesPerRound, int clients,
                  int pretrainSteps, String backendName) {
        Config {
            if (!dataset.equals("clusters") && !dataset.equals("fashion-mnist")) {
                throw new IllegalArgumentException("dataset must be clusters or fashion-mnist, got " + dataset);
            }
            if (rounds < 1 || classesPerRound < 1 || clients < 1 || pretrainSteps < 0) {
                throw new IllegalArgumentException("federated reconnaissance: need at least 1 round, 1 class per round and 1 client,"
                        + " and non-negative pre-training steps; got " + rounds + " rounds, " + classesPerRound + " classes per round, "
                        + clients + " clients, " + pretrainSteps + " steps");
            }
        }

        static Config defaults() {
            return new Config(0, "clusters", java.nio.file.Path.of("/usr/share/datasets/fashion-mnist"), 5, 4, 4, 300, null);
        }
    }

    /**
     * Where the examples come from: the embedding's meta-training set and its episodes, the pool new
     * classes' training examples are drawn from, the held-out set, and which classes arrive when.
     */
    private record Source(String description, LabelledDataset pretrain, int ways, int shots, int queries, int metaBatch,
                          LabelledDataset pool, LabelledDataset test, List<List<Integer>> rounds, int trainPerClass,
                          int testPerClass, List<Integer> sizes) {
    }

    /** Generated clusters: 64 base classes, then {@code rounds × classesPerRound} new ones (4 informative + 12 noise dims). */
    private static Source clusters(Config config) {
        int base = 64;
        LabelledDataset pretrain = GaussianClusters.generate(config.seed() + 7, 0, base, 20, 4, 12, 0.3, 2.0);
        int novel = config.rounds() * config.classesPerRound();
        LabelledDataset pool = GaussianClusters.generate(config.seed() + 7, base, base + novel, 40, 4, 12, 0.3, 2.0);
        List<List<Integer>> rounds = new ArrayList<>();
        for (int r = 0; r < config.rounds(); r++) {
            List<Integer> classes = new ArrayList<>();
            for (int c = 0; c < config.classesPerRound(); c++) {
                classes.add(base + r * config.classesPerRound() + c);
            }
            rounds.add(classes);
        }
        return new Source("generated Gaussian clusters (64 base classes)", pretrain, 5, 1, 5, 8, pool, pool, rounds, 20, 20,
                List.of(16, 64, 16));
    }

    /**
     * Fashion-MNIST: the embedding is meta-trained on classes 0-4 (t-shirt, trouser, pullover,
     * dress, coat) of the training set; round 1 brings those classes' prototypes, rounds 2-6 one
     * unseen class each (sandal, shirt, sneaker, bag, ankle boot); held-out examples come from t10k.
     */
    private static Source fashionMnist(Config config) {
        java.nio.file.Path dir = config.dataDir();
        LabelledDataset train = idx(dir, "train");
        LabelledDataset test = idx(dir, "t10k");
        List<Integer> baseClasses = List.of(0, 1, 2, 3, 4);
        List<List<Integer>> rounds = new ArrayList<>();
        rounds.add(baseClasses);
        for (int c = 5; c < 10; c++) {
            rounds.add(List.of(c));
        }
        return new Source("Fashion-MNIST (" + dir + ")", train.withClasses(baseClasses.stream().mapToInt(Integer::intValue).toArray()), 5, 5, 10, 4, train, test, rounds, 200, 200,
                List.of(784, 256, 64));
    }

    private static LabelledDataset idx(java.nio.file.Path dir, String prefix) {
        java.nio.file.Path images = pick(dir, prefix + "-images-idx3-ubyte");
        java.nio.file.Path labels = pick(dir, prefix + "-labels-idx1-ubyte");
        try {
            return Idx.readDataset(images, labels, 1.0 / 255);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read Fashion-MNIST from " + dir + ": " + e.getMessage()
                    + " (apt-get install dataset-fashion-mnist puts the files in /usr/share/datasets/fashion-mnist)", e);
        }
    }

    private static java.nio.file.Path pick(java.nio.file.Path dir, String name) {
        java.nio.file.Path plain = dir.resolve(name);
        return java.nio.file.Files.exists(plain) ? plain : dir.resolve(name + ".gz");
    }

    /**
     * One round's line of the table.
     *
     * @param round          1-based
     * @param newClasses     classes that arrived
     * @param classesSeen    classes known after the round
     * @param clients        clients that reported
     * @param examples       training examples merged this round
     * @param accuracyAll    on held-out examples of every class seen
     * @param accuracyNew    on this round's classes (among all seen)
     * @param accuracyFirst  on the first round's classes (among all seen)
     * @param maxDifference  largest |merged - centralised| prototype coordinate
     */
    record Round(int round, List<Integer> newClasses, int classesSeen, int clients, int examples, double accuracyAll,
                 double accuracyNew, double accuracyFirst, double maxDifference) {
    }

    /**
     * The experiment's outcome.
     *
     * @param data               what the examples are
     * @param rounds             one line per round
     * @param untrainedAccuracy  final-round accuracy on all classes with the untrained embedding
     * @param pretrainLoss       the embedding's last meta-training loss
     */
    record Result(String data, List<Round> rounds, double untrainedAccuracy, double pretrainLoss) {
        /** The table in Markdown. */
        String markdown() {
            StringBuilder s = new StringBuilder();
            s.append("Federated reconnaissance on ").append(data).append("\n\n");
            s.append("| round | new classes | classes seen | clients | examples merged | accuracy, all seen | accuracy, new |"
                    + " accuracy, round-1 classes | max abs merged - centralised |\n");
            s.append("|---|---|---|---|---|---|---|---|---|\n");
            for (Round r : rounds) {
                s.append(String.format(Locale.ROOT, "| %d | %s | %d | %d | %d | %.3f | %.3f | %.3f | %.2g |%n", r.round(),
                        range(r.newClasses()), r.classesSeen(), r.clients(), r.examples(), r.accuracyAll(), r.accuracyNew(),
                        r.accuracyFirst(), r.maxDifference()));
            }
            s.append(String.format(Locale.ROOT, "%nChance after the last round: %.3f. The same prototypes with the untrained embedding:"
                    + " %.3f. Embedding meta-training loss at the end: %.3f.%n", 1.0 / rounds.get(rounds.size() - 1).classesSeen(),
                    untrainedAccuracy, pretrainLoss));
            return s.toString();
        }

        private static String range(List<Integer> classes) {
            return classes.size() == 1 ? classes.get(0).toString() : classes.get(0) + "-" + classes.get(classes.size() - 1);
        }
    }

    private FederatedReconnaissance() {
    }

    /** Runs the experiment: pre-training here, each round's clients as Spark tasks on {@code spark}. */
    static Result run(JavaSparkContext spark, Engine engine, Config config, PrintWriter log) {
        requireNonNull(spark, "spark is null");
        Source source = config.dataset().equals("clusters") ? clusters(config) : fashionMnist(config);
        Engine f32 = engine.withDefaultDType(DType.FLOAT32);
        Mlp mlp = Mlp.of(source.sizes(), Activation.RELU);
        Map<String, TensorData> untrained;
        Map<String, TensorData> trained;
        double pretrainLoss;
        FewShotEpisodes episodes = new FewShotEpisodes(source.pretrain(), source.ways(), source.shots(), source.queries(), true);
        MetaObjective objective = new MetaObjective(f32, new PrototypicalNetwork(mlp), episodes, episodes, source.metaBatch(), 0,
                List.of(0), 0);
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(1e-3), config.seed())) {
            untrained = hostCopy(loop.params());
            double loss = Double.NaN;
            for (int i = 0; i < config.pretrainSteps(); i++) {
                loss = loop.step();
            }
            pretrainLoss = loss;
            trained = hostCopy(loop.params());
        }
        log.printf(Locale.ROOT, "embedding %s meta-trained on %s for %d steps (prototypical network, %d-way %d-shot): loss %.3f%n",
                source.sizes(), source.description(), config.pretrainSteps(), source.ways(), source.shots(), pretrainLoss);

        LabelledDataset data = source.pool();
        int dims = data.exampleShape().sizeAsInt();
        Split split = split(source, config);

        Broadcast<byte[]> broadcast = spark.broadcast(Safetensors.toBytes(trained, Map.of()));
        PrototypeBank bank = new PrototypeBank();
        List<Round> rows = new ArrayList<>();
        List<Integer> seen = new ArrayList<>();
        List<Integer> firstRound = source.rounds().get(0);
        try {
            for (int r = 0; r < source.rounds().size(); r++) {
                List<Integer> arriving = source.rounds().get(r);
                seen.addAll(arriving);
                List<ClientData> clients = clientData(data, split, arriving, config.clients(), dims);
                List<ClientPrototypes> reports = spark.parallelize(clients, clients.size())
                        .map(new ClientTask(broadcast, source.sizes(), "relu", config.backendName())).collect();
                int examples = 0;
                for (ClientPrototypes report : reports) {
                    bank.merge(report);
                    examples += report.counts().values().stream().mapToInt(Integer::intValue).sum();
                }
                PrototypeBank central = centralised(mlp, trained, data, split, seen, f32);
                double maxDifference = 0;
                for (int label : seen) {
                    double[] a = bank.prototype(label);
                    double[] b = central.prototype(label);
                    for (int d = 0; d < a.length; d++) {
                        maxDifference = Math.max(maxDifference, Math.abs(a[d] - b[d]));
                    }
                }
                rows.add(new Round(r + 1, arriving, bank.classes(), reports.size(), examples,
                        accuracy(bank, mlp, trained, source.test(), split, seen, f32),
                        accuracy(bank, mlp, trained, source.test(), split, arriving, f32),
                        accuracy(bank, mlp, trained, source.test(), split, firstRound, f32), maxDifference));
                log.printf(Locale.ROOT, "round %d: classes %s from %d clients, accuracy on all %d seen %.3f%n", r + 1, arriving,
                        reports.size(), bank.classes(), rows.get(rows.size() - 1).accuracyAll());
            }
        } finally {
            broadcast.destroy();
        }
        PrototypeBank untrainedBank = centralised(mlp, untrained, data, split, seen, f32);
        double untrainedAccuracy = accuracy(untrainedBank, mlp, untrained, source.test(), split, seen, f32);
        return new Result(source.description(), rows, untrainedAccuracy, pretrainLoss);
    }

    /** Held-out and training examples of each class, and which client holds which training example. */
    private record Split(Map<Integer, List<Integer>> test, Map<Integer, List<Integer>> train, Map<Integer, Integer> clientOf) {
    }

    /**
     * Per class, in a seeded random order: held-out examples (the first {@code testPerClass} of the
     * pool when the pool is also the test set, else of the test set) and up to
     * {@code trainPerClass} training examples, which go to two clients (one when there is one)
     * with an uneven random cut, so clients hold different numbers of a class's examples and
     * count-weighting matters.
     */
    private static Split split(Source source, Config config) {
        Map<Integer, List<Integer>> poolByClass = byClass(source.pool());
        Map<Integer, List<Integer>> testByClass = source.test() == source.pool() ? poolByClass : byClass(source.test());
        RandomStream rng = RandomStream.of(config.seed() * 31 + 11);
        Map<Integer, List<Integer>> test = new LinkedHashMap<>();
        Map<Integer, List<Integer>> train = new LinkedHashMap<>();
        Map<Integer, Integer> clientOf = new LinkedHashMap<>();
        for (List<Integer> round : source.rounds()) {
            for (int label : round) {
                List<Integer> members = shuffled(poolByClass.get(label), rng);
                List<Integer> rest;
                if (source.test() == source.pool()) {
                    test.put(label, members.subList(0, source.testPerClass()));
                    rest = members.subList(source.testPerClass(), members.size());
                } else {
                    List<Integer> held = shuffled(testByClass.get(label), rng);
                    test.put(label, held.subList(0, Math.min(source.testPerClass(), held.size())));
                    rest = members;
                }
                rest = rest.subList(0, Math.min(source.trainPerClass(), rest.size()));
                train.put(label, rest);
                int a = rng.nextInt(config.clients());
                int b = config.clients() == 1 ? a : (a + 1 + rng.nextInt(config.clients() - 1)) % config.clients();
                int cut = 1 + rng.nextInt(rest.size() - 1);
                for (int j = 0; j < rest.size(); j++) {
                    clientOf.put(rest.get(j), j < cut ? a : b);
                }
            }
        }
        return new Split(test, train, clientOf);
    }

    private static Map<Integer, List<Integer>> byClass(LabelledDataset data) {
        Map<Integer, List<Integer>> out = new LinkedHashMap<>();
        for (int i = 0; i < data.size(); i++) {
            out.computeIfAbsent(data.label(i), l -> new ArrayList<>()).add(i);
        }
        return out;
    }

    private static List<Integer> shuffled(List<Integer> members, RandomStream rng) {
        if (members == null || members.size() < 3) {
            throw new IllegalArgumentException("a class needs at least 3 examples, got " + members);
        }
        List<Integer> out = new ArrayList<>(members);
        for (int i = out.size() - 1; i > 0; i--) {
            java.util.Collections.swap(out, i, rng.nextInt(i + 1));
        }
        return out;
    }

    private static List<ClientData> clientData(LabelledDataset data, Split split, List<Integer> classes, int clients, int dims) {
        List<ClientData> out = new ArrayList<>();
        for (int client = 0; client < clients; client++) {
            List<Integer> mine = new ArrayList<>();
            for (int label : classes) {
                for (int i : split.train().get(label)) {
                    if (split.clientOf().get(i) == client) {
                        mine.add(i);
                    }
                }
            }
            if (!mine.isEmpty()) {
                out.add(new ClientData(client, features(data, mine, dims), labels(data, mine), dims));
            }
        }
        return out;
    }

    private static PrototypeBank centralised(Mlp mlp, Map<String, TensorData> params, LabelledDataset data,
            Split split, List<Integer> classes, Engine engine) {
        PrototypeBank bank = new PrototypeBank();
        int dims = data.exampleShape().sizeAsInt();
        for (int label : classes) {
            List<Integer> members = split.train().get(label);
            double[][] z = embed(mlp, params, features(data, members, dims), dims, engine);
            double[] mean = new double[z[0].length];
            for (double[] row : z) {
                for (int d = 0; d < mean.length; d++) {
                    mean[d] += row[d];
                }
            }
            for (int d = 0; d < mean.length; d++) {
                mean[d] /= z.length;
            }
            bank.merge(label, mean, z.length);
        }
        return bank;
    }

    private static double accuracy(PrototypeBank bank, Mlp mlp, Map<String, TensorData> params,
            LabelledDataset data, Split split, List<Integer> classes, Engine engine) {
        List<Integer> examples = new ArrayList<>();
        for (int label : classes) {
            examples.addAll(split.test().get(label));
        }
        int dims = data.exampleShape().sizeAsInt();
        double[][] z = embed(mlp, params, features(data, examples, dims), dims, engine);
        int hits = 0;
        for (int i = 0; i < z.length; i++) {
            if (bank.classify(z[i]) == data.label(examples.get(i))) {
                hits++;
            }
        }
        return hits / (double) z.length;
    }

    private static double[][] embed(Mlp mlp, Map<String, TensorData> params, float[] x, int dims, Engine engine) {
        try (Scope scope = Scope.open()) {
            return embed(mlp, ParamBytes.toParams(params, engine), x, dims, engine);
        }
    }

    /** Embeddings {@code [n][D]} of row-major examples {@code x} ({@code n * dims} values). */
    static double[][] embed(Mlp mlp, Params params, float[] x, int dims, Engine engine) {
        int n = x.length / dims;
        Tensor z = mlp.apply(params, engine.tensor(x, n, dims));
        double[] flat = z.toDoubles();
        int d = z.dim(1);
        double[][] out = new double[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }

    private static float[] features(LabelledDataset data, List<Integer> examples, int dims) {
        float[] out = new float[examples.size() * dims];
        for (int j = 0; j < examples.size(); j++) {
            data.copyExample(examples.get(j), out, j * dims);
        }
        return out;
    }

    private static int[] labels(LabelledDataset data, List<Integer> examples) {
        int[] out = new int[examples.size()];
        for (int j = 0; j < out.length; j++) {
            out[j] = data.label(examples.get(j));
        }
        return out;
    }

    private static Map<String, TensorData> hostCopy(Params params) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (String name : params.names()) {
            out.put(name, TensorData.of(params.get(name)));
        }
        return out;
    }
}
