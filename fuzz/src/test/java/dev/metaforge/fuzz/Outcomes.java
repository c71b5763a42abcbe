package dev.metaforge.fuzz;

import java.util.Map;
import java.util.TreeMap;

/**
 * Counts what a target's inputs led to (accepted, or refused with which documented error) and prints
 * the tally to standard error at every power of two from 1,024 executions, so a fuzzing log shows
 * how deep the inputs get (a target that only ever sees parse errors is not fuzzing much).
 */
final class Outcomes {
    private final String target;
    private final Map<String, Long> counts = new TreeMap<>();
    private long total;

    Outcomes(String target) {
        this.target = target;
    }

    void count(String outcome) {
        counts.merge(outcome, 1L, Long::sum);
        total++;
        if (total >= 1024 && Long.bitCount(total) == 1) {
            System.err.println("outcomes of " + target + " after " + total + " inputs: " + counts);
        }
    }
}
