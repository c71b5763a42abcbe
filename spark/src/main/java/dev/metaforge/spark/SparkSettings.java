package dev.metaforge.spark;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.train.TrainingCluster;
import dev.metaforge.api.train.TrainingException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;

/**
 * How a run uses Spark, from the CLI's {@code --spark MASTER} and {@code --spark-conf KEY=VALUE}:
 * {@code spark.*} keys go to Spark unchanged; {@code metaforge.spark.*} keys are Metaforge's own
 * (see {@link #KEYS}). Checked before Spark starts, so a typo or an unreachable master fails at once
 * with a message naming what to fix.
 *
 * @param master           the master URL given to Spark (local masters get Spark's task retries, see {@link #parse})
 * @param sparkConf        {@code spark.*} settings, defaults filled in
 * @param shards           shards per step (0: Spark's default parallelism)
 * @param executorBackend  backend executors open (null: the selection rule on each executor)
 * @param executorThreads  intra-op threads of each executor backend (0: its default)
 * @param startTimeoutMs   how long the first job may wait for executors
 * @param stepTimeoutMs    how long a step's job may take (0: no limit)
 * @param failStep         drill: the first attempt of shard {@code failShard} at this step fails (-1: never)
 * @param failShard        see {@code failStep}
 */
record SparkSettings(String master, Map<String, String> sparkConf, int shards, String executorBackend, int executorThreads,
                     long startTimeoutMs, long stepTimeoutMs, long failStep, int failShard) {
    static final String EXECUTOR_BACKEND = "metaforge.spark.executorBackend";
    static final String EXECUTOR_THREADS = "metaforge.spark.executorThreads";
    static final String START_TIMEOUT = "metaforge.spark.startTimeoutSeconds";
    static final String STEP_TIMEOUT = "metaforge.spark.stepTimeoutSeconds";
    static final String CONNECT_TIMEOUT = "metaforge.spark.connectTimeoutSeconds";
    static final String INJECT_FAILURE = "metaforge.spark.injectFailure";
    /** Metaforge's own settings. */
    static final List<String> KEYS = List.of(EXECUTOR_BACKEND, EXECUTOR_THREADS, START_TIMEOUT, STEP_TIMEOUT, CONNECT_TIMEOUT, INJECT_FAILURE);
    /** Settings that make Spark download jars at run time (Ivy): refused. */
    static final List<String> DOWNLOADING = List.of("spark.jars.packages", "spark.jars.repositories", "spark.jars.ivy",
            "spark.jars.ivySettings");
    /** Spark's default number of attempts per task (spark.task.maxFailures). */
    static final int DEFAULT_MAX_FAILURES = 4;

    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:\\s*,\\s*(\\d+))?\\])?");

    SparkSettings {
        requireNonNull(master, "master is null");
        sparkConf = Map.copyOf(sparkConf);
    }

    /**
     * Reads a cluster configuration. Local masters ({@code local}, {@code local[N]},
     * {@code local[*]}) run with {@code spark.task.maxFailures} attempts per task (default 4), as
     * a cluster does, so a failed task is retried; Spark's own local mode would not retry.
     */
    static SparkSettings parse(TrainingCluster.Config config) {
        Map<String, String> spark = new LinkedHashMap<>();
        Map<String, String> own = new LinkedHashMap<>();
        config.properties().forEach((k, v) -> {
            if (k.startsWith("spark.")) {
                spark.put(k, v);
            } else if (k.startsWith("metaforge.")) {
                if (!KEYS.contains(k)) {
                    throw new TrainingException("unknown setting --spark-conf " + k + "; Metaforge's are " + KEYS
                            + ", and every spark.* key goes to Spark");
                }
                own.put(k, v);
            } else {
                throw new TrainingException("--spark-conf " + k + ": settings are spark.* (for Spark) or " + KEYS);
            }
        });
        for (String key : DOWNLOADING) {
            if (spark.containsKey(key)) {
                throw new TrainingException("--spark-conf " + key + " would make Spark download jars at run time, which Metaforge"
                        + " never does; put the jars on the classpath or list local files in spark.jars");
            }
        }
        String master = normalizeMaster(config.master().trim(), spark);
        boolean local = master.startsWith("local");
        spark.putIfAbsent("spark.app.name", "metaforge");
        spark.putIfAbsent("spark.ui.enabled", "false");
        spark.putIfAbsent("spark.ui.showConsoleProgress", "false");
        if (local) {
            // One machine: no name lookup of this host (fails in sandboxes and on misconfigured laptops).
            spark.putIfAbsent("spark.driver.host", "127.0.0.1");
            spark.putIfAbsent("spark.driver.bindAddress", "127.0.0.1");
        } else if (!spark.containsKey("spark.jars") && !spark.containsKey("spark.executor.extraClassPath")) {
            // A cluster: executors load Metaforge, its plugins and a backend from the same paths as this driver
            // (a shared installation); otherwise list the jars in spark.jars.
            spark.put("spark.executor.extraClassPath", System.getProperty("java.class.path", ""));
        }
        long[] failure = parseFailure(own.get(INJECT_FAILURE));
        String backend = own.get(EXECUTOR_BACKEND);
        return new SparkSettings(master, spark, config.shards(), backend != null ? backend : config.backendName(),
                nonNegativeInt(own, EXECUTOR_THREADS, 0), seconds(own, START_TIMEOUT, 120), seconds(own, STEP_TIMEOUT, 0),
                failure[0], (int) failure[1]);
    }

    /** The connect timeout for {@link #checkReachable}. */
    static long connectTimeoutMillis(TrainingCluster.Config config) {
        Map<String, String> own = new LinkedHashMap<>();
        config.properties().forEach((k, v) -> {
            if (k.equals(CONNECT_TIMEOUT)) {
                own.put(k, v);
            }
        });
        return seconds(own, CONNECT_TIMEOUT, 5);
    }

    private static String normalizeMaster(String master, Map<String, String> spark) {
        if (master.isEmpty()) {
            throw new TrainingException("--spark needs a master URL: local[N] (N threads on this machine) or spark://HOST:PORT");
        }
        if (master.startsWith("local-cluster")) {
            return master;
        }
        if (master.startsWith("local")) {
            Matcher m = LOCAL.matcher(master);
            if (!m.matches()) {
                throw new TrainingException("--spark " + master + " is not a local master; write local, local[N], local[*] or local[N,F]"
                        + " (N threads, F attempts per task)");
            }
            String threads = m.group(1) == null ? "1" : m.group(1);
            if (!threads.equals("*") && Integer.parseInt(threads) < 1) {
                throw new TrainingException("--spark " + master + ": local[N] needs N >= 1 threads");
            }
            String attempts = m.group(2) != null ? m.group(2)
                    : spark.getOrDefault("spark.task.maxFailures", Integer.toString(DEFAULT_MAX_FAILURES));
            return "local[" + threads + "," + attempts + "]";
        }
        if (master.startsWith("spark://") || master.startsWith("yarn") || master.startsWith("k8s://")) {
            return master;
        }
        throw new TrainingException("--spark " + master + " is not a Spark master URL; use local[N], spark://HOST:PORT"
                + " (a standalone master), yarn or k8s://...");
    }

    /**
     * For {@code spark://} masters, a TCP connection to each listed master, so an unreachable one
     * fails in seconds with its address instead of after Spark's registration retries.
     */
    static void checkReachable(String master, long timeoutMillis) {
        if (!master.startsWith("spark://")) {
            return;
        }
        String hosts = master.substring("spark://".length());
        IOException last = null;
        for (String hostPort : hosts.split(",")) {
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || colon == hostPort.length() - 1) {
                throw new TrainingException("--spark " + master + ": write spark://HOST:PORT (the master's URL as its web UI"
                        + " shows it, port 7077 by default)");
            }
            String host = hostPort.substring(0, colon);
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new TrainingException("--spark " + master + ": the port of " + hostPort + " is not a number", e);
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
                return;   // one reachable master is enough (standby masters)
            } catch (IOException e) {
                last = e;
            }
        }
        throw new TrainingException("cannot reach the Spark master " + master + " (" + describe(last) + "): check the --spark URL"
                + " (spark://HOST:PORT as the master's web UI shows it), that the master is running, and that this machine"
                + " may connect to it", last);
    }

    private static String describe(IOException e) {
        String m = e == null ? null : e.getMessage();
        return e == null ? "no address" : e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static long[] parseFailure(String value) {
        if (value == null) {
            return new long[] {-1, -1};
        }
        String[] parts = value.split(":");
        try {
            if (parts.length == 2) {
                long step = Long.parseLong(parts[0].trim());
                int shard = Integer.parseInt(parts[1].trim());
                if (step >= 0 && shard >= 0) {
                    return new long[] {step, shard};
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new TrainingException(INJECT_FAILURE + "=" + value + ": write STEP:SHARD (0-based), e.g. 3:1");
    }

    private static long seconds(Map<String, String> own, String key, long defaultSeconds) {
        String v = own.get(key);
        if (v == null) {
            return defaultSeconds * 1000;
        }
        try {
            double s = Double.parseDouble(v.trim());
            if (s >= 0 && Double.isFinite(s)) {
                return (long) (s * 1000);
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new TrainingException(key + "=" + v + ": expected a non-negative number of seconds");
    }

    private static int nonNegativeInt(Map<String, String> own, String key, int defaultValue) {
        String v = own.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new TrainingException(key + "=" + v + ": expected a non-negative integer");
    }

    /** The Spark configuration: the master and every spark.* setting. */
    SparkConf toSparkConf() {
        SparkConf conf = new SparkConf(true).setMaster(master);
        sparkConf.forEach(conf::set);
        return conf;
    }

    /** True for local[...] masters. */
    boolean isLocal() {
        return master.toLowerCase(Locale.ROOT).startsWith("local");
    }
}
