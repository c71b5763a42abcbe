package dev.metaforge.api.data;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.AtomicFiles;
import dev.metaforge.spi.Shape;
import java.io.BufferedInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * Reads and writes IDX files, the format of MNIST and its relatives (Fashion-MNIST, KMNIST,
 * EMNIST): two zero bytes, an element type code, the number of dimensions, the dimensions as
 * big-endian 32-bit integers, then the values big-endian and row-major. Gzipped files (as the
 * datasets are distributed) are recognised by their content and decompressed while reading.
 * Nothing is downloaded: the files are read from a local path.
 *
 * <p>Reading is bounded. The input is streamed, never read whole; the header is read and checked
 * first (magic, type, rank, dimensions); the declared data size is checked against a limit
 * ({@link #defaultMaxBytes()} unless given) before anything is allocated; exactly the declared
 * bytes are then read, and a file that ends early or goes on after them is an error. So a small
 * gzip bomb costs as much memory as its header declares, and no more than the limit. Every error
 * is an {@link IdxFormatException} naming the file, the byte offset (in the decompressed stream)
 * and what was expected.
 *
 * <pre>{@code
 * LabelledDataset train = Idx.readDataset(dir.resolve("train-images-idx3-ubyte.gz"),
 *                                         dir.resolve("train-labels-idx1-ubyte.gz"), 1.0 / 255);
 * }</pre>
 */
public final class Idx {
    /** Where Debian's {@code dataset-fashion-mnist} package installs Fashion-MNIST's four IDX files (gzipped). */
    public static final String FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

    /** The most bytes one Java array holds: the hard ceiling of every limit. */
    public static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;
    /** The default limit never exceeds 1 GiB per file. */
    public static final long DEFAULT_MAX_BYTES_CAP = 1L << 30;
    /** Trailing bytes are counted up to this many, then reported as "more than". */
    private static final int TRAILING_COUNT_CAP = 1 << 20;

    private Idx() {
    }

    /**
     * The default limit on the data of one file: half the JVM's maximum heap, at most
     * {@link #DEFAULT_MAX_BYTES_CAP} (Fashion-MNIST's largest file holds 47 MB).
     */
    public static long defaultMaxBytes() {
        return Math.min(DEFAULT_MAX_BYTES_CAP, Runtime.getRuntime().maxMemory() / 2);
    }

    /** Reads and checks only the header of {@code file} (a few bytes, decompressed if gzipped). */
    public static IdxHeader readHeader(Path file) throws IOException {
        requireNonNull(file, "file is null");
        try (Source in = Source.open(file)) {
            return in.header();
        }
    }

    /** Reads an IDX file (gzipped or not) within {@link #defaultMaxBytes()}. */
    public static IdxArray read(Path file) throws IOException {
        return read(file, defaultMaxBytes());
    }

    /**
     * Reads an IDX file (gzipped or not) whose data takes at most {@code maxBytes} bytes (and at
     * most {@link #MAX_ARRAY_BYTES}); a larger declared size is refused before anything is read.
     */
    public static IdxArray read(Path file, long maxBytes) throws IOException {
        requireNonNull(file, "file is null");
        try (Source in = Source.open(file)) {
            IdxHeader header = in.header();
            checkSize(file, header, maxBytes);
            return new IdxArray(header.dims(), PackedArray.wrap(header.type(), in.data(header)));
        }
    }

    /** Writes an IDX file atomically, gzipped when the name ends in {@code .gz}. */
    public static void write(Path file, IdxArray array) throws IOException {
        requireNonNull(file, "file is null");
        requireNonNull(array, "array is null");
        int[] dims = array.dims();
        if (dims.length == 0 || dims.length > 255) {
            throw new IllegalArgumentException("IDX files have 1 to 255 dimensions, got " + dims.length);
        }
        boolean gzip = file.getFileName() != null && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
        AtomicFiles.write(file, stream -> {
            GZIPOutputStream zipped = gzip ? new GZIPOutputStream(stream, 1 << 16) : null;
            DataOutputStream out = new DataOutputStream(zipped != null ? zipped : stream);
            out.writeByte(0);
            out.writeByte(0);
            out.writeByte(array.type().code());
            out.writeByte(dims.length);
            for (int d : dims) {
                out.writeInt(d);
            }
            array.values().writeTo(out);
            out.flush();
            if (zipped != null) {
                zipped.finish();
            }
        });
    }

    /** {@link #readDataset(Path, Path, double, long)} within {@link #defaultMaxBytes()} per file. */
    public static LabelledDataset readDataset(Path inputs, Path labels, double inputScale) throws IOException {
        return readDataset(inputs, labels, inputScale, defaultMaxBytes());
    }

    /**
     * Reads an examples file (e.g. images) and its label file into a {@link LabelledDataset}. Both
     * headers are read and checked against each other and the limit before any data is read: the
     * first dimension of both counts examples, labels are one integer per example. The examples
     * stay in their stored type (ubyte pixels stay bytes); {@code inputScale} (e.g. 1/255) is
     * applied when batches are built.
     */
    public static LabelledDataset readDataset(Path inputs, Path labels, double inputScale, long maxBytes) throws IOException {
        requireNonNull(inputs, "inputs is null");
        requireNonNull(labels, "labels is null");
        IdxHeader x = readHeader(inputs);
        IdxHeader y = readHeader(labels);
        if (!y.type().isInteger()) {
            throw new IdxFormatException(labels, 2, "expected labels of an integer type (ubyte, byte, short, int), found "
                    + y.type().jsonName());
        }
        if (y.dims().length != 1) {
            throw new IdxFormatException(labels, 3, "expected labels with 1 dimension, found dims " + Arrays.toString(y.dims()));
        }
        int examples = x.dims()[0];
        if (y.dims()[0] != examples) {
            throw new IdxFormatException(labels, 4, "expected " + examples + " labels (one per example of " + inputs
                    + "), found " + y.dims()[0]);
        }
        checkSize(inputs, x, maxBytes);
        checkSize(labels, y, maxBytes);
        IdxArray xs = read(inputs, maxBytes);
        IdxArray ys = read(labels, maxBytes);
        if (!xs.header().equals(x) || !ys.header().equals(y)) {
            throw new IOException("IDX files " + inputs + " and " + labels + " changed while they were read; read them again");
        }
        PackedArray stored = ys.values();
        int[] classes = new int[examples];
        for (int i = 0; i < examples; i++) {
            double label = stored.get(i);
            if (label < 0) {
                throw new IdxFormatException(labels, y.headerBytes() + (long) i * y.type().byteSize(),
                        "expected class labels >= 0, found " + (long) label + " (label of example " + i + ")");
            }
            classes[i] = (int) label;
        }
        int[] dims = x.dims();
        Shape exampleShape = Shape.of(Arrays.copyOfRange(dims, 1, dims.length));
        return LabelledDataset.of(xs.values(), exampleShape, classes, inputScale).withSource(inputs.toString());
    }

    /** Refuses a declared data size above the limit, before anything is allocated. */
    private static void checkSize(Path file, IdxHeader header, long maxBytes) throws IdxFormatException {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
        long limit = Math.min(maxBytes, MAX_ARRAY_BYTES);
        long bytes = header.dataBytes();
        if (bytes < 0 || bytes > limit) {
            String size = bytes < 0 ? "more than 2^63 bytes" : bytes + " bytes (" + mebibytes(bytes) + ")";
            String why = limit < maxBytes ? "the most one Java array holds" : "the limit";
            throw new IdxFormatException(file, 4, "the header declares dims " + Arrays.toString(header.dims()) + " of "
                    + header.type().jsonName() + ", that is " + size + " of data, more than " + limit + " bytes ("
                    + mebibytes(limit) + ", " + why + "); if the file is genuine, raise the limit (\"maxBytes\" of an idx"
                    + " dataset spec; by default half the Java heap, at most 1 GiB) and the heap (JAVA_OPTS=-Xmx...),"
                    + " else the file is corrupt");
        }
    }

    private static String mebibytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    /** A file opened for reading, decompressed when its content is gzip, tracking the offset in the IDX stream. */
    private static final class Source implements AutoCloseable {
        private final Path file;
        private final InputStream in;
        private final boolean gzip;
        private long position;

        private Source(Path file, InputStream in, boolean gzip) {
            this.file = file;
            this.in = in;
            this.gzip = gzip;
        }

        static Source open(Path file) throws IOException {
            BufferedInputStream buffered = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            try {
                buffered.mark(2);
                int b0 = buffered.read();
                int b1 = buffered.read();
                buffered.reset();
                if (b0 == 0x1F && b1 == 0x8B) {
                    try {
                        return new Source(file, new GZIPInputStream(buffered, 1 << 16), true);
                    } catch (ZipException | EOFException e) {
                        throw new IdxFormatException(file, 0, "the file starts like gzip but its gzip header is broken ("
                                + e.getMessage() + ")");
                    }
                }
                return new Source(file, buffered, false);
            } catch (IOException | RuntimeException e) {
                buffered.close();
                throw e;
            }
        }

        IdxHeader header() throws IOException {
            byte[] magic = new byte[4];
            int n = readFully(magic, 0, 4);
            if (n < 4) {
                throw new IdxFormatException(file, n, "expected a 4-byte magic number, but the file has only " + n + " bytes");
            }
            if (magic[0] != 0 || magic[1] != 0) {
                throw new IdxFormatException(file, 0, String.format(Locale.ROOT,
                        "expected magic bytes 0x00 0x00, found 0x%02X 0x%02X: not an IDX file", magic[0] & 0xFF, magic[1] & 0xFF));
            }
            ElementType type = ElementType.ofCode(magic[2] & 0xFF);
            if (type == null) {
                throw new IdxFormatException(file, 2, String.format(Locale.ROOT, "expected an element type code, one of %s; found 0x%02X",
                        ElementType.knownCodes(), magic[2] & 0xFF));
            }
            int rank = magic[3] & 0xFF;
            if (rank == 0) {
                throw new IdxFormatException(file, 3, "expected at least 1 dimension, found 0");
            }
            byte[] dimBytes = new byte[4 * rank];
            n = readFully(dimBytes, 0, dimBytes.length);
            if (n < dimBytes.length) {
                throw new IdxFormatException(file, 4 + n, "expected " + rank + " dimensions (" + (4 * rank)
                        + " bytes after the magic number), but the file ends after " + n + " of them");
            }
            int[] dims = new int[rank];
            for (int i = 0; i < rank; i++) {
                int d = ((dimBytes[4 * i] & 0xFF) << 24) | ((dimBytes[4 * i + 1] & 0xFF) << 16) | ((dimBytes[4 * i + 2] & 0xFF) << 8)
                        | (dimBytes[4 * i + 3] & 0xFF);
                if (d < 0) {
                    throw new IdxFormatException(file, 4 + 4 * i, "expected a non-negative dimension, found "
                            + Integer.toUnsignedString(d) + " (more than 2^31 - 1)");
                }
                dims[i] = d;
            }
            return new IdxHeader(type, dims);
        }

        /** Exactly the declared data bytes; the caller has checked the size against its limit. */
        byte[] data(IdxHeader header) throws IOException {
            long expected = header.dataBytes();
            String what = " data bytes for dims " + Arrays.toString(header.dims()) + " of " + header.type().jsonName();
            if (!gzip) {
                // A plain file's size is known: refuse a truncated file before allocating.
                long found = Files.size(file) - header.headerBytes();
                if (found < expected) {
                    throw new IdxFormatException(file, header.headerBytes() + found, "expected " + expected + what + ", found "
                            + found + " (the file is truncated)");
                }
            }
            byte[] data = new byte[(int) expected];
            int n = readFully(data, 0, data.length);
            if (n < data.length) {
                throw new IdxFormatException(file, position, "expected " + expected + what + ", found " + n
                        + " (the file is truncated)");
            }
            long trailing = countTrailing();
            if (trailing > 0) {
                throw new IdxFormatException(file, position - trailing, "expected the file to end after " + expected + what
                        + ", found " + (trailing > TRAILING_COUNT_CAP ? "more than " + TRAILING_COUNT_CAP : trailing)
                        + " trailing bytes");
            }
            return data;
        }

        /** Counts the bytes left, reading at most one past the cap. */
        private long countTrailing() throws IOException {
            byte[] buffer = new byte[8192];
            long total = 0;
            while (total <= TRAILING_COUNT_CAP) {
                int n = read(buffer, 0, buffer.length);
                if (n < 0) {
                    break;
                }
                total += n;
            }
            return total;
        }

        /** Reads until {@code length} bytes or the end; returns how many were read. */
        private int readFully(byte[] buffer, int offset, int length) throws IOException {
            int done = 0;
            while (done < length) {
                int n = read(buffer, offset + done, length - done);
                if (n < 0) {
                    break;
                }
                done += n;
            }
            return done;
        }

        private int read(byte[] buffer, int offset, int length) throws IOException {
            int n;
            try {
                n = in.read(buffer, offset, length);
            } catch (ZipException | EOFException e) {
                throw new IdxFormatException(file, position, "the gzip stream is corrupt or cut short (" + e.getMessage()
                        + "); download or install the file again");
            }
            if (n > 0) {
                position += n;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
