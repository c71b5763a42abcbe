package dev.metaforge.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.train.Trainer;
import dev.metaforge.api.train.TrainingListener;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {
    /** A clock the test moves by hand. */
    private static final class FakeClock {
        long nanos = 1_000_000_000L;

        void advanceSeconds(double seconds) {
            nanos += (long) (seconds * 1e9);
        }
    }

    private static TrainingListener.Step step(long step, long total, double loss, boolean logged) {
        return new TrainingListener.Step(step, total, loss, logged, Map.of(), 0);
    }

    private static String text(StringWriter w) {
        return w.toString().replace(System.lineSeparator(), "\n");
    }

    @Test
    void plainModePrintsOneLinePerLoggedStep() {
        StringWriter text = new StringWriter();
        FakeClock clock = new FakeClock();
        ConsoleProgress p = new ConsoleProgress(new PrintWriter(text, true), false, () -> clock.nanos);
        p.stepCompleted(step(1, 5000, 0.5, false));
        p.stepCompleted(step(2, 5000, 0.25, false));
        assertEquals("", text.toString(), "nothing between logged steps while under the heartbeat");
        p.stepCompleted(step(1200, 5000, 0.0123, true));
        p.evaluated(new TrainingListener.Evaluation(1200, Map.of("mse", 0.001)));
        p.finish();
        assertEquals("step 1200/5000  loss 0.01230\neval step 1200:  mse 0.001000\n", text(text));
    }

    @Test
    void offATerminalALineAtLeastEveryFiveSecondsEvenBetweenLoggedSteps() {
        StringWriter text = new StringWriter();
        FakeClock clock = new FakeClock();
        ConsoleProgress p = new ConsoleProgress(new PrintWriter(text, true), false, () -> clock.nanos);
        // Slow steps, logged every 100: one step every 1.2 s.
        for (int s = 1; s <= 20; s++) {
            clock.advanceSeconds(1.2);
            p.stepCompleted(step(s, 1000, 1.0 / s, false));
        }
        List<String> lines = text(text).lines().toList();
        // Counting from step 1: a line once 5 s have passed since the last one, i.e. every 5th step of 1.2 s (6 s).
        assertEquals(List.of("step 6/1000  loss 0.1667  0.83 steps/s  ETA 19m53s", "step 11/1000  loss 0.09091  0.83 steps/s  ETA 19m47s",
                "step 16/1000  loss 0.06250  0.83 steps/s  ETA 19m41s"), lines);
        // A logged step prints at once and restarts the 5 s wait; the wait is inclusive of 5.0 s.
        clock.advanceSeconds(1);
        p.stepCompleted(step(21, 1000, 0.1, true));
        clock.advanceSeconds(4.5);
        p.stepCompleted(step(22, 1000, 0.1, false));
        assertEquals(4, text(text).lines().count(), text(text));
        clock.advanceSeconds(0.5);
        p.stepCompleted(step(23, 1000, 0.1, false));
        assertEquals(5, text(text).lines().count(), text(text));
    }

    @Test
    void liveModeRewritesOneLineAndEndsIt() {
        StringWriter text = new StringWriter();
        FakeClock clock = new FakeClock();
        ConsoleProgress p = new ConsoleProgress(new PrintWriter(text, true), true, () -> clock.nanos);
        p.stepCompleted(step(1, 10, 1.0, false));
        clock.advanceSeconds(0.25);
        p.stepCompleted(step(10, 10, 0.5, true));
        p.finish();
        String s = text.toString();
        assertTrue(s.startsWith("\rstep 1/10  loss 1.000"), s);
        assertTrue(s.contains("\rstep 10/10  loss 0.5000  36 steps/s  ETA 0s"), s);
        assertTrue(s.endsWith(System.lineSeparator()), "the live line is ended");
        assertFalse(s.contains("\n" + "step"), "no plain lines in live mode: " + s);
    }

    @Test
    void theSummarySaysWhatEachMetricMeasures() {
        StringWriter text = new StringWriter();
        ConsoleProgress p = new ConsoleProgress(new PrintWriter(text, true), false, () -> 0L);
        Map<String, String> descriptions = new LinkedHashMap<>();
        descriptions.put("training loss", "weighted loss; floor 0.17");
        descriptions.put("eval mse", "distance to the optimum: the signal");
        p.runStarted(new TrainingListener.RunStarted("mip", Path.of("runs/mip"), "reference", "float32", 1234, 0, 500,
                Trainer.Start.FRESH, 25, 25, "pre-flight: ok", descriptions));
        assertEquals("pre-flight: ok\ntraining mip on reference (float32): 1234 parameters, 500 steps, output "
                + Path.of("runs/mip") + "\nwhat the metrics measure:\n  training loss: weighted loss; floor 0.17\n"
                + "  eval mse: distance to the optimum: the signal\n", text(text));
    }

    @Test
    void formatsDurationsAndNumbers() {
        assertEquals("12s", ConsoleProgress.duration(12.4));
        assertEquals("3m04s", ConsoleProgress.duration(184));
        assertEquals("1h02m", ConsoleProgress.duration(3725));
        assertEquals("0.01230", TrainingListener.number(0.0123));
        assertEquals("1.235e-07", TrainingListener.number(1.2345e-7));
    }
}
