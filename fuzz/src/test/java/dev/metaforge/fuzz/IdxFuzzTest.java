package dev.metaforge.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.IdxFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The IDX reader on arbitrary bytes, as a plain file and as the content of a {@code .gz} file (the
 * first input byte chooses): the only documented outcome of a bad file is an {@link IdxFormatException}
 * naming it; anything else thrown is a finding.
 */
class IdxFuzzTest {
    private final Path plain;
    private final Path gzip;

    IdxFuzzTest() {
        try {
            Path dir = Files.createTempDirectory(FuzzFiles.scratch(), "metaforge-idx-fuzz");
            dir.toFile().deleteOnExit();
            plain = dir.resolve("data-idx3-ubyte");
            gzip = dir.resolve("data-idx3-ubyte.gz");
            plain.toFile().deleteOnExit();
            gzip.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void read(byte[] input) throws IOException {
        if (input.length == 0) {
            return;
        }
        Path file = (input[0] & 1) == 0 ? plain : gzip;
        Files.write(file, java.util.Arrays.copyOfRange(input, 1, input.length));
        try {
            Idx.read(file);
        } catch (IdxFormatException expected) {
            // documented
        }
    }
}
