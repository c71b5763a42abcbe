package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.train.BuildContext;
import dev.metaforge.api.train.Objective;
import dev.metaforge.api.train.ShardedObjective;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.TrainingCluster;
import dev.metaforge.api.train.TrainingException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * A connection to Spark that turns a run's objective into a {@link DistributedObjective}. At
 * {@link #decorate} it broadcasts the run's {@link RunBlueprint} and runs a probe job in which
 * every shard's executor opens its backend and rebuilds the objective, so missing backends,
 * unreadable data or absent executors fail before the first step with a message naming the fix.
 */
final class SparkTrainingSession implements TrainingCluster.Session {
    private final JavaSparkContext spark;
    private final boolean ownsContext;
    private final SparkSettings settings;
    private final PrintWriter log;
    private final List<Broadcast<RunBlueprint>> runs = new ArrayList<>();
    private final List<DistributedObjective> objectives = new ArrayList<>();
    private String description;

    /**
     * @param spark       the Spark context
     * @param ownsContext true to stop the context at {@link #close()}
     * @param settings    how to split and where to run
     * @param log         progress messages
     */
    SparkTrainingSession(JavaSparkContext spark, boolean ownsContext, SparkSettings settings, PrintWriter log) {
        this.spark = requireNonNull(spark, "spark is null");
        this.ownsContext = ownsContext;
        this.settings = requireNonNull(settings, "settings is null");
        this.log = requireNonNull(log, "log is null");
        this.description = "spark " + spark.master() + ": default parallelism " + spark.defaultParallelism();
    }

    @Override
    public Objective decorate(Objective objective, TrainSpec spec, BuildContext context) {
        requireNonNull(objective, "objective is null");
        if (!(objective instanceof ShardedObjective sharded)) {
            throw new TrainingException("experiment '" + experimentType(spec, context) + "' cannot run on Spark: its objective ("
                    + objective.getClass().getSimpleName() + ") does not split a step's loss over examples, tasks or conditions"
                    + " (ShardedObjective). Experiments that can: maml, meta-sgd, anil, reptile, protonet, regression, hypernetwork."
                    + " Run it without --spark");
        }
        int units = sharded.shardUnits(0);
        int wanted = settings.shards() > 0 ? settings.shards() : spark.defaultParallelism();
        int shards = Math.min(wanted, units);
        if (shards < wanted) {
            log.println("spark: " + wanted + " shards asked for but a step has only " + units + " " + sharded.unitName()
                    + "; using " + shards);
        }
        if (shards > 1 && !sharded.shardable()) {
            throw new TrainingException("this experiment's steps cannot be split over executors: " + sharded
                    + " does not say how its loss splits over " + sharded.unitName() + "; run it with --shards 1 or without --spark");
        }
        RunBlueprint blueprint = new RunBlueprint(UUID.randomUUID().toString(), context.specs().write(spec),
                context.baseDir().toAbsolutePath().toString(), settings.executorBackend(), settings.executorThreads(),
                settings.failStep(), settings.failShard());
        Broadcast<RunBlueprint> broadcast = spark.broadcast(blueprint);
        runs.add(broadcast);
        List<ProbeTask.Report> reports = probe(broadcast, units, shards);
        String driverBackend = context.engine().backend().name();
        Set<String> backends = reports.stream().map(ProbeTask.Report::backend).collect(Collectors.toCollection(LinkedHashSet::new));
        Set<String> hosts = reports.stream().map(ProbeTask.Report::host).collect(Collectors.toCollection(LinkedHashSet::new));
        description = "spark " + spark.master() + ": " + shards + " shards of " + units + " " + sharded.unitName()
                + " per step on " + hosts.size() + " host(s), executor backend " + String.join("/", backends);
        log.println(description);
        if (!backends.equals(Set.of(driverBackend))) {
            log.println("spark: note: the driver computes on '" + driverBackend + "' but executors on " + backends
                    + "; results will differ from a single-process run in the last bits");
        }
        log.flush();
        DistributedObjective distributed = new DistributedObjective(sharded, context.engine(), spark, broadcast, shards,
                settings.stepTimeoutMs());
        objectives.add(distributed);
        return distributed;
    }

    private List<ProbeTask.Report> probe(Broadcast<RunBlueprint> blueprint, int units, int shards) {
        List<ProbeTask.Report> reports;
        try {
            reports = SparkJobs.await(spark, "starting " + shards + " Spark task(s)", settings.startTimeoutMs(),
                    () -> spark.parallelize(ShardRange.partition(units, shards), shards).map(new ProbeTask(blueprint)).collect());
        } catch (SparkException e) {
            throw new TrainingException("the Spark executors could not start: " + SparkJobs.rootMessage(e)
                    + ". Executors need the Metaforge jars (spark.jars or spark.executor.extraClassPath)", e);
        }
        for (ProbeTask.Report r : reports) {
            if (r.problem() != null) {
                String problem = r.problem().strip();
                if (problem.endsWith(".")) {
                    problem = problem.substring(0, problem.length() - 1);
                }
                throw new TrainingException("a Spark executor on " + r.host() + " could not set up shard " + r.shard() + ": "
                        + problem + ". Executors need a Metaforge backend on their classpath (metaforge-backend-djl or"
                        + " metaforge-backend-dl4j with its natives, through spark.jars or spark.executor.extraClassPath), or name"
                        + " an available one with --spark-conf " + SparkSettings.EXECUTOR_BACKEND + "=NAME; data files named in the"
                        + " spec must be readable on every executor");
            }
            if (r.units() != units) {
                throw new TrainingException("the executor on " + r.host() + " built an objective with " + r.units()
                        + " units per step, the driver one with " + units + ": do executors run another Metaforge version?");
            }
        }
        return reports;
    }

    /** The distributed objectives this session made, in order (for statistics). */
    List<DistributedObjective> objectives() {
        return List.copyOf(objectives);
    }

    JavaSparkContext sparkContext() {
        return spark;
    }

    @Override
    public String describe() {
        return description;
    }

    /** Frees the runs' broadcasts and this JVM's workers, then stops Spark if this session started it. */
    @Override
    public void close() {
        for (Broadcast<RunBlueprint> run : runs) {
            run.value().closePool();
            run.destroy();
        }
        runs.clear();
        if (ownsContext) {
            spark.stop();
        }
    }

    /** The experiment's "type" as written in the spec. */
    private static String experimentType(TrainSpec spec, BuildContext context) {
        try {
            return context.specs().mapper().readTree(context.specs().write(spec.experiment())).path("type").asText("?");
        } catch (java.io.IOException | RuntimeException e) {
            return spec.experiment().getClass().getSimpleName();
        }
    }
}
