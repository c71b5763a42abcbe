package dev.metaforge.plugins.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.IdxArray;
import dev.metaforge.api.meta.LabelledDataset;
import dev.metaforge.api.meta.TaskBatch;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.train.BuildContext;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Datasets read from small files the test writes (nothing is downloaded), checked value by value. */
class LabelledDatasetTest {
    @TempDir
    Path dir;

    /** A grey PNG whose pixel (x, y) has grey level {@code value(x, y)} in 0..255. */
    private static void writePng(Path file, int width, int height, java.util.function.IntBinaryOperator value) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.getRaster().setSample(x, y, 0, value.applyAsInt(x, y));
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
    }

    @Test
    void omniglotLayoutGivesOneClassPerCharacterDirectory() throws IOException {
        // Two alphabets, three characters, 2 drawings each; the grey level encodes the class.
        String[] characters = {"Alphabet_A/character01", "Alphabet_A/character02", "Alphabet_B/character01"};
        for (int c = 0; c < characters.length; c++) {
            int level = 40 * (c + 1);
            for (int d = 0; d < 2; d++) {
                writePng(dir.resolve(characters[c]).resolve("drawing" + d + ".png"), 8, 8, (x, y) -> level);
            }
        }
        Files.writeString(dir.resolve("Alphabet_A/README.txt"), "not an image");
        ArrayLabelledDataset data = ImageFolderDataset.load(dir, 4, false);
        assertEquals(6, data.size());
        assertEquals(Shape.of(4, 4), data.exampleShape());
        assertEquals(List.of(characters), ImageFolderDataset.classNames(dir));
        float[] pixels = new float[16];
        for (int i = 0; i < 6; i++) {
            int c = data.label(i);
            assertEquals(i / 2, c, "sorted class order");
            data.copyExample(i, pixels, 0);
            for (float p : pixels) {
                assertEquals(40 * (c + 1) / 255.0, p, 1e-6);
            }
        }
        ArrayLabelledDataset inverted = ImageFolderDataset.load(dir, 4, true);
        inverted.copyExample(0, pixels, 0);
        assertEquals(1 - 40 / 255.0, pixels[0], 1e-6);
    }

    @Test
    void oneBitDrawingsLikeOmniglotsReadAsZeroAndOne() throws IOException {
        // Omniglot's PNGs are 1-bit: white paper, black strokes. Here a 4x4 drawing with a black left half.
        BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_BINARY);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                image.getRaster().setSample(x, y, 0, x < 2 ? 0 : 1);
            }
        }
        Path file = dir.resolve("Alphabet/character01/0101_01.png");
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
        float[] pixels = new float[16];
        ImageFolderDataset.load(dir, 4, true).copyExample(0, pixels, 0);
        for (int i = 0; i < 16; i++) {
            assertEquals(i % 4 < 2 ? 1f : 0f, pixels[i], 1e-6f, "inverted pixel " + i + ": strokes become 1");
        }
        float[] half = new float[4];
        ImageFolderDataset.load(dir, 2, false).copyExample(0, half, 0);
        assertArrayEquals(new float[] {0f, 1f, 0f, 1f}, half, 1e-6f);
    }

    @Test
    void resizingAveragesTheCoveredArea() throws IOException {
        // A 4x4 image with a distinct value per pixel, resized to 2x2: each output is a 2x2 block mean.
        writePng(dir.resolve("only/img.png"), 4, 4, (x, y) -> 10 * (y * 4 + x));
        ArrayLabelledDataset data = ImageFolderDataset.load(dir, 2, false);
        float[] out = new float[4];
        data.copyExample(0, out, 0);
        double[] expected = {
            (0 + 10 + 40 + 50) / 4.0, (20 + 30 + 60 + 70) / 4.0,
            (80 + 90 + 120 + 130) / 4.0, (100 + 110 + 140 + 150) / 4.0};
        for (int i = 0; i < 4; i++) {
            assertEquals(expected[i] / 255.0, out[i], 1e-6, "pixel " + i);
        }
        // A 3-wide image to 2: the middle column is shared half and half.
        float[] resized = ImageFolderDataset.resize(new float[][] {{0f, 0.6f, 0.9f}}, 2);
        assertEquals(2 * 2, resized.length);
        // Row direction: one input row spread over two output rows, each a full copy.
        assertEquals((0 * 1.0 + 0.6 * 0.5) / 1.5, resized[0], 1e-6);
        assertEquals((0.6 * 0.5 + 0.9 * 1.0) / 1.5, resized[1], 1e-6);
    }

    @Test
    void missingOrEmptyFoldersAreClearErrors() throws IOException {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ImageFolderDataset.load(dir.resolve("nope"), 28, false));
        assertTrue(missing.getMessage().contains("is not a directory"), missing.getMessage());
        Files.createDirectories(dir.resolve("empty/class"));
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> ImageFolderDataset.load(dir.resolve("empty"), 28, false));
        assertTrue(empty.getMessage().contains("no image files"), empty.getMessage());
        writePng(dir.resolve("flat/img.png"), 2, 2, (x, y) -> 0);
        IllegalArgumentException flat = assertThrows(IllegalArgumentException.class,
                () -> ImageFolderDataset.load(dir.resolve("flat"), 2, false));
        assertTrue(flat.getMessage().contains("one directory per class"), flat.getMessage());
    }

    @Test
    void idxFilesFeedEpisodesThroughTheSpec() throws IOException {
        // 6 classes x 4 images of 3x3 ubyte pixels; pixel value = 10 * label + index within class.
        int n = 24;
        double[] images = new double[n * 9];
        double[] labels = new double[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 6;
            for (int p = 0; p < 9; p++) {
                images[i * 9 + p] = 10 * (i % 6) + i / 6;
            }
        }
        Idx.write(dir.resolve("images-idx3-ubyte.gz"), new IdxArray(Idx.ElementType.UBYTE, new int[] {n, 3, 3}, images));
        Idx.write(dir.resolve("labels-idx1-ubyte"), new IdxArray(Idx.ElementType.UBYTE, new int[] {n}, labels));
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        BuildContext context = new BuildContext(engine, SpecRegistry.of(List.of(new MetaPlugin())), dir, 0);
        IdxSpec spec = new IdxSpec("images-idx3-ubyte.gz", "labels-idx1-ubyte", 1.0);
        LabelledDataset data = spec.build(context);
        assertEquals(n, data.size());
        assertEquals(Shape.of(3, 3), data.exampleShape());
        float[] example = new float[9];
        data.copyExample(7, example, 0);
        assertEquals(1, data.label(7));
        assertEquals(10 * 1 + 1, example[4], 0f);
        try (Scope ignored = Scope.open()) {
            TaskBatch batch = new FewShotEpisodes(data, 3, 2, 2, true).sample(engine, 5, RandomStream.of(1));
            assertEquals(Shape.of(5, 6, 9), batch.supportInputs().shape());
            double[] x = batch.supportInputs().toDoubles();
            double[] y = batch.supportTargets().toDoubles();
            for (int row = 0; row < 5 * 6; row++) {
                int remapped = y[row * 3] == 1 ? 0 : y[row * 3 + 1] == 1 ? 1 : 2;
                int firstOfClass = (row / 6) * 6 + remapped * 2;
                // Both support examples of a remapped class share the original label (tens digit).
                assertEquals(Math.floor(x[firstOfClass * 9] / 10), Math.floor(x[row * 9] / 10), 0.0);
            }
        }
        assertArrayEquals(new int[] {3, 3}, new int[] {data.exampleShape().dim(0), data.exampleShape().dim(1)});

        // Issue 13: a missing file was an untranslated UncheckedIOException; built specs report IllegalArgumentException.
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new IdxSpec("nope-idx3-ubyte", "labels-idx1-ubyte", 1.0).build(context));
        assertTrue(missing.getMessage().contains(dir.resolve("nope-idx3-ubyte").toString()), missing.getMessage());
    }
}
