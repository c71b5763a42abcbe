package dev.metaforge.api.train;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's output directory, held exclusively for the run: an OS file lock ({@link FileChannel#tryLock})
 * on {@value #LOCK_FILE} inside it, which records the holder's PID, so a second run into the same
 * directory fails at once naming the holder instead of both writing the same files. The lock dies
 * with its process, so a killed run never leaves the directory locked.
 *
 * <p>It remembers which directories and files this run created: {@link #abandon()} (a spec that
 * fails before its first step) removes exactly those and nothing that was there before.
 *
 * <pre>{@code
 * try (RunDirectory run = RunDirectory.acquire(outDir)) {
 *     ... write files, run.created(file) for each new one ...
 * }
 * }</pre>
 */
public final class RunDirectory implements AutoCloseable {
    /** The lock file's name; it stays in the directory after the run (deleting it would race with a waiting run). */
    public static final String LOCK_FILE = ".metaforge.lock";

    private final Path dir;
    private final List<Path> createdDirs;
    private final List<Path> createdFiles = new ArrayList<>();
    private final FileChannel channel;
    private final FileLock lock;
    private boolean closed;

    private RunDirectory(Path dir, List<Path> createdDirs, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.createdDirs = createdDirs;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code dir} (and missing parents) and locks it for this process.
     *
     * @throws TrainingException when another run holds it, naming that run's PID
     */
    public static RunDirectory acquire(Path dir) throws IOException {
        requireNonNull(dir, "dir is null");
        Path absolute = dir.toAbsolutePath().normalize();
        List<Path> created = new ArrayList<>();
        for (Path p = absolute; p != null && !Files.isDirectory(p); p = p.getParent()) {
            created.add(0, p);
        }
        Files.createDirectories(absolute);
        Path lockFile = absolute.resolve(LOCK_FILE);
        boolean lockFileIsNew = !Files.exists(lockFile);
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process, through another channel
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot lock " + lockFile + ": " + e.getMessage(), e);
        }
        if (lock == null) {
            String holder = holder(channel);
            channel.close();
            throw new TrainingException(dir + " is in use by another run (" + holder + "); wait for it to finish, stop it,"
                    + " or choose another output directory");
        }
        RunDirectory run = new RunDirectory(absolute, created, channel, lock);
        if (lockFileIsNew) {
            run.createdFiles.add(lockFile);
        }
        run.writeHolder();
        return run;
    }

    private void writeHolder() throws IOException {
        String text = "pid " + ProcessHandle.current().pid() + ", started " + Instant.now() + "\n";
        channel.truncate(0);
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        long at = 0;
        while (bytes.hasRemaining()) {
            at += channel.write(bytes, at);
        }
        channel.force(false);
    }

    private static String holder(FileChannel channel) {
        try {
            long size = Math.min(channel.size(), 4096);
            ByteBuffer buffer = ByteBuffer.allocate((int) size);
            while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
                // keep reading
            }
            String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).trim();
            return text.isEmpty() ? "PID not yet recorded" : text.replaceAll("[\\p{Cntrl}]", " ");
        } catch (IOException e) {
            return "PID unknown: " + e.getMessage();
        }
    }

    /** The locked directory (absolute). */
    public Path dir() {
        return dir;
    }

    /** Records that this run created {@code file}, so {@link #abandon()} removes it. */
    public void created(Path file) {
        Path f = file.toAbsolutePath().normalize();
        if (!createdFiles.contains(f)) {
            createdFiles.add(f);
        }
    }

    /** True when this run created the directory itself (it did not exist before). */
    public boolean createdDirectory() {
        return !createdDirs.isEmpty();
    }

    /**
     * Releases the lock and removes what this run created: its files, then the directories it
     * created if they are empty. Used when a run fails before its first step.
     */
    public void abandon() throws IOException {
        if (closed) {
            return;
        }
        try {
            for (Path f : createdFiles) {
                if (!f.getFileName().toString().equals(LOCK_FILE)) {
                    Files.deleteIfExists(f);
                }
            }
        } finally {
            Path lockFile = dir.resolve(LOCK_FILE);
            if (createdFiles.contains(lockFile)) {
                Files.deleteIfExists(lockFile);
            }
            release();
            for (int i = createdDirs.size() - 1; i >= 0; i--) {
                try {
                    Files.deleteIfExists(createdDirs.get(i));
                } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                    break; // someone else put something there: leave it and its parents
                }
            }
        }
    }

    private void release() throws IOException {
        if (!closed) {
            closed = true;
            try {
                lock.release();
            } finally {
                channel.close();
            }
        }
    }

    /** Releases the lock; the directory and its files stay. */
    @Override
    public void close() throws IOException {
        release();
    }
}
