package dev.metaforge.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.Shape;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class IdxTest {
    @TempDir
    Path dir;

    /** An MNIST-style label file laid out by hand: magic 0x00000801, count 3, labels 7 2 255. */
    @Test
    void decodesAHandWrittenUbyteFile() throws IOException {
        Path file = dir.resolve("labels-idx1-ubyte");
        Files.write(file, new byte[] {0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, (byte) 255});
        IdxArray labels = Idx.read(file);
        assertEquals(ElementType.UBYTE, labels.type());
        assertArrayEquals(new int[] {3}, labels.dims());
        assertArrayEquals(new double[] {7, 2, 255}, labels.toDoubles());
        assertEquals(3, labels.values().byteSize(), "ubyte values stay one byte each");
        assertArrayEquals(new long[] {7, 2, 255}, labels.toLongs());
    }

    /** Big-endian multi-byte values laid out by hand: a 2x2 int file and a 1-element float file. */
    @Test
    void decodesBigEndianIntsAndFloats() throws IOException {
        Path ints = dir.resolve("ints.idx");
        Files.write(ints, new byte[] {0, 0, 0x0C, 2, 0, 0, 0, 2, 0, 0, 0, 2,
            0, 0, 0x01, 0x00, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0, 0, 0, 0});
        assertArrayEquals(new double[] {256, -1, Integer.MAX_VALUE, 0}, Idx.read(ints).toDoubles());
        Path floats = dir.resolve("floats.idx");
        Files.write(floats, new byte[] {0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, (byte) 0xC0, 0, 0}); // 1.5f
        assertArrayEquals(new double[] {1.5}, Idx.read(floats).toDoubles());
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void roundTripsEveryElementTypePlainAndGzipped(ElementType type) throws IOException {
        double[] values = switch (type) {
            case UBYTE -> new double[] {0, 1, 128, 255, 17, 3};
            case BYTE -> new double[] {-128, -1, 0, 1, 127, 5};
            case SHORT -> new double[] {-32768, 32767, 0, -2, 1000, 7};
            case INT -> new double[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -5, 65536, 9};
            case FLOAT -> new double[] {1.5, -0.25, 0, 3.0e-5f, 1e20f, -7};
            case DOUBLE -> new double[] {Math.PI, -Math.E, 0, 1e-300, 1e300, -0.0};
        };
        IdxArray array = IdxArray.of(type, new int[] {2, 3}, values);
        for (String name : new String[] {"x.idx", "x.idx.gz"}) {
            Path file = dir.resolve(type + "-" + name);
            Idx.write(file, array);
            assertEquals(array, Idx.read(file), name);
        }
        // the .gz file really is gzip: its first two bytes are the gzip magic
        byte[] gz = Files.readAllBytes(dir.resolve(type + "-x.idx.gz"));
        assertEquals(0x1F, gz[0] & 0xFF);
        assertEquals(0x8B, gz[1] & 0xFF);
    }

    @Test
    void errorsNameTheFileTheOffsetAndWhatWasExpected() throws IOException {
        assertError(new byte[] {0, 0}, "at byte 2: expected a 4-byte magic number, but the file has only 2 bytes");
        assertError(new byte[] {1, 0, 8, 1}, "at byte 0: expected magic bytes 0x00 0x00, found 0x01 0x00");
        assertError(new byte[] {0, 0, 0x07, 1}, "at byte 2: expected an element type code, one of 0x08 (ubyte)");
        assertError(new byte[] {0, 0, 0x07, 1}, "found 0x07");
        assertError(new byte[] {0, 0, 8, 0}, "at byte 3: expected at least 1 dimension, found 0");
        assertError(new byte[] {0, 0, 8, 2, 0, 0, 0, 1}, "expected 2 dimensions (8 bytes after the magic number), but the file ends after 4");
        assertError(new byte[] {0, 0, 8, 1, (byte) 0x80, 0, 0, 0}, "at byte 4: expected a non-negative dimension, found 2147483648");
        assertError(new byte[] {0, 0, 8, 1, 0, 0, 0, 3, 1, 2}, "at byte 10: expected 3 data bytes for dims [3] of ubyte, found 2 (the file is truncated)");
        assertError(new byte[] {0, 0, 8, 1, 0, 0, 0, 1, 1, 2}, "at byte 9: expected the file to end after 1 data bytes for dims [1] of ubyte, found 1 trailing bytes");
    }

    /** Gzip is recognised by its content, not by the name: both misnamed files read. */
    @Test
    void gzipIsRecognisedByContent() throws IOException {
        Path gzNoSuffix = dir.resolve("labels-idx1-ubyte");
        Files.write(gzNoSuffix, gzip(new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 4, 5}));
        assertArrayEquals(new double[] {4, 5}, Idx.read(gzNoSuffix).toDoubles());
        Path plainGz = dir.resolve("labels.gz");
        Files.write(plainGz, new byte[] {0, 0, 8, 1, 0, 0, 0, 1, 9});
        assertArrayEquals(new double[] {9}, Idx.read(plainGz).toDoubles());
    }

    /**
     * Regression: a small gzip file whose header declares 16 values followed by gigabytes of zeros
     * (here 4 GiB, as 256 repeated gzip members of 16 MiB of zeros: about 4 MB on disk) was
     * decompressed whole before the header was checked and exhausted the heap. Now the 16 declared
     * bytes are read and the rest is reported as trailing bytes after at most 1 MiB more.
     */
    @Test
    void aGzipBombIsRefusedAfterTheDeclaredBytes() throws IOException {
        Path bomb = dir.resolve("bomb-idx1-ubyte.gz");
        byte[] zeros = gzip(new byte[16 << 20]);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(bomb))) {
            byte[] header = new byte[8 + 16];
            header[2] = 8;
            header[3] = 1;
            header[7] = 16;
            out.write(gzip(header));
            for (int i = 0; i < 256; i++) {
                out.write(zeros);
            }
        }
        assertTrue(Files.size(bomb) < 8 << 20, "the bomb is small on disk: " + Files.size(bomb));
        long start = System.nanoTime();
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(bomb));
        assertTrue(e.getMessage().startsWith("invalid IDX file " + bomb + " at byte 24: "), e.getMessage());
        assertTrue(e.getMessage().contains("expected the file to end after 16 data bytes for dims [16] of ubyte, found more than"
                + " 1048576 trailing bytes"), e.getMessage());
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "refused without decompressing the rest");
    }

    /** Regression: a declared size beyond the limit is refused from the header, before anything is allocated. */
    @Test
    void anOversizeDeclaredDimensionIsRefusedFromTheHeader() throws IOException {
        // 65536^3 ubytes = 256 TiB, declared by a 16-byte file
        Path huge = dir.resolve("huge.idx");
        Files.write(huge, new byte[] {0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0});
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(huge));
        assertTrue(e.getMessage().startsWith("invalid IDX file " + huge + " at byte 4: the header declares dims [65536, 65536, 65536]"
                + " of ubyte, that is 281474976710656 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("raise the limit (\"maxBytes\""), e.getMessage());
        // a product that overflows a long
        Path overflow = dir.resolve("overflow.idx");
        byte[] header = new byte[4 + 4 * 5];
        header[2] = 0x0E;
        header[3] = 5;
        for (int i = 0; i < 5; i++) {
            header[4 + 4 * i] = 0x7F;
            header[5 + 4 * i] = (byte) 0xFF;
            header[6 + 4 * i] = (byte) 0xFF;
            header[7 + 4 * i] = (byte) 0xFF;
        }
        Files.write(overflow, header);
        e = assertThrows(IdxFormatException.class, () -> Idx.read(overflow));
        assertTrue(e.getMessage().contains("more than 2^63 bytes of data"), e.getMessage());
        // a genuine file over an explicit limit, and the same file within it
        Path images = dir.resolve("images.idx.gz");
        Idx.write(images, IdxArray.of(ElementType.UBYTE, new int[] {10, 28, 28}, new double[10 * 28 * 28]));
        e = assertThrows(IdxFormatException.class, () -> Idx.read(images, 1000));
        assertTrue(e.getMessage().contains("that is 7840 bytes (0.0 MiB) of data, more than 1000 bytes"), e.getMessage());
        assertEquals(7840, Idx.read(images, 7840).values().byteSize());
        // the header alone is read without the data
        assertEquals(new IdxHeader(ElementType.UBYTE, new int[] {65536, 65536, 65536}), Idx.readHeader(huge));
    }

    /** Regression: a file that ends before its declared data is an error naming the file, plain or gzipped. */
    @Test
    void truncatedFilesAreErrors() throws IOException {
        byte[] idx = new byte[8 + 100];
        idx[2] = 8;
        idx[3] = 1;
        idx[7] = 100;
        byte[] cut = Arrays.copyOf(idx, 8 + 60);
        assertError(cut, "at byte 68: expected 100 data bytes for dims [100] of ubyte, found 60 (the file is truncated)");
        // a complete gzip stream of a cut IDX file
        Path gz = dir.resolve("cut.idx.gz");
        Files.write(gz, gzip(cut));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(gz));
        assertTrue(e.getMessage().contains(gz + " at byte 68: expected 100 data bytes for dims [100] of ubyte, found 60 (the file is"
                + " truncated)"), e.getMessage());
        // a gzip stream cut in the middle
        byte[] whole = gzip(idx);
        Path half = dir.resolve("half.idx.gz");
        Files.write(half, Arrays.copyOf(whole, whole.length - 12));
        e = assertThrows(IdxFormatException.class, () -> Idx.read(half));
        assertTrue(e.getMessage().startsWith("invalid IDX file " + half) && e.getMessage().contains("the gzip stream is corrupt or cut short"),
                e.getMessage());
    }

    private static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(content);
        }
        return bytes.toByteArray();
    }

    private void assertError(byte[] content, String expected) throws IOException {
        Path file = dir.resolve("bad.idx");
        Files.write(file, content);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(file));
        assertTrue(e.getMessage().startsWith("invalid IDX file " + file), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertEquals(file, e.file());
    }

    @Test
    void writeRejectsValuesTheTypeCannotHold() {
        assertThrows(IllegalArgumentException.class, () -> Idx.write(dir.resolve("a.idx"),
                IdxArray.of(ElementType.UBYTE, new int[] {1}, new double[] {256})));
        assertThrows(IllegalArgumentException.class, () -> Idx.write(dir.resolve("b.idx"),
                IdxArray.of(ElementType.INT, new int[] {1}, new double[] {0.5})));
        assertThrows(IllegalArgumentException.class, () -> Idx.write(dir.resolve("c.idx"),
                IdxArray.of(ElementType.FLOAT, new int[] {1}, new double[] {0.1})));
    }

    @Test
    void readsAnImageAndLabelPairIntoADataset() throws IOException {
        // four 2x3 "images" with pixel = 10 * example + position, labels 1 0 1 2
        double[] pixels = new double[4 * 6];
        for (int i = 0; i < 4; i++) {
            for (int p = 0; p < 6; p++) {
                pixels[i * 6 + p] = 10 * i + p;
            }
        }
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        Idx.write(images, IdxArray.of(ElementType.UBYTE, new int[] {4, 2, 3}, pixels));
        Idx.write(labels, IdxArray.of(ElementType.UBYTE, new int[] {4}, new double[] {1, 0, 1, 2}));
        LabelledDataset d = Idx.readDataset(images, labels, 0.5);
        assertEquals(4, d.size());
        assertEquals(Shape.of(2, 3), d.exampleShape());
        assertArrayEquals(new double[] {10, 10.5, 11, 11.5, 12, 12.5}, d.example(2));
        assertEquals(2, d.label(3));
        assertEquals(ElementType.UBYTE, d.elementType(), "pixels stay bytes");
        assertEquals(24, d.storageBytes());
        assertEquals(0.5, d.scale());
        assertEquals(images.toString(), d.source());

        Path fewLabels = dir.resolve("few-labels.idx");
        Idx.write(fewLabels, IdxArray.of(ElementType.UBYTE, new int[] {3}, new double[] {1, 0, 1}));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.readDataset(images, fewLabels, 1));
        assertTrue(e.getMessage().contains("expected 4 labels") && e.getMessage().contains("found 3"), e.getMessage());
        Path floatLabels = dir.resolve("float-labels.idx");
        Idx.write(floatLabels, IdxArray.of(ElementType.FLOAT, new int[] {4}, new double[] {1, 0, 1, 2}));
        e = assertThrows(IdxFormatException.class, () -> Idx.readDataset(images, floatLabels, 1));
        assertTrue(e.getMessage().contains("labels of an integer type"), e.getMessage());
        Path negative = dir.resolve("negative-labels.idx");
        Idx.write(negative, IdxArray.of(ElementType.BYTE, new int[] {4}, new double[] {1, 0, -3, 2}));
        e = assertThrows(IdxFormatException.class, () -> Idx.readDataset(images, negative, 1));
        assertTrue(e.getMessage().startsWith("invalid IDX file " + negative + " at byte 10: expected class labels >= 0, found -3"
                + " (label of example 2)"), e.getMessage());
    }

    /** Both headers are checked against each other before either file's data is read. */
    @Test
    void aDatasetChecksBothHeadersFirst() throws IOException {
        Path images = dir.resolve("images.idx");
        Files.write(images, new byte[] {0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0});  // 2^48 bytes declared, none present
        Path labels = dir.resolve("labels.idx");
        Idx.write(labels, IdxArray.of(ElementType.UBYTE, new int[] {3}, new double[] {0, 1, 2}));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.readDataset(images, labels, 1));
        assertTrue(e.getMessage().contains("expected 65536 labels"), e.getMessage());
        Path enough = dir.resolve("enough-labels.idx");
        Idx.write(enough, IdxArray.of(ElementType.UBYTE, new int[] {65536}, new double[65536]));
        e = assertThrows(IdxFormatException.class, () -> Idx.readDataset(images, enough, 1));
        assertTrue(e.getMessage().startsWith("invalid IDX file " + images + " at byte 4: the header declares"), e.getMessage());
    }
}
