package dev.metaforge.fuzz;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where targets write their inputs: memory-backed {@code /dev/shm} when there is one (tens of times faster than disk). */
final class FuzzFiles {
    private FuzzFiles() {
    }

    static Path scratch() {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    }
}
