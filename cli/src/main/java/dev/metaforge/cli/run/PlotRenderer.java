package dev.metaforge.cli.run;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Draws a {@link PlotModel} as a PNG: its panels stacked top to bottom, each a frame with ticks, tick
 * labels, its own y axis (log scale for losses spanning decades, linear otherwise) and a legend; the
 * title above and the notes below. Pure Java 2D on a {@link BufferedImage}, so it works headless.
 */
public final class PlotRenderer {
    static final int WIDTH = 900;
    /** The height of a plot of one panel and no notes. */
    static final int HEIGHT = 540;
    private static final int LEFT = 90;
    private static final int RIGHT = 30;
    private static final int TOP = 50;
    /** Below each panel: tick labels and the "step" label. */
    private static final int PANEL_BOTTOM = 70;
    private static final int SINGLE_PANEL_HEIGHT = HEIGHT - TOP - PANEL_BOTTOM;
    private static final int STACKED_PANEL_HEIGHT = 260;
    private static final int NOTE_LINE = 18;
    private static final Color GRID = new Color(225, 225, 225);

    private PlotRenderer() {
    }

    /** The PNG bytes of {@code model}. */
    public static byte[] png(PlotModel model) {
        BufferedImage image = render(model);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, "png", out)) {
                throw new IllegalStateException("no PNG writer in this JVM");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static int panelHeight(PlotModel model) {
        return model.panels().size() == 1 ? SINGLE_PANEL_HEIGHT : STACKED_PANEL_HEIGHT;
    }

    static BufferedImage render(PlotModel model) {
        int plotH = panelHeight(model);
        int notesH = model.notes().isEmpty() ? 0 : model.notes().size() * NOTE_LINE + 10;
        int height = TOP + model.panels().size() * (plotH + PANEL_BOTTOM) + notesH;
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            boolean anyData = false;
            int top = TOP;
            for (PlotModel.Panel panel : model.panels()) {
                anyData |= drawPanel(g, panel, top, plotH);
                top += plotH + PANEL_BOTTOM;
            }
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics nm = g.getFontMetrics();
            for (String note : model.notes()) {
                g.drawString(note, 20, top + nm.getAscent());
                top += NOTE_LINE;
            }
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            FontMetrics fm = g.getFontMetrics();
            String fullTitle = model.title() + (anyData ? "" : " (no data yet)");
            g.drawString(fullTitle, (WIDTH - fm.stringWidth(fullTitle)) / 2, TOP - 18);
        } finally {
            g.dispose();
        }
        return image;
    }

    /** Draws one panel with its plot area at {@code top}; true when it had a finite point. */
    private static boolean drawPanel(Graphics2D g, PlotModel.Panel panel, int top, int plotH) {
        List<List<double[]>> curves = new ArrayList<>();
        List<double[]> finite = new ArrayList<>();
        for (PlotModel.Line line : panel.lines()) {
            List<double[]> curve = new ArrayList<>();
            for (double[] p : line.points()) {
                if (Double.isFinite(p[0]) && Double.isFinite(p[1])) {
                    curve.add(p);
                    finite.add(p);
                }
            }
            curves.add(curve);
        }
        boolean logScale = panel.scale() == PlotModel.Scale.LOG_WHEN_POSITIVE && !finite.isEmpty();
        double xMin = Double.POSITIVE_INFINITY;
        double xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (double[] p : finite) {
            xMin = Math.min(xMin, p[0]);
            xMax = Math.max(xMax, p[0]);
            yMin = Math.min(yMin, p[1]);
            yMax = Math.max(yMax, p[1]);
            if (p[1] <= 0) {
                logScale = false;
            }
        }
        if (finite.isEmpty()) {
            xMin = 0;
            xMax = 1;
            yMin = 0;
            yMax = 1;
        }
        if (panel.scale() == PlotModel.Scale.UNIT) {
            yMin = Math.min(0, yMin);
            yMax = Math.max(1, yMax);
        }
        if (xMax <= xMin) {
            xMax = xMin + 1;
        }
        Axis x = Axis.linear(xMin, xMax);
        Axis y = logScale ? Axis.log(yMin, yMax) : Axis.linear(yMin, yMax);

        int plotW = WIDTH - LEFT - RIGHT;
        Font tickFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, 14);

        // grid and ticks
        g.setFont(tickFont);
        FontMetrics fm = g.getFontMetrics();
        for (double t : x.ticks) {
            int px = LEFT + (int) Math.round(x.fraction(t) * plotW);
            g.setColor(GRID);
            g.drawLine(px, top, px, top + plotH);
            g.setColor(Color.BLACK);
            g.drawLine(px, top + plotH, px, top + plotH + 5);
            String label = x.label(t);
            g.drawString(label, px - fm.stringWidth(label) / 2, top + plotH + 8 + fm.getAscent());
        }
        for (double t : y.minorTicks) {
            int py = top + plotH - (int) Math.round(y.fraction(t) * plotH);
            g.setColor(Color.BLACK);
            g.drawLine(LEFT - 3, py, LEFT, py);
        }
        for (double t : y.ticks) {
            int py = top + plotH - (int) Math.round(y.fraction(t) * plotH);
            g.setColor(GRID);
            g.drawLine(LEFT, py, LEFT + plotW, py);
            g.setColor(Color.BLACK);
            g.drawLine(LEFT - 6, py, LEFT, py);
            String label = y.label(t);
            g.drawString(label, LEFT - 9 - fm.stringWidth(label), py + fm.getAscent() / 2 - 1);
        }
        // frame
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, top, plotW, plotH);

        // the curves, then a legend when there is more than one
        g.setClip(LEFT, top, plotW + 1, plotH + 1);
        for (int c = 0; c < curves.size(); c++) {
            List<double[]> curve = curves.get(c);
            PlotModel.Line line = panel.lines().get(c);
            g.setColor(new Color(line.rgb()));
            g.setStroke(stroke(line));
            Path2D.Double path = new Path2D.Double();
            for (int i = 0; i < curve.size(); i++) {
                double px = LEFT + x.fraction(curve.get(i)[0]) * plotW;
                double py = top + plotH - y.fraction(curve.get(i)[1]) * plotH;
                if (i == 0) {
                    path.moveTo(px, py);
                } else {
                    path.lineTo(px, py);
                }
            }
            if (curve.size() == 1) {
                double[] p = curve.get(0);
                int px = LEFT + (int) Math.round(x.fraction(p[0]) * plotW);
                int py = top + plotH - (int) Math.round(y.fraction(p[1]) * plotH);
                g.fillOval(px - 3, py - 3, 7, 7);
            } else if (curve.size() > 1) {
                g.draw(path);
            }
        }
        g.setClip(null);
        g.setStroke(new BasicStroke(1f));
        List<PlotModel.Line> lines = panel.lines();
        if (lines.size() > 1) {
            FontMetrics lm = g.getFontMetrics();
            int lx = LEFT + plotW - 10;
            int ly = top + 10;
            int widest = 0;
            for (PlotModel.Line line : lines) {
                widest = Math.max(widest, lm.stringWidth(line.name()));
            }
            int boxH = lines.size() * (lm.getHeight() + 2) + 6;
            g.setColor(Color.WHITE);
            g.fillRect(lx - widest - 34, ly - 4, widest + 38, boxH);
            g.setColor(GRID);
            g.drawRect(lx - widest - 34, ly - 4, widest + 38, boxH);
            for (int c = 0; c < lines.size(); c++) {
                int rowY = ly + c * (lm.getHeight() + 2) + lm.getAscent();
                g.setColor(new Color(lines.get(c).rgb()));
                g.setStroke(stroke(lines.get(c)));
                g.drawLine(lx - widest - 28, rowY - lm.getAscent() / 2, lx - widest - 10, rowY - lm.getAscent() / 2);
                g.setStroke(new BasicStroke(1f));
                g.setColor(Color.BLACK);
                g.drawString(lines.get(c).name(), lx - widest - 4, rowY);
            }
        }

        // axis labels
        g.setColor(Color.BLACK);
        g.setFont(labelFont);
        fm = g.getFontMetrics();
        String xLabel = "step";
        g.drawString(xLabel, LEFT + (plotW - fm.stringWidth(xLabel)) / 2, top + plotH + PANEL_BOTTOM - 18);
        String yLabel = logScale ? panel.yLabel() + " (log scale)" : panel.yLabel();
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.drawString(yLabel, -(top + (plotH + fm.stringWidth(yLabel)) / 2), 22);
        rotated.dispose();
        return !finite.isEmpty();
    }

    private static BasicStroke stroke(PlotModel.Line line) {
        return line.dashed()
                ? new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {6f, 5f}, 0f)
                : new BasicStroke(1.8f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }

    /** A value-to-position mapping with its tick positions and labels. */
    private static final class Axis {
        final boolean log;
        final double lo;
        final double hi;
        final List<Double> ticks = new ArrayList<>();
        final List<Double> minorTicks = new ArrayList<>();
        private final double step;

        private Axis(boolean log, double lo, double hi, double step) {
            this.log = log;
            this.lo = lo;
            this.hi = hi;
            this.step = step;
        }

        /** Nice round ticks (1, 2 or 5 times a power of ten), about six of them. */
        static Axis linear(double min, double max) {
            if (max <= min) {
                double pad = min == 0 ? 1 : Math.abs(min) * 0.1;
                min -= pad;
                max += pad;
            }
            double step = niceStep((max - min) / 6);
            double lo = Math.floor(min / step) * step;
            double hi = Math.ceil(max / step) * step;
            Axis a = new Axis(false, lo, hi, step);
            for (long i = 0; lo + i * step <= hi + step * 1e-9; i++) {
                a.ticks.add(lo + i * step);
            }
            return a;
        }

        /** Whole decades; minor ticks at 2..9 when the range spans few decades. */
        static Axis log(double min, double max) {
            double lo = Math.floor(Math.log10(min));
            double hi = Math.ceil(Math.log10(max));
            if (hi <= lo) {
                hi = lo + 1;
            }
            int decades = (int) (hi - lo);
            int every = Math.max(1, (int) Math.ceil(decades / 8.0));
            Axis a = new Axis(true, lo, hi, 1);
            for (double d = lo; d <= hi; d += every) {
                a.ticks.add(Math.pow(10, d));
            }
            if (decades <= 4) {
                for (double d = lo; d < hi; d++) {
                    for (int m = 2; m <= 9; m++) {
                        a.minorTicks.add(m * Math.pow(10, d));
                    }
                }
            }
            return a;
        }

        private static double niceStep(double raw) {
            double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
            double r = raw / magnitude;
            double nice = r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10;
            return nice * magnitude;
        }

        double fraction(double v) {
            return log ? (Math.log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
        }

        String label(double v) {
            if (log) {
                int exponent = (int) Math.round(Math.log10(v));
                return exponent >= -2 && exponent <= 3 ? plain(v) : "1e" + exponent;
            }
            return plain(v);
        }

        private String plain(double v) {
            if (Math.abs(v) < step * 1e-9 && !log) {
                return "0";
            }
            double abs = Math.abs(v);
            if (abs >= 1e6 || abs < 1e-3) {
                return String.format(Locale.ROOT, "%.1e", v);
            }
            int decimals = log ? Math.max(0, (int) -Math.floor(Math.log10(abs))) : Math.max(0, (int) -Math.floor(Math.log10(step)));
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }
    }
}
