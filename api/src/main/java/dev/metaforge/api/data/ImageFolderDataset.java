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
import java.util.Iterator;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads a folder-of-images dataset such as Omniglot's {@code alphabet/character/*.png}: every
 * directory under {@code root} that directly holds image files (png, jpg, jpeg, gif, bmp) is one
 * class, labelled {@code 0, 1, ...} in the sorted order of its path relative to {@code root}.
 * Images become grey values in [0, 1] (grey images: their samples over the largest sample value;
 * colour and palette images: ITU-R BT.601 luma), area-averaged to {@code size × size};
 * {@code invert} maps v to 1 - v (Omniglot draws dark strokes on white). Examples are stored as
 * 32-bit floats.
 *
 * <p>Bounded: {@code size} is at most {@value #MAX_SIZE}; the folder is refused while it is being
 * listed, before any image is decoded, once its images at {@code size × size} would take more than
 * the limit ({@link Idx#defaultMaxBytes()} unless given); each image's dimensions are read from its
 * header and an image of more than {@value #MAX_IMAGE_PIXELS} pixels is refused before it is decoded.
 */
public final class ImageFolderDataset {
    /** The largest side examples are resampled to. */
    public static final int MAX_SIZE = 4096;
    /** The largest image decoded, in pixels (e.g. 8192 x 8192). */
    public static final long MAX_IMAGE_PIXELS = 1L << 26;
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".gif", ".bmp");

    private ImageFolderDataset() {
    }

    /** Loads every image under {@code root} within {@link Idx#defaultMaxBytes()}; examples have shape {@code [size, size]}. */
    public static LabelledDataset load(Path root, int size, boolean invert) {
        return load(root, size, invert, Idx.defaultMaxBytes());
    }

    /**
     * Loads every image under {@code root}; examples have shape {@code [size, size]} and take
     * {@code 4 * size * size} bytes each, at most {@code maxBytes} together.
     */
    public static LabelledDataset load(Path root, int size, boolean invert, long maxBytes) {
        requireNonNull(root, "root is null");
        if (size <= 0 || size > MAX_SIZE) {
            throw new IllegalArgumentException("image folder dataset: image size must be in [1, " + MAX_SIZE + "], got " + size);
        }
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("image folder dataset: maxBytes must be positive, got " + maxBytes);
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("image folder dataset: " + root.toAbsolutePath()
                    + " is not a directory; expected root/<class path>/<image files> such as Omniglot's alphabet/character/*.png");
        }
        int pixels = size * size;
        long bytesPerImage = 4L * pixels;
        long limit = Math.min(maxBytes, Idx.MAX_ARRAY_BYTES);
        Map<String, List<Path>> byClass = new TreeMap<>();
        long[] count = {0};
        try (Stream<Path> files = Files.walk(root)) {
            files.filter(Files::isRegularFile).filter(ImageFolderDataset::isImage).forEach(f -> {
                Path parent = f.getParent();
                if (parent.equals(root)) {
                    throw new IllegalArgumentException("image folder dataset: image " + f + " lies directly in the root " + root
                            + "; images must be inside one directory per class");
                }
                if (++count[0] * bytesPerImage > limit) {
                    throw new IllegalArgumentException("image folder dataset: " + root.toAbsolutePath() + " holds more than "
                            + (count[0] - 1) + " images, which at " + size + " x " + size + " grey values (" + bytesPerImage
                            + " bytes each) take more than the limit of " + limit + " bytes; choose a smaller \"size\" or"
                            + " folder, or raise \"maxBytes\" (and the heap, JAVA_OPTS=-Xmx...)");
                }
                byClass.computeIfAbsent(root.relativize(parent).toString().replace('\\', '/'), k -> new ArrayList<>()).add(f);
            });
        } catch (IOException | UncheckedIOException e) {
            throw new UncheckedIOException("cannot list image folder " + root + ": " + e.getMessage(),
                    e instanceof IOException io ? io : ((UncheckedIOException) e).getCause());
        }
        if (byClass.isEmpty()) {
            throw new IllegalArgumentException("image folder dataset: no image files (" + EXTENSIONS + ") under " + root.toAbsolutePath());
        }
        float[] values = new float[(int) count[0] * pixels];
        int[] labels = new int[(int) count[0]];
        int row = 0;
        int label = 0;
        for (List<Path> members : byClass.values()) {
            members.sort(null);
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

    /** A square-or-not grey image: {@code [height][width]} in [0, 1]; its size is checked before it is decoded. */
    static float[][] readGrey(Path file) {
        BufferedImage image;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new IllegalArgumentException("cannot decode image " + file + ": no ImageIO reader for this format");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long width = reader.getWidth(0);
                long height = reader.getHeight(0);
                if (width <= 0 || height <= 0 || width * height > MAX_IMAGE_PIXELS) {
                    throw new IllegalArgumentException("image " + file + " declares " + width + " x " + height
                            + " pixels; images of 1 to " + MAX_IMAGE_PIXELS + " pixels are read (is the file corrupt?)");
                }
                image = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + file + ": " + e.getMessage(), e);
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
