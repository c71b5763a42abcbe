package dev.metaforge.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.metaforge.api.data.Idx;
import dev.metaforge.api.data.IdxFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The IDX reader on arbitrary bytes. The first input byte chooses how the rest is stored: as a plain
 * file, as the raw content of a {@code .gz} file, or gzip-compressed into a {@code .gz} file (so the
 * fuzzed IDX content also reaches the reader through a valid gzip stream). The only documented
 * outcome of a bad file is an {@link IdxFormatException} naming it; anything else thrown is a finding.
 */
class IdxFuzzTest {
    private final Outcomes outcomes = new Outcomes("IDX reader");
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
        byte[] content = java.util.Arrays.copyOfRange(input, 1, input.length);
        int mode = Math.floorMod(input[0], 3);
        Path file = mode == 0 ? plain : gzip;
        if (mode == 2) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(bytes)) {
                out.write(content);
            }
            content = bytes.toByteArray();
        }
        Files.write(file, content);
        try {
            Idx.read(file);
            outcomes.count("read");
        } catch (IdxFormatException expected) {
            outcomes.count("refused");
        }
    }
}
