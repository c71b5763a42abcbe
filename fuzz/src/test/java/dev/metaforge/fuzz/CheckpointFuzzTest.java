package dev.metaforge.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.metaforge.api.checkpoint.Checkpoint;
import dev.metaforge.api.checkpoint.SafetensorsFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The checkpoint loader on arbitrary bytes (format, metadata, sections, content hash): the only
 * documented outcome of a bad checkpoint is a {@link SafetensorsFormatException} naming the file;
 * anything else thrown is a finding. Seeds are real checkpoints, with and without a hash.
 */
class CheckpointFuzzTest {
    private final Outcomes outcomes = new Outcomes("checkpoint loader");
    private final Path file;

    CheckpointFuzzTest() {
        try {
            file = Files.createTempFile(FuzzFiles.scratch(), "metaforge-fuzz", ".safetensors");
            file.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void load(byte[] input) throws IOException {
        Files.write(file, input);
        try {
            Checkpoint.load(file, warning -> { });
            outcomes.count("read");
        } catch (SafetensorsFormatException expected) {
            outcomes.count("refused");
        }
    }
}
