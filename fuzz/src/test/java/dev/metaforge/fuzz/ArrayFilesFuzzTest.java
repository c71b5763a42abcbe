package dev.metaforge.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.metaforge.api.data.ArrayFileException;
import dev.metaforge.api.data.ArrayFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The .npy and .csv readers of {@code metaforge predict} on arbitrary bytes (the first byte picks the
 * format): the only documented outcome of a bad file is an {@link ArrayFileException} naming it;
 * anything else thrown is a finding.
 */
class ArrayFilesFuzzTest {
    private final Outcomes outcomes = new Outcomes("array file readers");
    private final Path npy;
    private final Path csv;

    ArrayFilesFuzzTest() {
        try {
            npy = Files.createTempFile(FuzzFiles.scratch(), "metaforge-fuzz", ".npy");
            csv = Files.createTempFile(FuzzFiles.scratch(), "metaforge-fuzz", ".csv");
            npy.toFile().deleteOnExit();
            csv.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void read(byte[] input) throws IOException {
        if (input.length == 0) {
            return;
        }
        Path file = (input[0] & 1) == 0 ? npy : csv;
        Files.write(file, java.util.Arrays.copyOfRange(input, 1, input.length));
        try {
            ArrayFiles.read(file);
            outcomes.count("read " + (file == npy ? "npy" : "csv"));
        } catch (ArrayFileException expected) {
            outcomes.count("refused");
        }
    }
}
