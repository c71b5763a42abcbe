package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

/**
 * The result of a {@link PermutationHarness} check.
 *
 * @param check        what was checked ("function", "invariance", "equivariance")
 * @param trials       random permutations tried
 * @param maxDeviation the largest |permuted - expected| over every trial and entry
 * @param tolerance    the allowed deviation: {@code tolerance * max(1, max |expected|)}
 * @param passed       whether every trial stayed within the tolerance
 * @param detail       where the worst deviation was (trial, parameter, permutation)
 */
public record SymmetryReport(String check, int trials, double maxDeviation, double tolerance, boolean passed, String detail) {
    public SymmetryReport {
        requireNonNull(check, "check is null");
        requireNonNull(detail, "detail is null");
    }

    /** This report, or an {@link AssertionError} naming the failure when it did not pass. */
    public SymmetryReport assertPassed() {
        if (!passed) {
            throw new AssertionError("permutation " + check + " check failed: deviation " + maxDeviation + " exceeds " + tolerance
                    + " (" + detail + ")");
        }
        return this;
    }
}
