package dev.metaforge.api.data;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.Shape;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Reads a folder-of-images dataset such as Omniglot's {@code alphabet/character/*.png}: every
 * directory under {@code root} that directly holds image files (png, jpg, jpeg, gif, bmp) is one
 * class, labelled {@code 0, 1, ...} in the sorted order of its path relative to {@code root}.
 * Images become grey values in [0, 1] (grey images: their samples over the largest sample value;
 * colour and palette images: ITU-R BT.601 luma), area-averaged to {@code size × size};
 * {@code invert} maps v to 1 - v (Omniglot draws dark strokes on white). Examples are stored as
 * 32-bit floats.
 */
public final class ImageFolderDataset {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".gif", ".bmp");

    private ImageFolderDataset() {
    }

    /** Loads every image under {@code root}; examples have shape {@code [size, size]}. */
    public static LabelledDataset load(Path root, int size, boolean invert) {
        requireNonNull(root, "root is null");
        if (size <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + size);
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("image folder dataset: " + root.toAbsolutePath()
                    + " is not a directory; expected root/<class path>/<image files> such as Omniglot's alphabet/character/*.png");
        }
        Map<String, List<Path>> byClass = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(Files::isRegularFile).filter(ImageFolderDataset::isImage).sorted().forEach(f -> {
                Path parent = f.getParent();
                if (parent.equals(root)) {
                    throw new IllegalArgumentException("image folder dataset: image " + f + " lies directly in the root " + root
                            + "; images must be inside one directory per class");
                }
                byClass.computeIfAbsent(root.relativize(parent).toString().replace('\\', '/'), k -> new ArrayList<>()).add(f);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list image folder " + root + ": " + e.getMessage(), e);
        }
        if (byClass.isEmpty()) {
            throw new IllegalArgumentException("image folder dataset: no image files (" + EXTENSIONS + ") under " + root.toAbsolutePath());
        }
        int count = byClass.values().stream().mapToInt(List::size).sum();
        int pixels = size * size;
        float[] values = new float[count * pixels];
        int[] labels = new int[count];
        int row = 0;
        int label = 0;
        for (List<Path> members : byClass.values()) {
            for (Path file : members) {
                float[] grey = resize(readGrey(file), size);
                for (int i = 0; i < pixels; i++) {
                    values[row * pixels + i] = invert ? 1f - grey[i] : grey[i];
                }
                labels[row++] = label;
            }
            label++;
        }
        return LabelledDataset.ofFloats(values, Shape.of(size, size), labels).withSource(root.toString());
    }

    /** The class names (relative directory paths) in label order. */
    public static List<String> classNames(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).filter(ImageFolderDataset::isImage).map(Path::getParent)
                    .filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString().replace('\\', '/'))
                    .distinct().sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list image folder " + root + ": " + e.getMessage(), e);
        }
    }

    private static boolean isImage(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    /** A square-or-not grey image: {@code [height][width]} in [0, 1]. */
    static float[][] readGrey(Path file) {
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + file + ": " + e.getMessage(), e);
        }
        if (image == null) {
            throw new IllegalArgumentException("cannot decode image " + file + ": no ImageIO reader for this format");
        }
        float[][] grey = new float[image.getHeight()][image.getWidth()];
        ColorModel model = image.getColorModel();
        if (model.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(model instanceof IndexColorModel)) {
            // Grey samples as stored: getRGB would convert linear grey to sRGB and change the values.
            Raster raster = image.getRaster();
            double max = (1 << model.getComponentSize(0)) - 1;
            for (int y = 0; y < image.getHeight(); y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    grey[y][x] = (float) (raster.getSample(x, y, 0) / max);
                }
            }
            return grey;
        }
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int argb = image.getRGB(x, y);
                double r = (argb >> 16) & 0xFF;
                double g = (argb >> 8) & 0xFF;
                double b = argb & 0xFF;
                grey[y][x] = (float) ((0.299 * r + 0.587 * g + 0.114 * b) / 255.0);
            }
        }
        return grey;
    }

    /**
     * Area-averaging resample to {@code size × size}: each output pixel is the mean of the input
     * area it covers (exact block means for integer ratios), done separably: rows, then columns.
     */
    static float[] resize(float[][] grey, int size) {
        int height = grey.length;
        int width = grey[0].length;
        double[][] wy = weights(height, size);
        double[][] wx = weights(width, size);
        double[][] rows = new double[height][size];
        for (int iy = 0; iy < height; iy++) {
            for (int ox = 0; ox < size; ox++) {
                double sum = 0;
                for (int ix = 0; ix < width; ix++) {
                    sum += wx[ox][ix] * grey[iy][ix];
                }
                rows[iy][ox] = sum;
            }
        }
        float[] out = new float[size * size];
        for (int oy = 0; oy < size; oy++) {
            for (int ox = 0; ox < size; ox++) {
                double sum = 0;
                for (int iy = 0; iy < height; iy++) {
                    sum += wy[oy][iy] * rows[iy][ox];
                }
                out[oy * size + ox] = (float) sum;
            }
        }
        return out;
    }

    /** weights[o][i]: the share of input cell i in output cell o (each row sums to 1). */
    private static double[][] weights(int in, int out) {
        double[][] w = new double[out][in];
        double scale = (double) in / out;
        for (int o = 0; o < out; o++) {
            double from = o * scale;
            double to = (o + 1) * scale;
            for (int i = (int) Math.floor(from); i < Math.min(in, (int) Math.ceil(to)); i++) {
                double overlap = Math.min(to, i + 1) - Math.max(from, i);
                if (overlap > 0) {
                    w[o][i] = overlap / scale;
                }
            }
        }
        return w;
    }
}
