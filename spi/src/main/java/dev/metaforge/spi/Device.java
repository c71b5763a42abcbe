package dev.metaforge.spi;

import static java.util.Objects.requireNonNull;

/**
 * A compute device of a backend, such as {@code cpu:0} or {@code gpu:1}.
 *
 * @param kind  "cpu" or "gpu"
 * @param index the device ordinal within its kind
 */
public record Device(String kind, int index) {
    /** The first CPU. */
    public static final Device CPU = new Device("cpu", 0);

    public Device {
        requireNonNull(kind, "kind is null");
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0, got " + index);
        }
    }

    /** Parses {@code cpu}, {@code gpu}, {@code gpu:1}; anything else is an error saying what is accepted. */
    public static Device parse(String text) {
        requireNonNull(text, "text is null");
        String[] parts = text.trim().toLowerCase(java.util.Locale.ROOT).split(":", -1);
        if (parts.length > 2 || !(parts[0].equals("cpu") || parts[0].equals("gpu"))
                || (parts.length == 2 && !parts[1].matches("[0-9]{1,4}"))) {
            throw new IllegalArgumentException("unknown device '" + text + "': use cpu, gpu or gpu:N (N = 0, 1, ...)");
        }
        return new Device(parts[0], parts.length > 1 ? Integer.parseInt(parts[1]) : 0);
    }

    public boolean isGpu() {
        return kind.equals("gpu");
    }

    @Override
    public String toString() {
        return kind + ":" + index;
    }
}
