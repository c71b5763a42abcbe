package dev.metaforge.cli.run;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * What a plot shows, before any pixel: panels stacked top to bottom, each with its own y axis and
 * curves of distinct colours, and notes printed under them. {@link PlotRenderer} draws it; tests read
 * it to check which series share an axis.
 *
 * @param title  the plot's title
 * @param panels one or more panels, top to bottom
 * @param notes  lines of text under the panels (e.g. what each metric measures)
 */
public record PlotModel(String title, List<Panel> panels, List<String> notes) {
    public PlotModel {
        requireNonNull(title, "title is null");
        panels = List.copyOf(requireNonNull(panels, "panels is null"));
        notes = List.copyOf(requireNonNull(notes, "notes is null"));
        if (panels.isEmpty()) {
            throw new IllegalArgumentException("a plot needs at least one panel");
        }
    }

    /** How a panel's y axis maps values. */
    public enum Scale {
        /** Logarithmic while every value is positive, else linear: losses spanning decades. */
        LOG_WHEN_POSITIVE,
        /** Linear over the data's range. */
        LINEAR,
        /** Linear from 0 to 1 (widened when a value falls outside): fractions such as accuracies. */
        UNIT
    }

    /**
     * One y axis and its curves.
     *
     * @param yLabel the axis label (what the values are)
     * @param scale  how values map to heights
     * @param lines  the curves, each of its own colour
     */
    public record Panel(String yLabel, Scale scale, List<Line> lines) {
        public Panel {
            requireNonNull(yLabel, "yLabel is null");
            requireNonNull(scale, "scale is null");
            lines = List.copyOf(requireNonNull(lines, "lines is null"));
        }
    }

    /**
     * A named curve.
     *
     * @param name   its legend entry
     * @param rgb    its colour, 0xRRGGBB
     * @param dashed drawn dashed (reference lines)
     * @param points {step, value} pairs; non-finite ones are skipped
     */
    public record Line(String name, int rgb, boolean dashed, List<double[]> points) {
        public Line {
            requireNonNull(name, "name is null");
            points = List.copyOf(requireNonNull(points, "points is null"));
        }
    }

    /** Ten colours that tell apart well (matplotlib's tab10). */
    private static final int[] PALETTE = {
        0x1F77B4, 0xD62728, 0x2CA02C, 0xFF7F0E, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF};

    /**
     * The colour of curve {@code index} of {@code count} in one panel: the ten palette colours, or for
     * more curves hues spread evenly around the colour wheel, so no two curves of a panel share one.
     */
    public static int colour(int index, int count) {
        if (count <= PALETTE.length) {
            return PALETTE[index];
        }
        return java.awt.Color.HSBtoRGB(index / (float) count, 0.85f, 0.8f) & 0xFFFFFF;
    }
}
