package dev.metaforge.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.SafetensorsFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The safetensors reader on arbitrary bytes: the only documented outcome of a bad file is a
 * {@link SafetensorsFormatException} naming it; anything else thrown is a finding.
 */
class SafetensorsFuzzTest {
    private final Outcomes outcomes = new Outcomes("safetensors reader");
    private final Path file;

    SafetensorsFuzzTest() {
        try {
            file = Files.createTempFile(FuzzFiles.scratch(), "metaforge-fuzz", ".safetensors");
            file.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void read(byte[] input) throws IOException {
        Files.write(file, input);
        try {
            Safetensors.read(file);
            outcomes.count("read");
        } catch (SafetensorsFormatException expected) {
            outcomes.count("refused");
        }
    }
}
