package dev.metaforge.api.train;

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
 * Draws the training loss against the step as a PNG: a line on a log-scale y axis (linear when
 * some loss is not positive), with ticks, tick labels, axis labels and a title. Pure Java 2D on
 * a {@link BufferedImage}, so it works headless.
 */
final class LossPlot {
    static final int WIDTH = 900;
    static final int HEIGHT = 540;
    private static final int LEFT = 90;
    private static final int RIGHT = 30;
    private static final int TOP = 50;
    private static final int BOTTOM = 70;
    private static final Color LINE = new Color(31, 119, 180);
    private static final Color GRID = new Color(225, 225, 225);

    private LossPlot() {
    }

    private static final Color[] PALETTE = {
        new Color(31, 119, 180), new Color(214, 39, 40), new Color(44, 160, 44),
        new Color(255, 127, 14), new Color(148, 103, 189), new Color(140, 86, 75),
        new Color(227, 119, 194), new Color(127, 127, 127), new Color(188, 189, 34), new Color(23, 190, 207)};

    /** One named curve of {step, value} pairs. */
    record Series(String name, List<double[]> points) {
    }

    /** The PNG bytes of the plot of {@code points} ({step, loss} pairs). */
    static byte[] png(String title, List<double[]> points) {
        return pngOfSeries(title, List.of(new Series("training loss", points)));
    }

    /** The PNG bytes of several curves on one log-scale axis (linear when a value is <= 0), with a legend. */
    static byte[] pngOfSeries(String title, List<Series> series) {
        return pngOfSeries(title, series, true, null);
    }

    /**
     * As {@link #pngOfSeries(String, List)}; {@code allowLog} false keeps a linear y axis, and
     * {@code yName} (null: the series name or "value") labels it.
     */
    static byte[] pngOfSeries(String title, List<Series> series, boolean allowLog, String yName) {
        BufferedImage image = renderSeries(title, series, allowLog, yName);
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

    static BufferedImage render(String title, List<double[]> points) {
        return renderSeries(title, List.of(new Series("training loss", points)));
    }

    static BufferedImage renderSeries(String title, List<Series> allSeries) {
        return renderSeries(title, allSeries, true, null);
    }

    static BufferedImage renderSeries(String title, List<Series> allSeries, boolean allowLog, String yAxisName) {
        List<List<double[]>> curves = new ArrayList<>();
        List<double[]> finite = new ArrayList<>();
        for (Series series : allSeries) {
            List<double[]> curve = new ArrayList<>();
            for (double[] p : series.points()) {
                if (Double.isFinite(p[0]) && Double.isFinite(p[1])) {
                    curve.add(p);
                    finite.add(p);
                }
            }
            curves.add(curve);
        }
        boolean logScale = allowLog && !finite.isEmpty();
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
        if (xMax <= xMin) {
            xMax = xMin + 1;
        }
        Axis x = Axis.linear(xMin, xMax);
        Axis y = logScale ? Axis.log(yMin, yMax) : Axis.linear(yMin, yMax);

        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            int plotW = WIDTH - LEFT - RIGHT;
            int plotH = HEIGHT - TOP - BOTTOM;
            Font tickFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
            Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
            Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 16);

            // grid and ticks
            g.setFont(tickFont);
            FontMetrics fm = g.getFontMetrics();
            for (double t : x.ticks) {
                int px = LEFT + (int) Math.round(x.fraction(t) * plotW);
                g.setColor(GRID);
                g.drawLine(px, TOP, px, TOP + plotH);
                g.setColor(Color.BLACK);
                g.drawLine(px, TOP + plotH, px, TOP + plotH + 5);
                String label = x.label(t);
                g.drawString(label, px - fm.stringWidth(label) / 2, TOP + plotH + 8 + fm.getAscent());
            }
            for (double t : y.minorTicks) {
                int py = TOP + plotH - (int) Math.round(y.fraction(t) * plotH);
                g.setColor(Color.BLACK);
                g.drawLine(LEFT - 3, py, LEFT, py);
            }
            for (double t : y.ticks) {
                int py = TOP + plotH - (int) Math.round(y.fraction(t) * plotH);
                g.setColor(GRID);
                g.drawLine(LEFT, py, LEFT + plotW, py);
                g.setColor(Color.BLACK);
                g.drawLine(LEFT - 6, py, LEFT, py);
                String label = y.label(t);
                g.drawString(label, LEFT - 9 - fm.stringWidth(label), py + fm.getAscent() / 2 - 1);
            }
            // frame
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, plotW, plotH);

            // the curves, then a legend when there is more than one
            g.setClip(LEFT, TOP, plotW + 1, plotH + 1);
            g.setStroke(new BasicStroke(1.8f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            for (int c = 0; c < curves.size(); c++) {
                List<double[]> curve = curves.get(c);
                g.setColor(PALETTE[c % PALETTE.length]);
                Path2D.Double path = new Path2D.Double();
                for (int i = 0; i < curve.size(); i++) {
                    double px = LEFT + x.fraction(curve.get(i)[0]) * plotW;
                    double py = TOP + plotH - y.fraction(curve.get(i)[1]) * plotH;
                    if (i == 0) {
                        path.moveTo(px, py);
                    } else {
                        path.lineTo(px, py);
                    }
                }
                if (curve.size() == 1) {
                    double[] p = curve.get(0);
                    int px = LEFT + (int) Math.round(x.fraction(p[0]) * plotW);
                    int py = TOP + plotH - (int) Math.round(y.fraction(p[1]) * plotH);
                    g.fillOval(px - 3, py - 3, 7, 7);
                } else if (curve.size() > 1) {
                    g.draw(path);
                }
            }
            g.setClip(null);
            if (allSeries.size() > 1) {
                g.setFont(tickFont);
                FontMetrics lm = g.getFontMetrics();
                int lx = LEFT + plotW - 10;
                int ly = TOP + 10;
                int widest = 0;
                for (Series series : allSeries) {
                    widest = Math.max(widest, lm.stringWidth(series.name()));
                }
                g.setColor(Color.WHITE);
                g.fillRect(lx - widest - 34, ly - 4, widest + 38, allSeries.size() * (lm.getHeight() + 2) + 6);
                g.setColor(GRID);
                g.drawRect(lx - widest - 34, ly - 4, widest + 38, allSeries.size() * (lm.getHeight() + 2) + 6);
                for (int c = 0; c < allSeries.size(); c++) {
                    int rowY = ly + c * (lm.getHeight() + 2) + lm.getAscent();
                    g.setColor(PALETTE[c % PALETTE.length]);
                    g.drawLine(lx - widest - 28, rowY - lm.getAscent() / 2, lx - widest - 10, rowY - lm.getAscent() / 2);
                    g.setColor(Color.BLACK);
                    g.drawString(allSeries.get(c).name(), lx - widest - 4, rowY);
                }
            }

            // labels and title
            g.setColor(Color.BLACK);
            g.setFont(labelFont);
            fm = g.getFontMetrics();
            String xLabel = "step";
            g.drawString(xLabel, LEFT + (plotW - fm.stringWidth(xLabel)) / 2, HEIGHT - 18);
            String yName = yAxisName != null ? yAxisName : allSeries.size() == 1 ? allSeries.get(0).name() : "value";
            String yLabel = logScale ? yName + " (log scale)" : yName;
            Graphics2D rotated = (Graphics2D) g.create();
            rotated.rotate(-Math.PI / 2);
            rotated.drawString(yLabel, -(TOP + (plotH + fm.stringWidth(yLabel)) / 2), 22);
            rotated.dispose();
            g.setFont(titleFont);
            fm = g.getFontMetrics();
            String fullTitle = title + (finite.isEmpty() ? " (no data yet)" : "");
            g.drawString(fullTitle, (WIDTH - fm.stringWidth(fullTitle)) / 2, TOP - 18);
        } finally {
            g.dispose();
        }
        return image;
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
