package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a {@link Trainer} run reports as it goes: the run's summary, every step, every evaluation,
 * every checkpoint, and how it ended. The trainer itself prints nothing and draws nothing; console
 * progress and plots are listeners (the {@code metaforge} command registers its own: a live progress
 * line and {@code loss.png}/{@code experts.png}). Every method has a no-op default, so a listener
 * implements only what it needs; they are called on the training thread, in registration order.
 * An exception thrown by a listener ends the run like any other error.
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(engine, specs).withListener(TrainingListener.log(new PrintWriter(System.err, true)));
 * }</pre>
 */
public interface TrainingListener {

    /**
     * The run about to train, once the output directory is locked and the checkpoint (if any) is
     * restored.
     *
     * @param name               the run's name (the output directory's file name)
     * @param outDir             the output directory
     * @param backend            the backend's name
     * @param dtype              the spec's dtype
     * @param parameterCount     trainable scalars
     * @param startStep          0, or the checkpoint's step when resuming
     * @param totalSteps         the step the run stops at
     * @param start              fresh, resumed or overwriting
     * @param logEvery           steps between logged steps
     * @param evalEvery          steps between evaluations (0: only at the end)
     * @param preflight          the pre-flight check's one-line summary
     * @param metricDescriptions what each metric measures ({@link Objective#metricDescriptions()})
     */
    record RunStarted(String name, Path outDir, String backend, String dtype, long parameterCount, long startStep,
                      long totalSteps, Trainer.Start start, int logEvery, int evalEvery, String preflight,
                      Map<String, String> metricDescriptions) {
        public RunStarted {
            requireNonNull(name, "name is null");
            requireNonNull(outDir, "outDir is null");
            requireNonNull(backend, "backend is null");
            requireNonNull(dtype, "dtype is null");
            requireNonNull(start, "start is null");
            requireNonNull(preflight, "preflight is null");
            metricDescriptions = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(metricDescriptions, "metricDescriptions is null")));
        }

        /** The run's summary in one line, e.g. {@code training sin on djl (float32): 1153 parameters, 2000 steps, output runs/sin}. */
        public String summary() {
            return "training " + name + " on " + backend + " (" + dtype + "): " + parameterCount + " parameters, "
                    + (startStep > 0 ? "resuming at step " + startStep + ", " : "") + totalSteps + " steps, output " + outDir;
        }
    }

    /**
     * A completed training step.
     *
     * @param step       steps completed so far
     * @param totalSteps the step the run stops at
     * @param loss       the latest training loss read: this step's at a logged step, else the last logged
     *                   step's (NaN before any); unlogged steps are not read back from the backend
     * @param logged     true at a logged step (a line of {@value Trainer#METRICS_FILE})
     * @param terms      the loss's named parts and statistics (logged steps; empty otherwise)
     * @param seconds    training time so far, including earlier sessions of a resumed run
     */
    record Step(long step, long totalSteps, double loss, boolean logged, Map<String, Double> terms, double seconds) {
        public Step {
            terms = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(terms, "terms is null")));
        }
    }

    /** An evaluation at {@code step}: {@link Objective#evaluate}'s metrics. */
    record Evaluation(long step, Map<String, Double> metrics) {
        public Evaluation {
            metrics = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(metrics, "metrics is null")));
        }
    }

    /**
     * Everything logged so far, including what a resumed run read back from {@value Trainer#METRICS_FILE}:
     * {step, value} pairs of the training loss, of each evaluation metric and of each logged term.
     */
    record History(List<double[]> trainingLoss, Map<String, List<double[]>> eval, Map<String, List<double[]>> terms) {
        public History {
            trainingLoss = List.copyOf(requireNonNull(trainingLoss, "trainingLoss is null"));
            eval = copy(requireNonNull(eval, "eval is null"));
            terms = copy(requireNonNull(terms, "terms is null"));
        }

        private static Map<String, List<double[]>> copy(Map<String, List<double[]>> series) {
            Map<String, List<double[]>> out = new LinkedHashMap<>();
            series.forEach((name, points) -> out.put(name, List.copyOf(new ArrayList<>(points))));
            return Collections.unmodifiableMap(out);
        }
    }

    /**
     * A checkpoint was written (the metrics file is flushed before it).
     *
     * @param step    the checkpoint's step
     * @param file    the checkpoint file
     * @param outDir  the run's output directory, where a listener may write files of its own
     * @param history everything logged up to {@code step}
     */
    record CheckpointWritten(long step, Path file, Path outDir, History history) {
        public CheckpointWritten {
            requireNonNull(file, "file is null");
            requireNonNull(outDir, "outDir is null");
            requireNonNull(history, "history is null");
        }
    }

    /** The run's summary, once, before the first step. */
    default void runStarted(RunStarted run) {
    }

    /** A notice for people (e.g. a checkpoint written on another backend). */
    default void notice(String text) {
    }

    /** After every step: keep it cheap (a live progress line), do real work at {@link Step#logged()} steps. */
    default void stepCompleted(Step step) {
    }

    /** After every evaluation. */
    default void evaluated(Evaluation evaluation) {
    }

    /** After every checkpoint. */
    default void checkpointWritten(CheckpointWritten checkpoint) {
    }

    /** The run reached its last step. */
    default void runFinished(TrainResult result) {
    }

    /** The run failed with {@code error} (which the trainer throws after this call). */
    default void runFailed(Throwable error) {
    }

    /**
     * A plain text log for library users: the run's summary, a line per logged step
     * ({@code step 200/2000  loss 0.1234}), evaluations and notices; no live line, no files.
     */
    static TrainingListener log(PrintWriter out) {
        requireNonNull(out, "out is null");
        return new TrainingListener() {
            @Override
            public void runStarted(RunStarted run) {
                line(run.preflight());
                line(run.summary());
            }

            @Override
            public void notice(String text) {
                line(text);
            }

            @Override
            public void stepCompleted(Step step) {
                if (step.logged()) {
                    line("step " + step.step() + "/" + step.totalSteps() + "  loss " + number(step.loss()));
                }
            }

            @Override
            public void evaluated(Evaluation evaluation) {
                line(evaluationLine(evaluation));
            }

            @Override
            public void runFailed(Throwable error) {
                line("run failed: " + error.getMessage());
            }

            private void line(String text) {
                out.println(text);
                out.flush();
            }
        };
    }

    /** {@code eval step 200:  mse 0.001234  loss 0.1667}. */
    static String evaluationLine(Evaluation evaluation) {
        StringBuilder sb = new StringBuilder("eval step ").append(evaluation.step()).append(':');
        evaluation.metrics().forEach((k, v) -> sb.append("  ").append(k).append(' ').append(number(v)));
        return sb.toString();
    }

    /** Four significant digits: {@code 0.01230}, {@code 1.235e-07}. */
    static String number(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }
}
