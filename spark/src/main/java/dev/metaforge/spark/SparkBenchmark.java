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

    /** One configuration's measurements of one round. */
    private record Sample(String config, double stepsPerSecond, double stepMillis, double jobMillis, double shardMillis,
                          double broadcastBytes, double resultBytes) {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> options = options(args);
        int metaBatch = Integer.parseInt(options.getOrDefault("--meta-batch", "100"));
        int steps = Integer.parseInt(options.getOrDefault("--steps", "30"));
        int warmup = Integer.parseInt(options.getOrDefault("--warmup", "5"));
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

        List<Sample> samples = new ArrayList<>();
        try (Engine base = Engine.create()) {
            Engine engine = base.withDefaultDType(spec.engineDType());
            out.printf(Locale.ROOT, "MAML sinusoid, meta-batch %d, %d timed steps after %d warm-up, %d rounds, backend %s, %d cores%n",
                    metaBatch, steps, warmup, rounds, base.backend().name(), Runtime.getRuntime().availableProcessors());
            for (int round = 0; round < rounds; round++) {
                samples.add(inProcess(spec, specs, engine, baseDir, steps, warmup));
                for (int n : locals) {
                    samples.add(onSpark(spec, specs, engine, baseDir, n, steps, warmup));
                }
                out.println("round " + (round + 1) + ": " + samples.subList(samples.size() - 1 - locals.length, samples.size()));
            }
        }
        out.println();
        out.println("| configuration | meta-iterations/s | ms/iteration | Spark job ms | slowest shard ms | bytes broadcast/it | bytes returned/it |");
        out.println("|---|---|---|---|---|---|---|");
        List<String> configs = samples.stream().map(Sample::config).distinct().toList();
        for (String c : configs) {
            List<Sample> s = samples.stream().filter(x -> x.config().equals(c)).toList();
            out.printf(Locale.ROOT, "| %s | %.2f | %.1f | %s | %s | %.0f | %.0f |%n", c, median(s, Sample::stepsPerSecond),
                    median(s, Sample::stepMillis), c.equals("in-process") ? "-" : String.format(Locale.ROOT, "%.1f", median(s, Sample::jobMillis)),
                    c.equals("in-process") ? "-" : String.format(Locale.ROOT, "%.1f", median(s, Sample::shardMillis)),
                    median(s, Sample::broadcastBytes), median(s, Sample::resultBytes));
        }
    }

    private static Sample inProcess(TrainSpec spec, SpecRegistry specs, Engine engine, Path baseDir, int steps, int warmup) {
        Objective objective = spec.experiment().build(new BuildContext(engine, specs, baseDir, spec.seed()));
        double seconds = time(objective, spec, steps, warmup);
        return new Sample("in-process", steps / seconds, 1000 * seconds / steps, 0, 0, 0, 0);
    }

    private static Sample onSpark(TrainSpec spec, SpecRegistry specs, Engine engine, Path baseDir, int threads, int steps, int warmup) {
        TrainingCluster.Config config = new TrainingCluster.Config("local[" + threads + "]", Map.of(), threads, null,
                new PrintWriter(System.err, true));
        SparkSettings settings = SparkSettings.parse(config);
        JavaSparkContext spark = new JavaSparkContext(settings.toSparkConf());
        try (SparkTrainingSession session = new SparkTrainingSession(spark, true, settings, config.log())) {
            BuildContext context = new BuildContext(engine, specs, baseDir, spec.seed());
            Objective objective = session.decorate(spec.experiment().build(context), spec, context);
            // Warm-up steps are not counted: measure the stats of the timed steps only.
            double seconds = time(objective, spec, steps, warmup);
            SparkStats all = session.objectives().get(0).stats();
            return new Sample("local[" + threads + "], " + threads + " shard(s)", steps / seconds, 1000 * seconds / steps,
                    all.jobMillisPerStep(), all.slowestShardMillis(), all.broadcastBytesPerStep(), all.resultBytesPerStep());
        }
    }

    private static double time(Objective objective, TrainSpec spec, int steps, int warmup) {
        Optimizer optimizer = spec.optimizer().build();
        try (TrainingLoop loop = TrainingLoop.start(objective, optimizer, spec.seed())) {
            for (int i = 0; i < warmup; i++) {
                loop.step();
            }
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                loop.step();
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private static double median(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> f) {
        double[] v = samples.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
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
