package dev.metaforge.api.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, verified checkpoints: a flipped bit in a checkpoint's parameters was resumed silently,
 * and bad metadata gave an untyped error without the file name.
 */
class CheckpointIntegrityTest {
    @TempDir
    Path dir;

    private static Checkpoint sample() {
        return new Checkpoint(12, 3, "abc", "reference",
                Map.of("w", TensorData.ofFloats(new float[] {1, 2, 3, 4}, Shape.of(2, 2))),
                Map.of("m/w", TensorData.ofFloats(new float[] {0, 0, 0, 1}, Shape.of(2, 2))),
                Map.of(), Map.of());
    }

    private static long dataStart(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        return 8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void everyCheckpointCarriesTheHashOfItsData() throws IOException {
        Path file = dir.resolve("c.safetensors");
        sample().save(file);
        SafetensorsFile raw = Safetensors.read(file);
        assertEquals(raw.dataSha256(), raw.metadata().get(Checkpoint.DATA_SHA256));
        assertEquals(64, raw.dataSha256().length());
        assertEquals(sample(), Checkpoint.load(file), "the hash is not part of the loaded value");
    }

    @Test
    void everySingleFlippedBitOfTheDataIsDetectedNamingTheFile() throws IOException {
        Path file = dir.resolve("c.safetensors");
        sample().save(file);
        byte[] original = Files.readAllBytes(file);
        int start = (int) dataStart(file);
        for (int at = start; at < original.length; at++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] flipped = original.clone();
                flipped[at] ^= (byte) (1 << bit);
                Path corrupt = dir.resolve("flip.safetensors");
                Files.write(corrupt, flipped);
                SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Checkpoint.load(corrupt),
                        "bit " + bit + " of byte " + at);
                assertTrue(e.getMessage().startsWith("invalid safetensors file " + corrupt + ": the data section does not match its SHA-256"),
                        e.getMessage());
            }
        }
    }

    @Test
    void aCheckpointWithoutAHashLoadsWithAWarning() throws IOException {
        Path old = dir.resolve("old.safetensors");
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        tensors.put("params/w", TensorData.ofDoubles(new double[] {1, 2}, Shape.of(2)));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "metaforge-checkpoint");
        metadata.put("format_version", "1");
        metadata.put("step", "5");
        metadata.put("seed", "0");
        metadata.put("spec_hash", "h");
        metadata.put("backend", "reference");
        Safetensors.write(old, tensors, metadata);
        List<String> warnings = new ArrayList<>();
        Checkpoint loaded = Checkpoint.load(old, warnings::add);
        assertEquals(5, loaded.step());
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains(old + " has no content hash"), warnings.get(0));
    }

    @Test
    void badMetadataIsATypedErrorNamingTheFile() throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "metaforge-checkpoint");
        metadata.put("format_version", "1");
        metadata.put("step", "-5");
        metadata.put("seed", "0");
        metadata.put("spec_hash", "h");
        metadata.put("backend", "reference");
        Path negative = dir.resolve("negative.safetensors");
        Safetensors.write(negative, Map.of(), metadata);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Checkpoint.load(negative));
        assertTrue(e.getMessage().startsWith("invalid safetensors file " + negative + ": invalid checkpoint metadata: step must be >= 0"),
                e.getMessage());
    }
}
