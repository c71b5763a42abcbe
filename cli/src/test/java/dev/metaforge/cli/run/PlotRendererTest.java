package dev.metaforge.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class PlotRendererTest {
    private static final int LINE_RGB = 0x1F77B4;

    /** An exponentially decaying loss over four decades. */
    static List<double[]> decaying() {
        List<double[]> points = new ArrayList<>();
        for (int step = 10; step <= 2000; step += 10) {
            points.add(new double[] {step, 2.0 * Math.exp(-step / 250.0) + 1e-4});
        }
        return points;
    }

    /** One panel, one curve: the loss plot of a run with no evaluation metrics. */
    static byte[] png(String title, List<double[]> points) {
        return PlotRenderer.png(new PlotModel(title, List.of(new PlotModel.Panel("training loss", PlotModel.Scale.LOG_WHEN_POSITIVE,
                List.of(new PlotModel.Line("training loss", PlotModel.colour(0, 1), false, points)))), List.of()));
    }

    @Test
    void drawsTheCurveDescendingFromLeftToRight() throws IOException {
        byte[] png = png("sin: training loss", decaying());
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(PlotRenderer.WIDTH, image.getWidth());
        assertEquals(PlotRenderer.HEIGHT, image.getHeight());
        // The topmost curve pixel in the left quarter lies above (smaller y) that in the right quarter.
        int leftY = topmostCurvePixel(image, 95, PlotRenderer.WIDTH / 4);
        int rightY = topmostCurvePixel(image, 3 * PlotRenderer.WIDTH / 4, PlotRenderer.WIDTH - 35);
        assertTrue(leftY >= 0 && rightY >= 0, "curve pixels found: " + leftY + ", " + rightY);
        assertTrue(leftY + 100 < rightY, "a decaying loss falls across the plot: " + leftY + " vs " + rightY);
        // Tick labels and the axis title are drawn left of the frame.
        assertTrue(darkPixels(image, 0, 85, 40, PlotRenderer.HEIGHT - 70) > 100, "y tick labels drawn");
        assertTrue(darkPixels(image, 90, PlotRenderer.WIDTH - 30, PlotRenderer.HEIGHT - 60, PlotRenderer.HEIGHT) > 100, "x tick labels drawn");
        assertTrue(darkPixels(image, 200, PlotRenderer.WIDTH - 200, 0, 45) > 100, "title drawn");
    }

    @Test
    void nonPositiveLossesFallBackToALinearScaleAndEmptyDataStillDraws() throws IOException {
        List<double[]> points = List.of(new double[] {1, 0.5}, new double[] {2, -0.25}, new double[] {3, Double.NaN}, new double[] {4, -1});
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png("negative", points)));
        assertTrue(topmostCurvePixel(image, 90, PlotRenderer.WIDTH - 30) >= 0);
        BufferedImage empty = ImageIO.read(new ByteArrayInputStream(png("empty", List.of())));
        assertEquals(-1, topmostCurvePixel(empty, 90, PlotRenderer.WIDTH - 30));
        BufferedImage single = ImageIO.read(new ByteArrayInputStream(png("one", List.<double[]>of(new double[] {5, 0.3}))));
        assertTrue(topmostCurvePixel(single, 90, PlotRenderer.WIDTH - 30) >= 0, "a single point is drawn as a dot");
    }

    @Test
    void panelsStackWithTheirOwnAxesAndNotesGoUnderThem() throws IOException {
        PlotModel model = new PlotModel("two", List.of(
                new PlotModel.Panel("loss", PlotModel.Scale.LOG_WHEN_POSITIVE, List.of(new PlotModel.Line("training loss", LINE_RGB, false, decaying()))),
                new PlotModel.Panel("accuracy", PlotModel.Scale.UNIT, List.of(
                        new PlotModel.Line("eval accuracy", 0xD62728, false, List.of(new double[] {10, 0.5}, new double[] {2000, 0.9}))))),
                List.of("training loss: what it measures", "eval accuracy: what it measures"));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(PlotRenderer.png(model)));
        int panel = PlotRenderer.panelHeight(model);
        assertEquals(260, panel);
        assertEquals(50 + 2 * (panel + 70) + 2 * 18 + 10, image.getHeight());
        // The loss curve stays in the first panel, the accuracy curve in the second.
        int lossTop = topmostPixel(image, LINE_RGB, 90, PlotRenderer.WIDTH - 35);
        int lossBottom = bottommostPixel(image, LINE_RGB, 90, PlotRenderer.WIDTH - 35);
        int accuracyTop = topmostPixel(image, 0xD62728, 90, PlotRenderer.WIDTH - 200);
        assertTrue(lossTop >= 50 && lossBottom <= 50 + panel, lossTop + ".." + lossBottom);
        assertTrue(accuracyTop > 50 + panel + 70, "accuracy drawn in the lower panel: " + accuracyTop);
        assertTrue(darkPixels(image, 20, 400, image.getHeight() - 2 * 18 - 10, image.getHeight()) > 100, "notes drawn");
    }

    private static int topmostCurvePixel(BufferedImage image, int x0, int x1) {
        return topmostPixel(image, LINE_RGB, x0, x1);
    }

    private static int bottommostPixel(BufferedImage image, int rgb, int x0, int x1) {
        for (int y = image.getHeight() - 1; y >= 0; y--) {
            for (int x = x0; x < x1; x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    return y;
                }
            }
        }
        return -1;
    }

    private static int topmostPixel(BufferedImage image, int rgb, int x0, int x1) {
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = x0; x < x1; x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    return y;
                }
            }
        }
        return -1;
    }

    private static int darkPixels(BufferedImage image, int x0, int x1, int y0, int y1) {
        int n = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                int rgb = image.getRGB(x, y);
                int brightness = ((rgb >> 16) & 0xFF) + ((rgb >> 8) & 0xFF) + (rgb & 0xFF);
                if (brightness < 200) {
                    n++;
                }
            }
        }
        return n;
    }
}
