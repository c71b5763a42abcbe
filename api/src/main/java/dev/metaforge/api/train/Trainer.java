package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.AtomicFiles;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.preflight.MemoryBudget;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs a {@link TrainSpec} to completion with files in an output directory:
 * <ul>
 *   <li>{@value #METRICS_FILE}: one JSON object per logged step ({@code step, loss, seconds,
 *       stepsPerSecond}) and per evaluation ({@code step, seconds, eval: {...}});</li>
 *   <li>{@value #PLOT_FILE}: the training loss against the step, log scale;</li>
 *   <li>{@value #EXPERTS_PLOT_FILE}: when the model has mixture-of-experts layers (terms named
 *       {@code ...expert_load.i}), the fraction of assignments each expert received against the step;</li>
 *   <li>{@value #CHECKPOINT_FILE}: parameters, optimizer and objective state (safetensors, see
 *       {@link Checkpoint});</li>
 *   <li>{@value #SPEC_FILE}: the resolved spec (defaults filled in, overrides applied).</li>
 * </ul>
 * Every file is replaced atomically. With {@code resume}, the run continues from the checkpoint:
 * parameters, optimizer state and step count and objective state are restored, and
 * {@value #METRICS_FILE} is cut back to the checkpoint's step, so the files of an interrupted and
 * resumed run equal those of an uninterrupted one (apart from timings).
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(engine, specs, new PrintWriter(System.err, true), System.console() != null);
 * TrainResult result = trainer.train(spec, specFile.getParent(), Path.of("runs/sin"), false);
 * }</pre>
 */
@SuppressWarnings("try") // scopes and NoGrad are opened for their effect on the tensors inside, not used by name
public final class Trainer {
    public static final String METRICS_FILE = "metrics.jsonl";
    public static final String PLOT_FILE = "loss.png";
    public static final String EXPERTS_PLOT_FILE = "experts.png";
    public static final String CHECKPOINT_FILE = "checkpoint.safetensors";
    public static final String SPEC_FILE = "spec.json";

    private final Engine engine;
    private final SpecRegistry specs;
    private final PrintWriter progressOut;
    private final boolean liveProgress;
    private final MemoryBudget budget;

    /** How a run treats an output directory that already holds one. */
    public enum Start {
        /** A new run; an output directory that already holds a checkpoint is an error. */
        FRESH,
        /** Continue from the output directory's checkpoint. */
        RESUME,
        /** A new run replacing the run files ({@value #CHECKPOINT_FILE}, ...) already in the output directory. */
        OVERWRITE
    }
    private final ObjectiveDecorator decorator;

    /**
     * @param engine       the backend to train on (its default dtype is replaced by the spec's)
     * @param specs        the registry, for nested specs and for writing {@value #SPEC_FILE}
     * @param progressOut  where progress goes (normally standard error: {@code new PrintWriter(System.err, true)})
     * @param liveProgress true on a terminal: one line rewritten in place; false: a line per logged step
     */
    public Trainer(Engine engine, SpecRegistry specs, PrintWriter progressOut, boolean liveProgress) {
        this(engine, specs, progressOut, liveProgress, MemoryBudget.defaultBudget(), null);
    }

    private Trainer(Engine engine, SpecRegistry specs, PrintWriter progressOut, boolean liveProgress, MemoryBudget budget,
                    ObjectiveDecorator decorator) {
        this.engine = requireNonNull(engine, "engine is null");
        this.specs = requireNonNull(specs, "specs is null");
        this.progressOut = requireNonNull(progressOut, "progressOut is null");
        this.liveProgress = liveProgress;
        this.budget = requireNonNull(budget, "budget is null");
        this.decorator = decorator;
    }

    /** The same trainer checking specs against another memory budget (default: {@link MemoryBudget#defaultBudget()}). */
    public Trainer withMemoryBudget(MemoryBudget newBudget) {
        return new Trainer(engine, specs, progressOut, liveProgress, newBudget, decorator);
    }

    /**
     * The pre-flight check alone ({@link Preflight}): builds the spec on a shape-only backend
     * mirroring this trainer's and runs one step and one evaluation; touches no file.
     *
     * @param source the spec's file name, for messages
     */
    public PreflightReport preflight(TrainSpec spec, Path baseDir, String source) {
        return Preflight.check(spec, specs, baseDir, engine.backend(), budget, source);
    }

    /**
     * This trainer, training the objective {@code decorator} makes of the one built from the spec
     * (e.g. one whose gradients a cluster computes, see {@link TrainingCluster}); files, progress
     * and resumption are unchanged.
     */
    public Trainer withObjectiveDecorator(ObjectiveDecorator decorator) {
        return new Trainer(engine, specs, progressOut, liveProgress, budget, requireNonNull(decorator, "decorator is null"));
    }

    /**
     * Trains {@code spec}, writing into {@code outDir}.
     *
     * @param baseDir directory relative paths in the spec are resolved against (the spec file's)
     * @param resume  continue from {@code outDir}'s checkpoint instead of starting afresh
     * @throws TrainingException when the output directory already holds a run (and {@code resume}
     *         is false), when the checkpoint does not belong to this spec, or when training diverges
     */
    public TrainResult train(TrainSpec spec, Path baseDir, Path outDir, boolean resume) throws IOException {
        return train(spec, "spec", baseDir, outDir, resume ? Start.RESUME : Start.FRESH);
    }

    /**
     * Trains {@code spec}, writing into {@code outDir}. First the pre-flight check ({@link #preflight});
     * only a spec that passes it gets a directory: {@code outDir} is created and locked for the run
     * ({@link RunDirectory}; a second run into it fails naming this one's PID), and if the run fails
     * before its first step, whatever it created there is removed again.
     *
     * @param source  the spec's file name, for messages
     * @param baseDir directory relative paths in the spec are resolved against (the spec file's)
     * @throws PreflightException when the spec does not fit its shapes or the memory budget
     * @throws TrainingException  when the output directory already holds a run (and {@code start} is
     *         {@link Start#FRESH}) or is in use, when the checkpoint does not belong to this spec or
     *         fails its hash, or when training diverges
     */
    public TrainResult train(TrainSpec spec, String source, Path baseDir, Path outDir, Start start) throws IOException {
        requireNonNull(spec, "spec is null");
        requireNonNull(source, "source is null");
        requireNonNull(baseDir, "baseDir is null");
        requireNonNull(outDir, "outDir is null");
        requireNonNull(start, "start is null");
        boolean resume = start == Start.RESUME;
        Path checkpointFile = outDir.resolve(CHECKPOINT_FILE);
        if (resume && !Files.exists(checkpointFile)) {
            throw new TrainingException("cannot resume: " + checkpointFile + " does not exist; start the run without --resume");
        }
        PreflightReport report = preflight(spec, baseDir, source);
        RunDirectory runDir = RunDirectory.acquire(outDir);
        boolean stepped = false;
        try {
            if (start == Start.OVERWRITE) {
                // Only the files a run writes, under the lock: anything else the user keeps there stays.
                for (String name : new String[] {CHECKPOINT_FILE, METRICS_FILE, PLOT_FILE, SPEC_FILE}) {
                    Files.deleteIfExists(outDir.resolve(name));
                }
            }
            if (!resume && Files.exists(checkpointFile)) {
                throw new TrainingException(outDir + " already holds a run (" + CHECKPOINT_FILE
                        + "); continue it with --resume, or choose another output directory");
            }
            TrainingLoop[] loop = new TrainingLoop[1];
            try {
                return prepareAndRun(spec, baseDir, outDir, resume, checkpointFile, report, runDir, loop);
            } finally {
                stepped = loop[0] != null && loop[0].stepsRunHere() > 0;
            }
        } catch (IOException | RuntimeException | Error e) {
            if (!stepped) {
                try {
                    runDir.abandon();
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        } finally {
            runDir.close();
        }
    }

    private TrainResult prepareAndRun(TrainSpec spec, Path baseDir, Path outDir, boolean resume, Path checkpointFile,
                                      PreflightReport report, RunDirectory runDir, TrainingLoop[] loopOut) throws IOException {
        Engine runEngine = engine.withDefaultDType(spec.engineDType());
        String hash = spec.trajectoryHash(specs);
        Checkpoint checkpoint = resume ? Checkpoint.load(checkpointFile, warning -> {
            progressOut.println("warning: " + warning);
            progressOut.flush();
        }) : null;
        if (checkpoint != null) {
            if (!checkpoint.specHash().equals(hash)) {
                throw new TrainingException("cannot resume from " + checkpointFile + ": it was written by a different spec "
                        + "(experiment, optimizer, seed or dtype differ: spec hash " + abbreviate(checkpoint.specHash())
                        + " in the checkpoint, " + abbreviate(hash) + " now); use the original spec or another output directory");
            }
            if (checkpoint.step() > spec.steps()) {
                throw new TrainingException("cannot resume: " + checkpointFile + " is at step " + checkpoint.step()
                        + " but the spec asks for " + spec.steps() + " steps; raise \"steps\" (or pass --steps)");
            }
        }
        BuildContext context = new BuildContext(runEngine, specs, baseDir, spec.seed());
        // Built before the output directory exists: a spec that cannot be built (e.g. missing data) leaves nothing behind.
        Objective built = RunSupport.buildObjective(spec, context);
        Objective objective = decorator == null ? built : requireNonNull(decorator.decorate(built, spec, context), "decorator returned null");
        Optimizer optimizer = RunSupport.buildOptimizer(spec);
        for (String name : new String[] {METRICS_FILE, PLOT_FILE, SPEC_FILE}) {
            if (!Files.exists(outDir.resolve(name))) {
                runDir.created(outDir.resolve(name));
            }
        }
        MetricsLog metrics = new MetricsLog(outDir.resolve(METRICS_FILE));
        double elapsedBefore = 0;
        TrainingLoop loop;
        if (checkpoint == null) {
            runDir.created(checkpointFile);
            loop = TrainingLoop.start(objective, optimizer, spec.seed());
        } else {
            loop = restore(checkpoint, checkpointFile, objective, optimizer, runEngine, spec.seed());
            metrics.loadForResume(checkpoint.step(), spec.steps(), spec.logEvery(), spec.evalEvery());
            elapsedBefore = elapsedSeconds(checkpoint);
        }
        loopOut[0] = loop;
        try (loop) {
            AtomicFiles.writeString(outDir.resolve(SPEC_FILE), specs.write(spec) + "\n");
            return run(spec, hash, loop, metrics, outDir, elapsedBefore, checkpoint, report);
        }
    }

    private TrainResult run(TrainSpec spec, String hash, TrainingLoop loop, MetricsLog metrics, Path outDir,
                            double elapsedBefore, Checkpoint resumedFrom, PreflightReport report) throws IOException {
        Progress progress = new Progress(progressOut, liveProgress, spec.steps());
        progress.message(report.oneLine());
        String backendName = engine.backend().name();
        long parameterCount = loop.params().count();
        progress.message("training " + outDir.getFileName() + " on " + backendName + " (" + spec.dtype() + "): "
                + parameterCount + " parameters, " + (resumedFrom == null ? "" : "resuming at step " + resumedFrom.step() + ", ")
                + spec.steps() + " steps, output " + outDir);
        if (resumedFrom != null && !resumedFrom.backend().equals(backendName)) {
            progress.message("note: the checkpoint was written on backend '" + resumedFrom.backend() + "', this run uses '"
                    + backendName + "'; results will differ from an uninterrupted run in the last bits");
        }
        long start = System.nanoTime();
        long lastLogStep = loop.completedSteps();
        double lastLogSeconds = elapsedBefore;
        double lastLoss = metrics.lastLoss();
        Map<String, Double> lastEval = null;
        while (loop.completedSteps() < spec.steps()) {
            double loss = loop.step();
            long done = loop.completedSteps();
            lastLoss = loss;
            progress.stepDone(done, loss);
            boolean last = done == spec.steps();
            double seconds = elapsedBefore + (System.nanoTime() - start) / 1e9;
            if (done % spec.logEvery() == 0 || last) {
                double stepsPerSecond = (done - lastLogStep) / Math.max(1e-9, seconds - lastLogSeconds);
                metrics.addTrain(done, loss, loop.lastTerms(), seconds, stepsPerSecond);
                progress.logged(done, loss);
                lastLogStep = done;
                lastLogSeconds = seconds;
            }
            if ((spec.evalEvery() > 0 && done % spec.evalEvery() == 0) || last) {
                lastEval = loop.evaluate();
                metrics.addEval(done, seconds, lastEval);
                progress.eval(done, lastEval);
            }
            if ((spec.checkpointEvery() > 0 && done % spec.checkpointEvery() == 0) || last) {
                persist(spec, hash, loop, metrics, outDir, elapsedBefore + (System.nanoTime() - start) / 1e9);
            } else {
                metrics.flushIfDue();
            }
        }
        progress.finish();
        if (lastEval == null) {
            // Resumed at the final step: nothing left to train; report the final metrics again.
            lastEval = loop.evaluate();
            progress.eval(loop.completedSteps(), lastEval);
        }
        return new TrainResult(loop.completedSteps(), lastLoss, lastEval, outDir);
    }

    /** Metrics, plot and checkpoint, in that order: a crash in between leaves a checkpoint no newer than the metrics. */
    private void persist(TrainSpec spec, String hash, TrainingLoop loop, MetricsLog metrics, Path outDir, double seconds)
            throws IOException {
        metrics.flush();
        AtomicFiles.writeBytes(outDir.resolve(PLOT_FILE), LossPlot.pngOfSeries(outDir.getFileName() + ": training loss and evaluation", plotSeries(metrics)));
        byte[] experts = ExpertLoadPlot.png(String.valueOf(outDir.getFileName()), metrics.termPoints());
        if (experts != null) {
            AtomicFiles.writeBytes(outDir.resolve(EXPERTS_PLOT_FILE), experts);
        }
        Map<String, TensorData> objectiveState;
        try (Scope scope = Scope.open()) {
            objectiveState = RunSupport.hostCopy(loop.objective().state());
        }
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("dtype", spec.dtype());
        extra.put("elapsed_seconds", Double.toString(seconds));
        Checkpoint checkpoint = new Checkpoint(loop.completedSteps(), spec.seed(), hash, engine.backend().name(),
                RunSupport.hostCopy(loop.params()), RunSupport.hostCopy(loop.optimizer().state()), objectiveState, extra);
        checkpoint.save(outDir.resolve(CHECKPOINT_FILE));
    }

    private static TrainingLoop restore(Checkpoint checkpoint, Path file, Objective objective, Optimizer optimizer,
                                        Engine runEngine, long seed) {
        try (Scope scope = Scope.open()) {
            Params params = RunSupport.restore(checkpoint, file, objective, optimizer, runEngine, seed);
            return TrainingLoop.resume(objective, optimizer, seed, params, checkpoint.step());
        }
    }

    private static double elapsedSeconds(Checkpoint checkpoint) {
        String value = checkpoint.extra().get("elapsed_seconds");
        try {
            return value == null ? 0 : Double.parseDouble(value);
        } catch (NumberFormatException e) {
            return 0; // timing only; never worth refusing a resume over
        }
    }

    private static String abbreviate(String hash) {
        return hash.length() > 12 ? hash.substring(0, 12) : hash;
    }

    /** The training loss and every evaluation metric, as curves of one plot. */
    private static java.util.List<LossPlot.Series> plotSeries(MetricsLog metrics) {
        java.util.List<LossPlot.Series> series = new java.util.ArrayList<>();
        series.add(new LossPlot.Series("training loss", metrics.trainPoints()));
        metrics.evalPoints().forEach((name, points) -> series.add(new LossPlot.Series("eval " + name, points)));
        return series;
    }
}
