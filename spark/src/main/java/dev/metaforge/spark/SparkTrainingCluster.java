package dev.metaforge.spark;

import dev.metaforge.api.train.TrainingCluster;
import dev.metaforge.api.train.TrainingException;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Apache Spark as a {@link TrainingCluster}, registered under {@code "spark"} through
 * {@code META-INF/services}: {@code metaforge train SPEC --spark local[2]} (or
 * {@code spark://HOST:PORT}) finds it on the classpath. Steps of sharded objectives are split over
 * executors with the exact single-process gradient (see {@link DistributedObjective}).
 */
public final class SparkTrainingCluster implements TrainingCluster {
    /** The name {@code --spark} looks up. */
    public static final String NAME = "spark";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Session connect(Config config) {
        SparkSettings settings = SparkSettings.parse(config);
        SparkSettings.checkReachable(settings.master(), SparkSettings.connectTimeoutMillis(config));
        JavaSparkContext spark;
        try {
            spark = new JavaSparkContext(settings.toSparkConf());
        } catch (RuntimeException e) {
            throw new TrainingException("cannot start Spark with master " + settings.master() + ": " + SparkJobs.rootMessage(e)
                    + " (check --spark and --spark-conf)", e);
        }
        return new SparkTrainingSession(spark, true, settings, config.log());
    }
}
