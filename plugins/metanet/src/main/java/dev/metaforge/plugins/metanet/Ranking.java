package dev.metaforge.plugins.metanet;

/** Rank statistics for evaluating predictors. */
final class Ranking {
    private Ranking() {
    }

    /**
     * Kendall's tau-b between two paired samples: (concordant - discordant) pairs over the
     * tie-corrected number of pairs; 1 for the same order, -1 for the reverse, 0 for none.
     */
    static double kendallTau(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("samples of different lengths " + a.length + " and " + b.length);
        }
        long concordant = 0;
        long discordant = 0;
        long tiesA = 0;
        long tiesB = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = i + 1; j < a.length; j++) {
                double da = Math.signum(a[i] - a[j]);
                double db = Math.signum(b[i] - b[j]);
                if (da == 0 && db == 0) {
                    continue;
                }
                if (da == 0) {
                    tiesA++;
                } else if (db == 0) {
                    tiesB++;
                } else if (da == db) {
                    concordant++;
                } else {
                    discordant++;
                }
            }
        }
        double denominator = Math.sqrt((double) (concordant + discordant + tiesA) * (concordant + discordant + tiesB));
        return denominator == 0 ? 0 : (concordant - discordant) / denominator;
    }
}
