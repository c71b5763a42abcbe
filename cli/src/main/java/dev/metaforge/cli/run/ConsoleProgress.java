package dev.metaforge.cli.run;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.train.TrainResult;
import dev.metaforge.api.train.TrainingListener;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Training progress for people, as a {@link TrainingListener}: on a terminal a live line rewritten in
 * place ({@code step 1200/5000  loss 0.0123  312 steps/s  ETA 12s}); otherwise the same text as a
 * plain line at every logged step and at least every {@value #HEARTBEAT_SECONDS} seconds, so the log of
 * a batch job shows the run is alive even when logged steps are far apart. The run's summary and what
 * each metric measures are printed first; evaluations and notices get lines of their own.
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(engine, specs).withListener(ConsoleProgress.toStandardError());
 * }</pre>
 */
public final class ConsoleProgress implements TrainingListener {
    /** Off a terminal, a progress line at least this often (seconds). */
    public static final int HEARTBEAT_SECONDS = 5;
    private static final long HEARTBEAT_NANOS = HEARTBEAT_SECONDS * 1_000_000_000L;
    private static final long LIVE_REFRESH_NANOS = 100_000_000L;
    /** No rate is shown before this much time has been measured: early estimates mislead. */
    private static final long MIN_RATE_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final boolean live;
    private final LongSupplier nanoClock;
    private long totalSteps;
    private long lastDrawNanos;
    private long lastPlainNanos;
    /** False until the first line or step: the heartbeat counts from there. */
    private boolean heartbeatStarted;
    private long clockStartNanos = -1;
    private long clockStartStep;
    private double rate = Double.NaN;
    private int liveWidth;

    /**
     * @param out       where the lines go (normally standard error)
     * @param live      true on a terminal: one line redrawn in place
     * @param nanoClock the time source ({@code System::nanoTime}; a test passes its own)
     */
    public ConsoleProgress(PrintWriter out, boolean live, LongSupplier nanoClock) {
        this.out = requireNonNull(out, "out is null");
        this.live = live;
        this.nanoClock = requireNonNull(nanoClock, "nanoClock is null");
    }

    /** Progress on standard error, live when the JVM has a console. */
    public static ConsoleProgress toStandardError() {
        return new ConsoleProgress(new PrintWriter(System.err, true), System.console() != null, System::nanoTime);
    }

    @Override
    public void runStarted(RunStarted run) {
        totalSteps = run.totalSteps();
        message(run.preflight());
        message(run.summary());
        for (String line : describe(run.metricDescriptions())) {
            message(line);
        }
    }

    /** A heading and a line per metric saying what it measures, or nothing. */
    static List<String> describe(Map<String, String> descriptions) {
        List<String> lines = new ArrayList<>();
        if (!descriptions.isEmpty()) {
            lines.add("what the metrics measure:");
            descriptions.forEach((name, text) -> lines.add("  " + name + ": " + text));
        }
        return lines;
    }

    @Override
    public void notice(String text) {
        message(text);
    }

    /**
     * After every step: refreshes the steps/s estimate (the average since the first step of this
     * process, whose JIT warm-up is left out, so the ETA is steady and includes evaluation and
     * checkpoint time); on a terminal redraws the live line, otherwise prints a plain line at logged
     * steps and when {@value #HEARTBEAT_SECONDS} s passed since the last line.
     */
    @Override
    public void stepCompleted(Step step) {
        long now = nanoClock.getAsLong();
        long done = step.step();
        totalSteps = step.totalSteps();
        if (!heartbeatStarted) {
            heartbeatStarted = true;
            lastPlainNanos = now;
        }
        if (clockStartNanos < 0) {
            clockStartNanos = now;
            clockStartStep = done;
        } else if (now - clockStartNanos >= MIN_RATE_NANOS) {
            rate = (done - clockStartStep) / ((now - clockStartNanos) / 1e9);
        }
        if (live) {
            if (now - lastDrawNanos >= LIVE_REFRESH_NANOS || done == totalSteps) {
                lastDrawNanos = now;
                String text = line(done, step.loss());
                int pad = Math.max(0, liveWidth - text.length());
                out.print("\r" + text + " ".repeat(pad));
                liveWidth = text.length();
                out.flush();
            }
        } else if (step.logged() || now - lastPlainNanos >= HEARTBEAT_NANOS) {
            out.println(line(done, step.loss()));
            out.flush();
            lastPlainNanos = now;
        }
    }

    @Override
    public void evaluated(Evaluation evaluation) {
        message(TrainingListener.evaluationLine(evaluation));
    }

    @Override
    public void runFinished(TrainResult result) {
        finish();
    }

    @Override
    public void runFailed(Throwable error) {
        finish();
    }

    /** A message on its own line. */
    void message(String text) {
        clearLive();
        out.println(text);
        out.flush();
        heartbeatStarted = true;
        lastPlainNanos = nanoClock.getAsLong();
    }

    /** Ends the live line. */
    void finish() {
        if (live && liveWidth > 0) {
            out.println();
            liveWidth = 0;
        }
        out.flush();
    }

    private void clearLive() {
        if (live && liveWidth > 0) {
            out.print("\r" + " ".repeat(liveWidth) + "\r");
            liveWidth = 0;
        }
    }

    String line(long done, double loss) {
        StringBuilder sb = new StringBuilder();
        sb.append("step ").append(done).append('/').append(totalSteps);
        if (!Double.isNaN(loss)) {
            // NaN: no loss read yet (unlogged steps are not read back from the backend)
            sb.append("  loss ").append(TrainingListener.number(loss));
        }
        if (Double.isFinite(rate) && rate > 0) {
            sb.append("  ").append(rate >= 10 ? String.format(Locale.ROOT, "%.0f", rate) : String.format(Locale.ROOT, "%.2f", rate))
                    .append(" steps/s");
            sb.append("  ETA ").append(duration((totalSteps - done) / rate));
        }
        return sb.toString();
    }

    /** 12s, 3m04s, 1h02m. */
    static String duration(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
