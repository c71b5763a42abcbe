package dev.metaforge.api.preflight;

import java.util.Locale;

/** Byte counts as text. */
final class Budgets {
    private Budgets() {
    }

    /** "512 B", "3.2 MiB", "16.0 GiB", "more than 8 EiB". */
    static String format(long bytes) {
        if (bytes == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
