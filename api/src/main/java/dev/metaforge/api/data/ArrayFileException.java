package dev.metaforge.api.data;

import java.io.IOException;
import java.nio.file.Path;

/** A {@code .npy} or {@code .csv} array file that cannot be read or written: the message names the file and the problem. */
public class ArrayFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public ArrayFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
