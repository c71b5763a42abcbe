package dev.metaforge.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image folders read from small files the test writes (nothing is downloaded), checked value by value. */
class ImageFolderDatasetTest {
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
        LabelledDataset data = ImageFolderDataset.load(dir, 4, false);
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
        LabelledDataset inverted = ImageFolderDataset.load(dir, 4, true);
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
        LabelledDataset data = ImageFolderDataset.load(dir, 2, false);
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
    void absurdSizesAndCountsAreRefusedBeforeDecoding() throws IOException {
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < 5; i++) {
                writePng(dir.resolve("set/class" + c + "/img" + i + ".png"), 4, 4, (x, y) -> 7);
            }
        }
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> ImageFolderDataset.load(dir.resolve("set"), ImageFolderDataset.MAX_SIZE + 1, false));
        assertTrue(size.getMessage().contains("image size must be in [1, 4096], got 4097"), size.getMessage());
        // 10 images of 8 x 8 floats take 2,560 bytes: a limit of 1,000 bytes refuses the folder while listing it.
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> ImageFolderDataset.load(dir.resolve("set"), 8, false, 1000));
        assertTrue(count.getMessage().contains("holds more than 3 images") && count.getMessage().contains("limit of 1000 bytes")
                && count.getMessage().contains("maxBytes"), count.getMessage());
        assertEquals(10, ImageFolderDataset.load(dir.resolve("set"), 8, false, 2560).size());

        // A PNG whose header declares 100000 x 100000 pixels is refused from its header, before decoding.
        Path huge = dir.resolve("huge/class/big.png");
        writePng(huge, 2, 2, (x, y) -> 0);
        byte[] png = Files.readAllBytes(huge);
        for (int k = 0; k < 2; k++) {
            int at = 16 + 4 * k;     // IHDR width, then height, big-endian
            int v = 100_000;
            png[at] = (byte) (v >>> 24);
            png[at + 1] = (byte) (v >>> 16);
            png[at + 2] = (byte) (v >>> 8);
            png[at + 3] = (byte) v;
        }
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);     // chunk type and the 13 IHDR data bytes
        long sum = crc.getValue();
        for (int k = 0; k < 4; k++) {
            png[29 + k] = (byte) (sum >>> (24 - 8 * k));
        }
        Files.write(huge, png);
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> ImageFolderDataset.load(dir.resolve("huge"), 28, false));
        assertTrue(big.getMessage().contains(huge.toString()) && big.getMessage().contains("declares 100000 x 100000 pixels"),
                big.getMessage());
    }

    @Test
    void examplesAreStoredAsFloatsWithTheFolderAsSource() throws IOException {
        writePng(dir.resolve("a/x.png"), 2, 2, (x, y) -> 255);
        LabelledDataset data = ImageFolderDataset.load(dir, 2, false);
        assertEquals(ElementType.FLOAT, data.elementType());
        assertEquals(16, data.storageBytes());
        assertTrue(data.toString().startsWith(dir.toString()), data.toString());
    }
}
