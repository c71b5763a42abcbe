package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import java.io.PrintWriter;
import java.util.Map;

/**
 * A compute cluster that takes over the gradients of training steps, found through
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.metaforge.api.train.TrainingCluster}):
 * the {@code metaforge-spark} module provides {@code "spark"}. The CLI's {@code --spark MASTER}
 * looks it up by name, so neither the CLI nor the core depend on a cluster engine.
 *
 * <pre>{@code
 * try (TrainingCluster.Session session = cluster.connect(new TrainingCluster.Config("local[2]", Map.of(), 0, null, err))) {
 *     new Trainer(engine, specs, err, false).withObjectiveDecorator(session).train(spec, baseDir, outDir, false);
 * }
 * }</pre>
 */
public interface TrainingCluster {
    /** The name the CLI asks for, e.g. "spark". */
    String name();

    /**
     * Connects to the cluster, failing fast with a message that names what to fix (an
     * unreachable master, a malformed master URL, executors without a backend).
     *
     * @throws TrainingException when the cluster cannot be used
     */
    Session connect(Config config);

    /** A connection: decorates objectives so their steps run on the cluster; closing it disconnects. */
    interface Session extends ObjectiveDecorator, AutoCloseable {
        /** One line for the progress output, e.g. "spark local[2]: 2 shards, backend djl on executors". */
        String describe();

        @Override
        void close();
    }

    /**
     * What to connect to and how to split steps.
     *
     * @param master      the cluster's address, e.g. {@code local[2]} or {@code spark://host:7077}
     * @param properties  engine settings passed through (e.g. {@code spark.executor.memory})
     * @param shards      shards per step (0: the cluster's default parallelism)
     * @param backendName the backend executors open (null: the selection rule on each executor)
     * @param log         where messages go (the progress stream)
     */
    record Config(String master, Map<String, String> properties, int shards, String backendName, PrintWriter log) {
        public Config {
            requireNonNull(master, "master is null");
            properties = Map.copyOf(requireNonNull(properties, "properties is null"));
            requireNonNull(log, "log is null");
            if (shards < 0) {
                throw new IllegalArgumentException("shards must be >= 0 (0: the cluster's default), got " + shards);
            }
        }
    }
}
