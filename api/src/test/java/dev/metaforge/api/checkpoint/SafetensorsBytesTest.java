package dev.metaforge.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safetensors in memory: the bytes are exactly a file's, and read back as strictly. */
class SafetensorsBytesTest {
    @TempDir
    Path dir;

    private static Map<String, TensorData> tensors() {
        Map<String, TensorData> t = new LinkedHashMap<>();
        t.put("b", TensorData.ofFloats(new float[] {1.5f, -2f, Float.MIN_VALUE}, Shape.of(3)));
        t.put("a", TensorData.ofDoubles(new double[] {Math.PI, -1e-300, 4, 5}, Shape.of(2, 2)));
        t.put("i", TensorData.ofLongs(new long[] {Long.MIN_VALUE}, Shape.scalar()));
        return t;
    }

    @Test
    void bytesAreTheFileContentAndRoundTripInOrder() throws IOException {
        Path file = dir.resolve("x.safetensors");
        Safetensors.write(file, tensors(), Map.of("k", "v"));
        byte[] bytes = Safetensors.toBytes(tensors(), Map.of("k", "v"));
        assertArrayEquals(Files.readAllBytes(file), bytes);
        SafetensorsFile read = Safetensors.fromBytes(bytes, "test bytes");
        assertEquals(tensors(), read.tensors());
        assertEquals(List.of("b", "a", "i"), List.copyOf(read.tensors().keySet()));
        assertEquals(Map.of("k", "v"), read.metadata());
    }

    @Test
    void truncatedOrPaddedBytesAreRejectedNamingTheSource() {
        byte[] bytes = Safetensors.toBytes(tensors(), Map.of());
        SafetensorsFormatException truncated = assertThrows(SafetensorsFormatException.class,
                () -> Safetensors.fromBytes(Arrays.copyOf(bytes, bytes.length - 1), "the gradient of shard 2"));
        assertTrue(truncated.getMessage().contains("the gradient of shard 2"), truncated.getMessage());
        assertThrows(SafetensorsFormatException.class, () -> Safetensors.fromBytes(Arrays.copyOf(bytes, bytes.length + 8), "x"));
        assertThrows(SafetensorsFormatException.class, () -> Safetensors.fromBytes(new byte[5], "x"));
    }
}
