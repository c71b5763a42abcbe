package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.capture.StepCapture;
import dev.metaforge.api.checkpoint.AtomicFiles;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.preflight.MemoryBudget;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a {@link TrainSpec} to completion with files in an output directory:
 * <ul>
 *   <li>{@value #METRICS_FILE}: one JSON object per logged step ({@code step, loss, seconds,
 *       stepsPerSecond}) and per evaluation ({@code step, seconds, eval: {...}});</li>
 *   <li>{@value #CHECKPOINT_FILE}: parameters, optimizer and objective state (safetensors, see
 *       {@link Checkpoint});</li>
 *   <li>{@value #SPEC_FILE}: the resolved spec (defaults filled in, overrides applied).</li>
 * </ul>
 * Every file is replaced atomically. The trainer prints nothing and draws nothing: what a run
 * reports as it goes (summary, steps, evaluations, checkpoints, the end) goes to the
 * {@link TrainingListener}s added with {@link #withListener}; {@link TrainingListener#log} is a plain
 * text log, and the {@code metaforge} command adds a live progress line and the plots
 * ({@value #PLOT_FILE}, {@value #EXPERTS_PLOT_FILE}). With {@code resume}, the run continues from the checkpoint:
 * parameters, optimizer state and step count and objective state are restored, and
 * {@value #METRICS_FILE} is cut back to the checkpoint's step, so the files of an interrupted and
 * resumed run equal those of an uninterrupted one (apart from timings). Steps are captured and replayed
 * ({@link StepCapture}) when the objective can be, unless the spec says {@code "capture": false}
 * ({@link TrainSpec#capture}); replay computes the eager values bit for bit.
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(engine, specs).withListener(TrainingListener.log(new PrintWriter(System.err, true)));
 * TrainResult result = trainer.train(spec, specFile.getParent(), Path.of("runs/sin"), false);
 * }</pre>
 */
@SuppressWarnings("try") // scopes and NoGrad are opened for their effect on the tensors inside, not used by name
public final class Trainer {
    public static final String METRICS_FILE = "metrics.jsonl";
    /** The loss plot the {@code metaforge} command's plot listener writes (not the trainer). */
    public static final String PLOT_FILE = "loss.png";
    /** The expert-load plot the {@code metaforge} command's plot listener writes for mixture-of-experts runs. */
    public static final String EXPERTS_PLOT_FILE = "experts.png";
    public static final String CHECKPOINT_FILE = "checkpoint.safetensors";
    public static final String SPEC_FILE = "spec.json";

    private final Engine engine;
    private final SpecRegistry specs;
    private final List<TrainingListener> listeners;
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
     * A trainer that reports to no one: add listeners with {@link #withListener}.
     *
     * @param engine the backend to train on (its default dtype is replaced by the spec's)
     * @param specs  the registry, for nested specs and for writing {@value #SPEC_FILE}
     */
    public Trainer(Engine engine, SpecRegistry specs) {
        this(engine, specs, List.of(), MemoryBudget.defaultBudget(), null);
    }

    /**
     * A trainer logging plain text to {@code progressOut} ({@link TrainingListener#log}).
     *
     * @param liveProgress ignored: a live line is the {@code metaforge} command's listener
     * @deprecated use {@code new Trainer(engine, specs).withListener(TrainingListener.log(progressOut))};
     *             kept so code written against the old constructor still compiles
     */
    @Deprecated
    public Trainer(Engine engine, SpecRegistry specs, PrintWriter progressOut, boolean liveProgress) {
        this(engine, specs, List.of(TrainingListener.log(progressOut)), MemoryBudget.defaultBudget(), null);
    }

    private Trainer(Engine engine, SpecRegistry specs, List<TrainingListener> listeners, MemoryBudget budget,
                    ObjectiveDecorator decorator) {
        this.engine = requireNonNull(engine, "engine is null");
        this.specs = requireNonNull(specs, "specs is null");
        this.listeners = List.copyOf(listeners);
        this.budget = requireNonNull(budget, "budget is null");
        this.decorator = decorator;
    }

    /** The same trainer, also reporting to {@code listener} (after the listeners already added). */
    public Trainer withListener(TrainingListener listener) {
        List<TrainingListener> more = new ArrayList<>(listeners);
        more.add(requireNonNull(listener, "listener is null"));
        return new Trainer(engine, specs, more, budget, decorator);
    }

    /** The same trainer checking specs against another memory budget (default: {@link MemoryBudget#defaultBudget()}). */
    public Trainer withMemoryBudget(MemoryBudget newBudget) {
        return new Trainer(engine, specs, listeners, newBudget, decorator);
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
        return new Trainer(engine, specs, listeners, budget, requireNonNull(decorator, "decorator is null"));
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
                for (String name : new String[] {CHECKPOINT_FILE, METRICS_FILE, PLOT_FILE, EXPERTS_PLOT_FILE, SPEC_FILE}) {
                    Files.deleteIfExists(outDir.resolve(name));
                }
            }
            if (!resume && Files.exists(checkpointFile)) {
                throw new TrainingException(outDir + " already holds a run (" + CHECKPOINT_FILE
                        + "); continue it with --resume, or choose another output directory");
            }
            TrainingLoop[] loop = new TrainingLoop[1];
            try {
                TrainResult result = prepareAndRun(spec, source, baseDir, outDir, start, checkpointFile, report, runDir, loop);
                listeners.forEach(l -> l.runFinished(result));
                return result;
            } finally {
                stepped = loop[0] != null && loop[0].stepsRunHere() > 0;
            }
        } catch (IOException | RuntimeException | Error e) {
            for (TrainingListener listener : listeners) {
                try {
                    listener.runFailed(e);
                } catch (RuntimeException listenerError) {
                    e.addSuppressed(listenerError);
                }
            }
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

    private TrainResult prepareAndRun(TrainSpec spec, String source, Path baseDir, Path outDir, Start start, Path checkpointFile,
                                      PreflightReport report, RunDirectory runDir, TrainingLoop[] loopOut) throws IOException {
        boolean resume = start == Start.RESUME;
        // Capture is tried unless the spec turns it off ("capture": false) or, in automatic mode (no "capture"),
        // the run is on a training cluster. Then the objective is built on kernels that can record its step
        // (the same backend and values; unarmed, they only forward).
        boolean tryCapture = spec.captureRequired() || (spec.captureAllowed() && decorator == null);
        Engine runEngine = tryCapture ? StepCapture.engine(engine.withDefaultDType(spec.engineDType()))
                : engine.withDefaultDType(spec.engineDType());
        String hash = spec.trajectoryHash(specs);
        Checkpoint checkpoint = resume ? Checkpoint.load(checkpointFile, warning -> notice("warning: " + warning)) : null;
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
        StepCapture capture = tryCapture ? captureFor(specs, spec, source, objective, runEngine, decorator != null, this::notice) : null;
        Optimizer optimizer = RunSupport.buildOptimizer(spec);
        for (String name : new String[] {METRICS_FILE, PLOT_FILE, EXPERTS_PLOT_FILE, SPEC_FILE}) {
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
        if (capture != null) {
            loop.withCapture(capture);
        }
        loopOut[0] = loop;
        try (loop) {
            AtomicFiles.writeString(outDir.resolve(SPEC_FILE), specs.write(spec) + "\n");
            return run(spec, hash, loop, metrics, outDir, elapsedBefore, checkpoint, report, start);
        }
    }

    private TrainResult run(TrainSpec spec, String hash, TrainingLoop loop, MetricsLog metrics, Path outDir,
                            double elapsedBefore, Checkpoint resumedFrom, PreflightReport report, Start startMode) throws IOException {
        String backendName = engine.backend().name();
        TrainingListener.RunStarted info = new TrainingListener.RunStarted(String.valueOf(outDir.getFileName()), outDir, backendName,
                spec.dtype(), loop.params().count(), resumedFrom == null ? 0 : resumedFrom.step(), spec.steps(), startMode,
                spec.logEvery(), spec.evalEvery(), report.oneLine(), loop.objective().metricDescriptions());
        listeners.forEach(l -> l.runStarted(info));
        if (resumedFrom != null && !resumedFrom.backend().equals(backendName)) {
            notice("note: the checkpoint was written on backend '" + resumedFrom.backend() + "', this run uses '"
                    + backendName + "'; results will differ from an uninterrupted run in the last bits");
        }
        long start = System.nanoTime();
        long lastLogStep = loop.completedSteps();
        double lastLogSeconds = elapsedBefore;
        double lastLoss = metrics.lastLoss();
        Map<String, Double> lastEval = null;
        while (loop.completedSteps() < spec.steps()) {
            long done = loop.completedSteps() + 1;
            boolean last = done == spec.steps();
            boolean logged = done % spec.logEvery() == 0 || last;
            boolean checkpointed = (spec.checkpointEvery() > 0 && done % spec.checkpointEvery() == 0) || last;
            if (logged || checkpointed) {
                // read the loss: it is logged, or a checkpoint must not save a diverged run
                lastLoss = loop.step();
            } else {
                // no host read: the backend runs ahead; a non-finite loss is caught at the next read
                loop.advance();
            }
            double loss = lastLoss;
            double seconds = elapsedBefore + (System.nanoTime() - start) / 1e9;
            if (logged) {
                double stepsPerSecond = (done - lastLogStep) / Math.max(1e-9, seconds - lastLogSeconds);
                metrics.addTrain(done, loss, loop.lastTerms(), seconds, stepsPerSecond);
                lastLogStep = done;
                lastLogSeconds = seconds;
            }
            TrainingListener.Step stepEvent = new TrainingListener.Step(done, spec.steps(), loss, logged,
                    logged ? loop.lastTerms() : Map.of(), seconds);
            listeners.forEach(l -> l.stepCompleted(stepEvent));
            if ((spec.evalEvery() > 0 && done % spec.evalEvery() == 0) || last) {
                lastEval = loop.evaluate();
                metrics.addEval(done, seconds, lastEval);
                evaluated(done, lastEval);
            }
            if (checkpointed) {
                persist(spec, hash, loop, metrics, outDir, elapsedBefore + (System.nanoTime() - start) / 1e9);
            } else {
                metrics.flushIfDue();
            }
        }
        if (lastEval == null) {
            // Resumed at the final step: nothing left to train; report the final metrics again.
            lastEval = loop.evaluate();
            evaluated(loop.completedSteps(), lastEval);
        }
        writeTables(loop.objective(), outDir);
        return new TrainResult(loop.completedSteps(), lastLoss, lastEval, outDir, info.metricDescriptions(),
                loop.capture() == null ? 0 : loop.capture().replayedSteps());
    }

    /** The objective's tables of its final evaluation ({@link Objective#tables()}), each written atomically. */
    private static void writeTables(Objective objective, Path outDir) throws IOException {
        for (Map.Entry<String, String> table : objective.tables().entrySet()) {
            String name = table.getKey();
            // A plain name: an objective must not write outside the run directory.
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*\\.csv")) {
                throw new IllegalStateException("objective table name '" + name + "' is not a plain file name ending in .csv");
            }
            AtomicFiles.writeString(outDir.resolve(name), table.getValue());
        }
    }

    private void evaluated(long step, Map<String, Double> metrics) {
        TrainingListener.Evaluation evaluation = new TrainingListener.Evaluation(step, metrics);
        listeners.forEach(l -> l.evaluated(evaluation));
    }

    private void notice(String text) {
        listeners.forEach(l -> l.notice(text));
    }

    /** Metrics, then checkpoint, then the listeners: a crash in between leaves a checkpoint no newer than the metrics. */
    private void persist(TrainSpec spec, String hash, TrainingLoop loop, MetricsLog metrics, Path outDir, double seconds)
            throws IOException {
        metrics.flush();
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
        if (!listeners.isEmpty()) {
            TrainingListener.CheckpointWritten written = new TrainingListener.CheckpointWritten(loop.completedSteps(),
                    outDir.resolve(CHECKPOINT_FILE), outDir,
                    new TrainingListener.History(metrics.trainPoints(), metrics.evalPoints(), metrics.termPoints()));
            listeners.forEach(l -> l.checkpointWritten(written));
        }
    }

    /**
     * "capture": true for an objective that cannot be captured is a spec error, raised before any file
     * exists: the user asked for it, and finding out from a notice in the middle of a run is later than needed.
     */
    /**
     * The step capture a run of {@code spec} uses for {@code objective} (built on {@code engine}, an engine of
     * {@link StepCapture#engine}), or null to train eagerly: {@code "capture": false}, or automatic mode (no
     * {@code "capture"}) on a training cluster or with an objective that cannot be captured, which trains
     * eagerly without a word. With {@code "capture": true} such a run is a {@link SpecException} at
     * {@code $.capture} naming {@code source} and the experiment type. {@code metaforge train} and
     * {@code metaforge bench} both decide here.
     */
    public static StepCapture captureFor(SpecRegistry specs, TrainSpec spec, String source, Objective objective, Engine engine,
                                         boolean cluster, Consumer<String> notices) {
        if (spec.captureRequired()) {
            String type = specs.mapper().valueToTree(spec.experiment()).path("type").asText("?");
            if (cluster) {
                throw new SpecException(source + " at $.capture: step capture cannot be combined with a training cluster (the gradient of"
                        + " experiment type '" + type + "' is computed across processes); remove \"capture\" or run in one process",
                        "$.capture", null);
            }
            String refusal = CapturableObjective.refusal(objective);
            if (refusal != null) {
                throw new SpecException(source + " at $.capture: experiment type '" + type + "' cannot be captured: " + refusal
                        + "; remove \"capture\" (or set it to false) to train it eagerly", "$.capture", null);
            }
            return StepCapture.on(engine, notices);
        }
        if (!spec.captureAllowed() || cluster || CapturableObjective.refusal(objective) != null) {
            return null;
        }
        return StepCapture.automatic(engine, notices);
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
}
