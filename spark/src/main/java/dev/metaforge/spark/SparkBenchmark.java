package dev.metaforge.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingCluster;
import dev.metaforge.api.train.TrainingLoop;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Meta-iterations per second of MAML on sinusoids (examples/maml-sinusoid.json with a larger
 * meta-batch) in process and on {@code local[N]} Spark with N shards, with the bytes that travel
 * per iteration and where a distributed step's time goes. Rounds alternate the configurations
 * (A B C A B C ...) so a noisy shared machine hits all of them alike; medians are reported.
 *
 * <pre>
 * ./metaforge spark-bench [--meta-batch 100] [--steps 30] [--rounds 3] [--locals 1,2] [--spec examples/maml-sinusoid.json]
 * </pre>
 */
public final class SparkBenchmark {
    private SparkBenchmark() {
    }

    /** Per-step measurements of one configuration, all rounds together. */
    private static final class Series {
        final String config;
        final List<Double> stepMillis = new ArrayList<>();
        final List<Double> jobMillis = new ArrayList<>();
        final List<Double> shardMillis = new ArrayList<>();
        double broadcastBytes;
        double resultBytes;

        Series(String config) {
            this.config = config;
        }
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> options = options(args);
        int metaBatch = Integer.parseInt(options.getOrDefault("--meta-batch", "100"));
        int steps = Integer.parseInt(options.getOrDefault("--steps", "30"));
        int warmup = Integer.parseInt(options.getOrDefault("--warmup", "20"));
        int rounds = Integer.parseInt(options.getOrDefault("--rounds", "3"));
        int[] locals = Arrays.stream(options.getOrDefault("--locals", "1,2").split(",")).mapToInt(Integer::parseInt).toArray();
        Path specFile = Path.of(options.getOrDefault("--spec", "examples/maml-sinusoid.json"));
        PrintWriter out = new PrintWriter(System.out, true);

        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(specFile.toFile());
        ((ObjectNode) root.get("experiment")).put("metaBatch", metaBatch);
        SpecRegistry specs = SpecRegistry.load(SparkBenchmark.class.getClassLoader());
        TrainSpec spec = specs.read(json.writeValueAsString(root), TrainSpec.class, specFile.toString());
        Path baseDir = specFile.toAbsolutePath().getParent();

        Map<String, Series> series = new LinkedHashMap<>();
        try (Engine base = Engine.create()) {
            Engine engine = base.withDefaultDType(spec.engineDType());
            out.printf(Locale.ROOT, "MAML sinusoid, meta-batch %d, %d timed steps after %d warm-up per configuration and round, %d rounds,"
                    + " backend %s, %d cores%n", metaBatch, steps, warmup, rounds, base.backend().name(),
                    Runtime.getRuntime().availableProcessors());
            for (int round = 0; round < rounds; round++) {
                inProcess(series.computeIfAbsent("in-process", Series::new), spec, specs, engine, baseDir, steps, warmup);
                for (int n : locals) {
                    onSpark(series.computeIfAbsent("local[" + n + "], " + n + " shard(s)", Series::new), spec, specs, engine, baseDir, n,
                            steps, warmup);
                }
                out.println("round " + (round + 1) + " done");
            }
        }
        out.println();
        out.println("| configuration | meta-iterations/s (median step) | median ms/iteration | 10th percentile ms | Spark job ms | slowest shard ms"
                + " | bytes broadcast/it | bytes returned/it |");
        out.println("|---|---|---|---|---|---|---|---|");
        for (Series s : series.values()) {
            boolean local = s.config.equals("in-process");
            double median = quantile(s.stepMillis, 0.5);
            out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %s | %s | %.0f | %.0f |%n", s.config, 1000 / median, median,
                    quantile(s.stepMillis, 0.1), local ? "-" : String.format(Locale.ROOT, "%.1f", quantile(s.jobMillis, 0.5)),
                    local ? "-" : String.format(Locale.ROOT, "%.1f", quantile(s.shardMillis, 0.5)), s.broadcastBytes, s.resultBytes);
        }
    }

    private static void inProcess(Series into, TrainSpec spec, SpecRegistry specs, Engine engine, Path baseDir, int steps, int warmup) {
        Objective objective = spec.experiment().build(new BuildContext(engine, specs, baseDir, spec.seed()));
        into.stepMillis.addAll(time(objective, spec, steps, warmup, null));
    }

    private static void onSpark(Series into, TrainSpec spec, SpecRegistry specs, Engine engine, Path baseDir, int threads, int steps,
            int warmup) {
        TrainingCluster.Config config = new TrainingCluster.Config("local[" + threads + "]", Map.of(), threads, null,
                new PrintWriter(System.err, true));
        SparkSettings settings = SparkSettings.parse(config);
        JavaSparkContext spark = new JavaSparkContext(settings.toSparkConf());
        try (SparkTrainingSession session = new SparkTrainingSession(spark, true, settings, config.log())) {
            BuildContext context = new BuildContext(engine, specs, baseDir, spec.seed());
            DistributedObjective objective = (DistributedObjective) session.decorate(spec.experiment().build(context), spec, context);
            into.stepMillis.addAll(time(objective, spec, steps, warmup, objective.stats()));
            SparkStats stats = objective.stats();
            into.jobMillis.add(stats.jobMillis());
            into.shardMillis.add(stats.slowestShardMillis());
            into.broadcastBytes = stats.broadcastBytesPerStep();
            into.resultBytes = stats.resultBytesPerStep();
        }
    }

    /** Per-step wall times after {@code warmup} untimed steps (which also clear {@code stats}). */
    private static List<Double> time(Objective objective, TrainSpec spec, int steps, int warmup, SparkStats stats) {
        Optimizer optimizer = spec.optimizer().build();
        List<Double> out = new ArrayList<>();
        try (TrainingLoop loop = TrainingLoop.start(objective, optimizer, spec.seed())) {
            for (int i = 0; i < warmup; i++) {
                loop.step();
            }
            if (stats != null) {
                stats.reset();
            }
            for (int i = 0; i < steps; i++) {
                long start = System.nanoTime();
                loop.step();
                out.add((System.nanoTime() - start) / 1e6);
            }
        }
        return out;
    }

    private static double quantile(List<Double> values, double q) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v[(int) Math.min(v.length - 1, Math.floor(q * v.length))];
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: spark-bench [--meta-batch N] [--steps N] [--warmup N] [--rounds N]"
                        + " [--locals 1,2] [--spec FILE]; got " + String.join(" ", args));
            }
            out.put(args[i], args[++i]);
        }
        return out;
    }
}
