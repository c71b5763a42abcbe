package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.meta.LabelledDataset;
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
import dev.metaforge.plugins.meta.GaussianClusters;
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
 * centralised ones (all of a class's examples embedded in one place on the driver: the reference).
 * Data: generated Gaussian clusters with loud noise dimensions ({@link GaussianClusters}), so the
 * meta-trained embedding matters (the table states the untrained embedding's accuracy too).
 */
final class FederatedReconnaissance {
    /**
     * The experiment.
     *
     * @param seed              every random choice follows from it
     * @param baseClasses       classes the embedding is meta-trained on (disjoint from the new ones)
     * @param rounds            rounds of new classes
     * @param classesPerRound   new classes per round
     * @param clients           clients (Spark tasks) per round
     * @param examplesPerClass  examples generated per class
     * @param testPerClass      of which held out for evaluation
     * @param pretrainSteps     meta-training steps of the embedding (5-way 1-shot episodes)
     * @param sizes             the embedding MLP's layer sizes (input 16: 4 informative + 12 noise dimensions)
     * @param backendName       backend of the clients (null: the selection rule)
     */
    record Config(long seed, int baseClasses, int rounds, int classesPerRound, int clients, int examplesPerClass, int testPerClass,
                  int pretrainSteps, List<Integer> sizes, String backendName) {
        static final int INFORMATIVE = 4;
        static final int NOISE = 12;

        Config {
            if (baseClasses < 5 || rounds < 1 || classesPerRound < 1 || clients < 1 || testPerClass < 1
                    || examplesPerClass < testPerClass + 2 || pretrainSteps < 0) {
                throw new IllegalArgumentException("federated reconnaissance: need at least 5 base classes, 1 round, 1 class per round,"
                        + " 1 client, 1 test and 2 training examples per class; got " + baseClasses + " base classes, " + rounds
                        + " rounds, " + classesPerRound + " classes per round, " + clients + " clients, " + examplesPerClass
                        + " examples with " + testPerClass + " held out");
            }
            sizes = List.copyOf(sizes);
            if (sizes.get(0) != INFORMATIVE + NOISE) {
                throw new IllegalArgumentException("the embedding takes " + (INFORMATIVE + NOISE) + " features, got sizes " + sizes);
            }
        }

        static Config defaults() {
            return new Config(0, 64, 5, 4, 4, 40, 20, 300, List.of(16, 64, 16), null);
        }
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
     * @param rounds             one line per round
     * @param untrainedAccuracy  final-round accuracy on all classes with the untrained embedding
     * @param pretrainLoss       the embedding's last meta-training loss
     */
    record Result(List<Round> rounds, double untrainedAccuracy, double pretrainLoss) {
        /** The table in Markdown. */
        String markdown() {
            StringBuilder s = new StringBuilder();
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
        Engine f32 = engine.withDefaultDType(DType.FLOAT32);
        Mlp mlp = Mlp.of(config.sizes(), Activation.RELU);
        Map<String, TensorData> untrained;
        Map<String, TensorData> trained;
        double pretrainLoss;
        LabelledDataset base = GaussianClusters.generate(config.seed() + 7, 0, config.baseClasses(), 20, Config.INFORMATIVE, Config.NOISE, 0.3, 2.0);
        FewShotEpisodes episodes = new FewShotEpisodes(base, 5, 1, 5, true);
        MetaObjective objective = new MetaObjective(f32, new PrototypicalNetwork(mlp), episodes, episodes, 8, 0, List.of(0), 0);
        try (TrainingLoop loop = TrainingLoop.start(objective, Adam.adam(1e-3), config.seed())) {
            untrained = hostCopy(loop.params());
            double loss = Double.NaN;
            for (int i = 0; i < config.pretrainSteps(); i++) {
                loss = loop.step();
            }
            pretrainLoss = loss;
            trained = hostCopy(loop.params());
        }
        log.printf(Locale.ROOT, "embedding meta-trained on %d base classes for %d steps (prototypical network, 5-way 1-shot): loss %.3f%n",
                config.baseClasses(), config.pretrainSteps(), pretrainLoss);

        int first = config.baseClasses();
        int novel = config.rounds() * config.classesPerRound();
        LabelledDataset data = GaussianClusters.generate(config.seed() + 7, first, first + novel, config.examplesPerClass(),
                Config.INFORMATIVE, Config.NOISE, 0.3, 2.0);
        int dims = data.exampleShape().sizeAsInt();
        Split split = split(data, config);

        byte[] trainedBytes = Safetensors.toBytes(trained, Map.of());
        Broadcast<byte[]> broadcast = spark.broadcast(trainedBytes);
        PrototypeBank bank = new PrototypeBank();
        List<Round> rows = new ArrayList<>();
        List<Integer> seen = new ArrayList<>();
        List<Integer> firstRound = null;
        try {
            for (int r = 0; r < config.rounds(); r++) {
                List<Integer> arriving = new ArrayList<>();
                for (int c = 0; c < config.classesPerRound(); c++) {
                    arriving.add(first + r * config.classesPerRound() + c);
                }
                if (firstRound == null) {
                    firstRound = arriving;
                }
                seen.addAll(arriving);
                List<ClientData> clients = clientData(data, split, arriving, config.clients(), dims);
                List<ClientPrototypes> reports = spark.parallelize(clients, clients.size())
                        .map(new ClientTask(broadcast, config.sizes(), "relu", config.backendName())).collect();
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
                        accuracy(bank, mlp, trained, data, split, seen, f32), accuracy(bank, mlp, trained, data, split, arriving, f32),
                        accuracy(bank, mlp, trained, data, split, firstRound, f32), maxDifference));
                log.printf(Locale.ROOT, "round %d: classes %s from %d clients, accuracy on all %d seen %.3f%n", r + 1, arriving,
                        reports.size(), bank.classes(), rows.get(rows.size() - 1).accuracyAll());
            }
        } finally {
            broadcast.destroy();
        }
        PrototypeBank untrainedBank = centralised(mlp, untrained, data, split, seen, f32);
        double untrainedAccuracy = accuracy(untrainedBank, mlp, untrained, data, split, seen, f32);
        return new Result(rows, untrainedAccuracy, pretrainLoss);
    }

    /** Held-out and training examples of each class, and which client holds which training example. */
    private record Split(Map<Integer, List<Integer>> test, Map<Integer, List<Integer>> train, Map<Integer, Integer> clientOf) {
    }

    /**
     * Per class: the first {@code testPerClass} examples are held out; the rest go to two clients
     * (one when there is one) with an uneven random cut, so clients hold different numbers of a
     * class's examples and count-weighting matters.
     */
    private static Split split(LabelledDataset data, Config config) {
        Map<Integer, List<Integer>> byClass = new LinkedHashMap<>();
        for (int i = 0; i < data.size(); i++) {
            byClass.computeIfAbsent(data.label(i), l -> new ArrayList<>()).add(i);
        }
        RandomStream rng = RandomStream.of(config.seed() * 31 + 11);
        Map<Integer, List<Integer>> test = new LinkedHashMap<>();
        Map<Integer, List<Integer>> train = new LinkedHashMap<>();
        Map<Integer, Integer> clientOf = new LinkedHashMap<>();
        byClass.forEach((label, members) -> {
            test.put(label, members.subList(0, config.testPerClass()));
            List<Integer> rest = members.subList(config.testPerClass(), members.size());
            train.put(label, rest);
            int a = rng.nextInt(config.clients());
            int b = config.clients() == 1 ? a : (a + 1 + rng.nextInt(config.clients() - 1)) % config.clients();
            int cut = 1 + rng.nextInt(rest.size() - 1);
            for (int j = 0; j < rest.size(); j++) {
                clientOf.put(rest.get(j), j < cut ? a : b);
            }
        });
        return new Split(test, train, clientOf);
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
