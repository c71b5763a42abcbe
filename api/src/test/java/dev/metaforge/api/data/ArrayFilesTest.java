package dev.metaforge.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** .npy and .csv arrays: files built by hand from NumPy's documented layout, round trips, and errors naming the file. */
class ArrayFilesTest {
    @TempDir
    Path dir;

    /** A .npy file as numpy.save writes it (format 1.0 or 2.0), built byte by byte. */
    static byte[] npy(int major, String header, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer length = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) {
            length.putShort((short) h.length);
        } else {
            length.putInt(h.length);
        }
        out.write(length.array());
        out.write(h);
        out.write(data);
        return out.toByteArray();
    }

    static byte[] doublesLe(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    @Test
    void readsNumpysLayoutInBothVersions() throws IOException {
        Path v1 = dir.resolve("a.npy");
        Files.write(v1, npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }       \n", doublesLe(1, 2, 3, 4.5, -5, 6e-300)));
        TensorData a = ArrayFiles.read(v1);
        assertEquals(DType.FLOAT64, a.dtype());
        assertEquals(Shape.of(2, 3), a.shape());
        assertArrayEquals(new double[] {1, 2, 3, 4.5, -5, 6e-300}, a.toDoubles());

        Path v2 = dir.resolve("b.npy");
        ByteBuffer f = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.1f).putFloat(-2f).putFloat(3e-8f);
        Files.write(v2, npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", f.array()));
        TensorData b = ArrayFiles.read(v2);
        assertEquals(DType.FLOAT32, b.dtype());
        assertArrayEquals(new float[] {0.1f, -2f, 3e-8f}, b.toFloats());
    }

    @Test
    void writesWhatNumpyReadsAndReadsItBack() throws IOException {
        TensorData t = TensorData.ofFloats(new float[] {1.5f, -0f, Float.MIN_VALUE, 7f, 8f, 9f}, Shape.of(3, 1, 2));
        Path file = dir.resolve("t.npy");
        ArrayFiles.write(file, t);
        byte[] bytes = Files.readAllBytes(file);
        int headerLength = ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
        assertEquals(0, (10 + headerLength) % 64, "numpy aligns the data to 64 bytes");
        String header = new String(bytes, 10, headerLength, StandardCharsets.US_ASCII);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 2), }", header.strip());
        assertTrue(header.endsWith("\n"));
        TensorData back = ArrayFiles.read(file);
        assertEquals(t.shape(), back.shape());
        assertArrayEquals(t.toFloats(), back.toFloats());

        Path one = dir.resolve("one.npy");
        ArrayFiles.write(one, TensorData.ofDoubles(new double[] {2}, Shape.of(1)));
        assertTrue(new String(Files.readAllBytes(one), StandardCharsets.US_ASCII).contains("'shape': (1,)"), "1-tuples keep their comma");
    }

    @Test
    void csvRowsAreExamplesAndRoundTripExactly() throws IOException {
        Path file = dir.resolve("x.csv");
        Files.writeString(file, "\uFEFF1, 2.5,-3e-2\n\n4,5,6\n");
        TensorData x = ArrayFiles.read(file);
        assertEquals(Shape.of(2, 3), x.shape());
        assertArrayEquals(new double[] {1, 2.5, -0.03, 4, 5, 6}, x.toDoubles());

        TensorData y = TensorData.ofFloats(new float[] {0.1f, 1f / 3, -7f, 1e-20f}, Shape.of(2, 2));
        Path out = dir.resolve("y.csv");
        ArrayFiles.write(out, y);
        assertEquals("0.1,0.33333334\n-7.0,1.0E-20\n", Files.readString(out));
        double[] back = ArrayFiles.read(out).toDoubles();
        float[] expected = y.toFloats();
        for (int i = 0; i < back.length; i++) {
            assertEquals(expected[i], (float) back[i], "float32 values survive the text form");
        }
    }

    @Test
    void refusesWhatItCannotReadNamingTheFile() throws IOException {
        Path ints = dir.resolve("ints.npy");
        Files.write(ints, npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }\n", new byte[8]));
        assertMessage(ints, ints + ": dtype '<i8' is not supported; Metaforge reads little-endian float32 ('<f4') or float64 ('<f8')");

        Path big = dir.resolve("big.npy");
        Files.write(big, npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }\n", new byte[8]));
        assertMessage(big, "dtype '>f8' is not supported");

        Path fortran = dir.resolve("f.npy");
        Files.write(fortran, npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1), }\n", new byte[8]));
        assertMessage(fortran, "Fortran (column-major) order; save numpy.ascontiguousarray(x)");

        Path truncated = dir.resolve("t.npy");
        Files.write(truncated, npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n", new byte[24]));
        assertMessage(truncated, "shape [2, 2] of <f8 needs 32 data bytes but the file has 24 (truncated)");

        Path scalar = dir.resolve("s.npy");
        Files.write(scalar, npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n", new byte[8]));
        assertMessage(scalar, "the array is a scalar");

        Path text = dir.resolve("text.npy");
        Files.writeString(text, "1,2,3\n");
        assertMessage(text, "not a NumPy .npy file");

        Path ragged = dir.resolve("r.csv");
        Files.writeString(ragged, "1,2\n3\n");
        assertMessage(ragged, ragged + ": line 2 has 1 values but the lines before have 2");

        Path nan = dir.resolve("n.csv");
        Files.writeString(nan, "1,2\n3,NaN\n");
        assertMessage(nan, "line 2, column 2: 'NaN' is not a finite number");

        Path other = dir.resolve("x.txt");
        Files.writeString(other, "1\n");
        assertMessage(other, "unknown file type; use a .npy file");
    }

    private static void assertMessage(Path file, String expected) {
        ArrayFileException e = assertThrows(ArrayFileException.class, () -> ArrayFiles.read(file));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertEquals(file, e.file());
    }
}
