package dev.metaforge.api.preflight;

import static java.util.Objects.requireNonNull;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * How much memory one training step may need, checked by the pre-flight pass before a run starts.
 *
 * <pre>{@code
 * MemoryBudget.defaultBudget();     // half of this machine's physical memory
 * MemoryBudget.parse("8g");         // 8 GiB
 * MemoryBudget.parse("25%");        // a quarter of physical memory
 * }</pre>
 *
 * @param bytes  the budget
 * @param origin where it came from, for messages (e.g. "50% of 23.4 GiB physical memory")
 */
public record MemoryBudget(long bytes, String origin) {
    /** The share of physical memory a step may use unless told otherwise. */
    public static final double DEFAULT_FRACTION = 0.5;

    public MemoryBudget {
        if (bytes <= 0) {
            throw new IllegalArgumentException("a memory budget must be positive, got " + bytes + " bytes");
        }
        requireNonNull(origin, "origin is null");
    }

    /** {@link #DEFAULT_FRACTION} of physical memory. */
    public static MemoryBudget defaultBudget() {
        return fraction(DEFAULT_FRACTION);
    }

    /** A share of physical memory (in (0, 1]). */
    public static MemoryBudget fraction(double share) {
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException("a memory share must be in (0, 100%], got " + share * 100 + "%");
        }
        long physical = physicalMemory();
        return new MemoryBudget(Math.max(1, (long) (physical * share)), String.format(Locale.ROOT, "%s%% of %s physical memory",
                trim(share * 100), Budgets.format(physical)));
    }

    /**
     * Parses {@code 8g}, {@code 512m}, {@code 2GiB}, {@code 1048576} (bytes) or {@code 40%} (of physical memory).
     *
     * @throws IllegalArgumentException naming the text and the accepted forms
     */
    public static MemoryBudget parse(String text) {
        requireNonNull(text, "text is null");
        String t = text.trim().toLowerCase(Locale.ROOT).replace(" ", "");
        try {
            if (t.endsWith("%")) {
                return fraction(Double.parseDouble(t.substring(0, t.length() - 1)) / 100);
            }
            String number = t.replaceAll("(ib|b)$", "");
            long unit = 1;
            char last = number.isEmpty() ? ' ' : number.charAt(number.length() - 1);
            switch (last) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                case 't' -> unit = 1L << 40;
                default -> unit = 1;
            }
            if (unit != 1) {
                number = number.substring(0, number.length() - 1);
            }
            double value = Double.parseDouble(number);
            if (!(value > 0) || value * unit >= Long.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return new MemoryBudget((long) (value * unit), text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("memory budget '" + text + "' is not a size: use e.g. 8g, 512m, 2GiB, 1048576 (bytes)"
                    + " or 40% (of physical memory)", e);
        }
    }

    /** Total physical memory of this machine, or the JVM's maximum heap when the platform does not say. */
    public static long physicalMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long total = os.getTotalMemorySize();
            if (total > 0) {
                return total;
            }
        }
        return Runtime.getRuntime().maxMemory();
    }

    private static String trim(double percent) {
        return percent == Math.rint(percent) ? Long.toString((long) percent) : String.format(Locale.ROOT, "%.1f", percent);
    }

    /** "11.7 GiB (50% of 23.4 GiB physical memory)". */
    @Override
    public String toString() {
        return Budgets.format(bytes) + (origin.isEmpty() ? "" : " (" + origin + ")");
    }
}
