package dev.metaforge.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.metaforge.api.checkpoint.AtomicFiles;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.TrainingCluster;
import dev.metaforge.api.train.TrainingException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code metaforge federated [--spark local[2]] [--dataset clusters|fashion-mnist] [--data-dir DIR] [--clients 4]
 * [--rounds 5] [--classes-per-round 4] [--pretrain-steps 300] [--seed 0] [--backend NAME] [--out runs/federated]}: runs
 * {@link FederatedReconnaissance} with each round's clients as Spark tasks, prints the accuracy
 * table and writes it to {@code OUT/federated.md} and {@code OUT/federated.json}.
 */
public final class FederatedMain {
    private static final List<String> OPTIONS = List.of("--spark", "--spark-conf", "--dataset", "--data-dir", "--clients", "--rounds",
            "--classes-per-round", "--pretrain-steps", "--seed", "--backend", "--out");

    private FederatedMain() {
    }

    public static void main(String[] args) {
        PrintWriter err = new PrintWriter(System.err, true);
        try {
            System.exit(run(args, err, new PrintWriter(System.out, true)));
        } catch (TrainingException | IllegalArgumentException | IOException e) {
            err.println("metaforge federated: " + e.getMessage());
            System.exit(2);
        }
    }

    static int run(String[] args, PrintWriter err, PrintWriter out) throws IOException {
        Map<String, String> options = new LinkedHashMap<>();
        Map<String, String> sparkConf = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                out.println("usage: metaforge federated [--spark MASTER] [--spark-conf K=V] [--dataset fashion-mnist|clusters]"
                        + " [--data-dir DIR] [--clients N] [--rounds N] [--classes-per-round N] [--pretrain-steps N] [--seed N]"
                        + " [--backend NAME] [--out DIR]");
                return 0;
            }
            if (!OPTIONS.contains(args[i]) || i + 1 >= args.length) {
                throw new IllegalArgumentException("unknown option or missing value: " + args[i] + "; options: " + OPTIONS);
            }
            String value = args[++i];
            if (args[i - 1].equals("--spark-conf")) {
                int eq = value.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--spark-conf needs KEY=VALUE, got " + value);
                }
                sparkConf.put(value.substring(0, eq), value.substring(eq + 1));
            } else {
                options.put(args[i - 1], value);
            }
        }
        FederatedReconnaissance.Config d = FederatedReconnaissance.Config.defaults();
        String backend = options.get("--backend");
        FederatedReconnaissance.Config config = new FederatedReconnaissance.Config(
                Long.parseLong(options.getOrDefault("--seed", Long.toString(d.seed()))), options.getOrDefault("--dataset", d.dataset()),
                Path.of(options.getOrDefault("--data-dir", d.dataDir().toString())),
                Integer.parseInt(options.getOrDefault("--rounds", Integer.toString(d.rounds()))),
                Integer.parseInt(options.getOrDefault("--classes-per-round", Integer.toString(d.classesPerRound()))),
                Integer.parseInt(options.getOrDefault("--clients", Integer.toString(d.clients()))),
                Integer.parseInt(options.getOrDefault("--pretrain-steps", Integer.toString(d.pretrainSteps()))), backend);
        Path outDir = Path.of(options.getOrDefault("--out", "runs/federated"));
        TrainingCluster.Config clusterConfig = new TrainingCluster.Config(options.getOrDefault("--spark", "local[2]"), sparkConf, 0,
                backend, err);
        SparkSettings settings = SparkSettings.parse(clusterConfig);
        SparkSettings.checkReachable(settings.master(), SparkSettings.connectTimeoutMillis(clusterConfig));
        FederatedReconnaissance.Result result;
        JavaSparkContext spark = new JavaSparkContext(settings.toSparkConf());
        try (Engine engine = Engine.create(backend)) {
            err.println("federated reconnaissance on spark " + spark.master() + ": " + config.dataset() + ", " + config.clients()
                    + " clients, backend " + engine.backend().name());
            result = FederatedReconnaissance.run(spark, engine, config, err);
        } finally {
            spark.stop();
        }
        String table = result.markdown();
        out.println(table);
        Files.createDirectories(outDir);
        AtomicFiles.writeString(outDir.resolve("federated.md"), table);
        AtomicFiles.writeString(outDir.resolve("federated.json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(result) + "\n");
        return 0;
    }
}
