package dev.metaforge.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.preflight.MemoryBudget;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.train.PreflightReport;
import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainSpec;
import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingCluster;
import dev.metaforge.api.train.TrainingException;
import dev.metaforge.api.wiring.MetaforgeModule;
import dev.metaforge.spi.Backend;
import dev.metaforge.spi.BackendConfig;
import dev.metaforge.spi.Device;
import dev.metaforge.spi.BackendNotFoundException;
import dev.metaforge.spi.UnsupportedCapabilityException;
import dev.metaforge.tck.TckBackends;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code metaforge train SPEC.json [--backend NAME] [--out DIR] [--steps N] [--resume | --overwrite]
 * [--memory-budget SIZE] [--dry-run] [--spark MASTER]}: trains a {@link TrainSpec} with the {@link Trainer},
 * after the pre-flight check (the spec's first step run on a shape-only backend and measured against the
 * memory budget; {@code --dry-run} prints its summary and stops there). With {@code --spark}, each step's
 * gradient is computed on a Spark cluster by the {@link TrainingCluster} named "spark", found through
 * {@link ServiceLoader} (the {@code metaforge-spark} module; the CLI itself never depends on Spark). Progress goes to standard error (a live line on a
 * terminal); the run's files go to {@code --out} (default {@code runs/<spec name>}); a JSON summary
 * is printed on standard output. A bad spec, a missing file, an unusable backend or a run that
 * cannot go on prints one line and exits with 2.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a spec; writes metrics.jsonl, loss.png, checkpoint.safetensors and spec.json to the output directory.",
                "Example: metaforge train examples/regression-sin.json"})
public final class TrainCommand implements Callable<Integer> {
    /** Exit code for a bad spec, a missing file, an unusable backend or a run that cannot go on. */
    public static final int EXIT_USAGE = 2;

    @ParentCommand
    MetaforgeCommand root;

    @Spec
    CommandSpec command;

    @Parameters(index = "0", paramLabel = "SPEC.json", description = "The training spec.")
    Path specFile;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend to train on (djl, dl4j, or reference: the pure-Java float64 oracle). "
                    + "Default: -Dmetaforge.backend, METAFORGE_BACKEND, else the highest priority usable one.")
    String backend;

    @Option(names = "--device", paramLabel = "DEVICE", converter = DeviceConverter.class,
            description = "Device to compute on: cpu (default), gpu or gpu:N. A backend without that device says so and exits 2.")
    Device device;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default: runs/<spec file name>).")
    Path out;

    @Option(names = "--steps", paramLabel = "N", description = "Train this many steps instead of the spec's \"steps\".")
    Integer steps;

    @Option(names = "--resume", description = "Continue the run in the output directory from its checkpoint.")
    boolean resume;

    @Option(names = "--overwrite", description = "Start afresh, replacing the run files already in the output directory.")
    boolean overwrite;

    @Option(names = "--dry-run", description = "Only the pre-flight check: build the spec, run one step's shapes on a shape-only "
            + "backend, print the parameters per module and the memory estimate, and exit; nothing is written.")
    boolean dryRun;

    @Option(names = "--memory-budget", paramLabel = "SIZE", description = "Memory one training step may need, checked before the "
            + "run starts: e.g. 8g, 512m, 40%% (of physical memory). Default: 50%% of physical memory.")
    String memoryBudget;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Compute each step on Apache Spark: local[N] (N threads here) or spark://HOST:PORT. Needs the"
                    + " metaforge-spark module (./mvnw -q -pl spark -am -DskipTests package). Same run directory and results.")
    String spark;

    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE",
            description = "A Spark setting (spark.*) or one of Metaforge's (metaforge.spark.*); repeatable.")
    Map<String, String> sparkConf = new LinkedHashMap<>();

    @Option(names = "--shards", paramLabel = "N",
            description = "With --spark: split each step's batch into N shards (default: Spark's default parallelism).")
    Integer shards;

    @Override
    public Integer call() {
        PrintWriter err = command.commandLine().getErr();
        try {
            if (steps != null && steps <= 0) {
                return fail(err, "--steps must be a positive number of steps, got " + steps);
            }
            if (overwrite && resume) {
                return fail(err, "--overwrite and --resume contradict each other; choose one");
            }
            MemoryBudget budget;
            try {
                budget = memoryBudget == null ? MemoryBudget.defaultBudget() : MemoryBudget.parse(memoryBudget);
            } catch (IllegalArgumentException e) {
                return fail(err, "--memory-budget: " + e.getMessage());
            }
            List<MetaforgePlugin> plugins = SpecRegistry.loadPlugins(root.context().classLoader());
            SpecRegistry specs = SpecRegistry.of(plugins);
            TrainSpec spec = readSpec(specs, specFile);
            String cadenceNote = null;
            if (steps != null) {
                dev.metaforge.cli.run.Cadence.Rescaled rescaled = dev.metaforge.cli.run.Cadence.withSteps(spec, steps);
                spec = rescaled.spec();
                cadenceNote = rescaled.note().orElse(null);
            }
            Path outDir = out != null ? out : Path.of("runs", specName(specFile));
            if (spark == null && (shards != null || !sparkConf.isEmpty())) {
                return fail(err, "--shards and --spark-conf need --spark MASTER");
            }
            if (shards != null && shards <= 0) {
                return fail(err, "--shards must be a positive number of shards, got " + shards);
            }
            PrintWriter stdout = command.commandLine().getOut();
            try (Backend chosen = openBackend(root.context(), backend, device);
                 TrainingCluster.Session session = spark == null || dryRun ? null : connect(root.context(), err)) {
                Engine engine = Engine.of(chosen, spec.engineDType());
                // One injector for the run: plugins' modules may add listeners (metric sinks) to the trainer.
                Trainer trainer = injector(engine, specs, plugins).getInstance(Trainer.class).withMemoryBudget(budget)
                        .withListener(new dev.metaforge.cli.run.ConsoleProgress(err, root.context().terminal(), System::nanoTime))
                        .withListener(new dev.metaforge.cli.run.RunPlots());
                if (dryRun) {
                    PreflightReport report = trainer.preflight(spec, baseDir(specFile), specFile.toString());
                    stdout.println(report.summary());
                    stdout.flush();
                    return 0;
                }
                if (session != null) {
                    trainer = trainer.withObjectiveDecorator(session);
                }
                if (cadenceNote != null) {
                    err.println(cadenceNote);
                    err.flush();
                }
                Trainer.Start start = resume ? Trainer.Start.RESUME : overwrite ? Trainer.Start.OVERWRITE : Trainer.Start.FRESH;
                TrainResult result = trainer.train(spec, specFile.toString(), baseDir(specFile), outDir, start);
                stdout.println(summary(result));
                stdout.flush();
            }
            return 0;
        } catch (SpecException | TrainingException | BackendNotFoundException | UnsupportedCapabilityException e) {
            return fail(err, e.getMessage());
        } catch (IOException e) {
            return fail(err, describe(e));
        } catch (UncheckedIOException e) {
            // A reader's error inside a spec's build (e.g. an IdxFormatException): the message names the file.
            return fail(err, e.getMessage());
        }
    }

    private static com.google.inject.Injector injector(Engine engine, SpecRegistry specs, List<MetaforgePlugin> plugins) {
        try {
            return MetaforgeModule.injector(engine, specs, plugins);
        } catch (com.google.inject.CreationException e) {
            StringBuilder why = new StringBuilder();
            e.getErrorMessages().forEach(m -> why.append("; ").append(m.getMessage()));
            throw new TrainingException("a plugin's Guice module cannot be wired" + why
                    + "; every binding must be explicit (toInstance or a @Provides method)", e);
        }
    }

    private int fail(PrintWriter err, String message) {
        err.println("metaforge " + command.name() + ": " + message);
        err.flush();
        return EXIT_USAGE;
    }

    /** Reads a spec file, with a clear message when it is missing. */
    static TrainSpec readSpec(SpecRegistry specs, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new SpecException("spec file " + file + " does not exist (or is not a file)", "$", null);
        }
        return specs.read(file, TrainSpec.class);
    }

    /** "regression-sin" for "examples/regression-sin.json". */
    static String specName(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** Relative paths inside a spec are resolved against the spec file's directory. */
    static Path baseDir(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? Path.of("").toAbsolutePath() : parent;
    }

    /**
     * The named backend, else the selection rule ({@code -Dmetaforge.backend}, {@code METAFORGE_BACKEND},
     * priority). "reference" is the pure-Java oracle, never discovered automatically but accepted by name.
     */
    static Backend openBackend(CliContext context, String name, Device device) {
        // The kit's resolver is the one selection rule, plus the float64 reference oracle by explicit name.
        return TckBackends.resolve(name, context.classLoader(), context.environment(), context.systemProperties())
                .create(new BackendConfig(device == null ? Device.CPU : device, Map.of()));
    }

    /** The "spark" cluster service: present only when the metaforge-spark module is on the classpath. */
    private TrainingCluster.Session connect(CliContext context, PrintWriter err) {
        for (TrainingCluster cluster : ServiceLoader.load(TrainingCluster.class, context.classLoader())) {
            if (cluster.name().equals("spark")) {
                return cluster.connect(new TrainingCluster.Config(spark, sparkConf, shards == null ? 0 : shards, backend, err));
            }
        }
        throw new TrainingException("--spark needs the metaforge-spark module, which is not on the classpath: build it with"
                + " ./mvnw -q -pl spark -am -DskipTests package; the metaforge launcher then adds spark/target/metaforge-spark.jar"
                + " and spark/target/lib when --spark is given");
    }

    static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return n.getFile() + " does not exist";
        }
        if (e instanceof java.nio.file.AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        return e.getMessage();
    }

    private static String summary(TrainResult result) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode node = json.createObjectNode();
        node.put("outDir", result.outDir().toString());
        node.put("steps", result.steps());
        node.put("finalLoss", result.finalLoss());
        ObjectNode eval = node.putObject("eval");
        result.eval().forEach(eval::put);
        if (!result.metricDescriptions().isEmpty()) {
            ObjectNode metrics = node.putObject("metrics");
            result.metricDescriptions().forEach(metrics::put);
        }
        node.put("checkpoint", result.checkpoint().toString());
        // 0: every step ran eagerly (step capture off, or the experiment cannot be captured)
        node.put("replayedSteps", result.replayedSteps());
        try {
            return json.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the training summary as JSON", e);
        }
    }
}
