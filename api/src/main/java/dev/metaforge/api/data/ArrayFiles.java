package dev.metaforge.api.data;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.checkpoint.AtomicFiles;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Arrays of numbers in files other tools write and read: NumPy's {@code .npy} (format versions 1-3,
 * little-endian float32 {@code <f4} or float64 {@code <f8}, C order) and plain {@code .csv} (one row
 * per line, comma-separated numbers, no header). The file's extension says which.
 *
 * <p>Reading is strict: another dtype, Fortran order, a truncated or over-long data section, ragged
 * or non-numeric CSV rows are errors ({@link ArrayFileException}) naming the file and what to do.
 * Writing is atomic ({@link AtomicFiles}); a CSV holds one row per entry of axis 0 (an array of rank
 * above 2 is flattened to [N, rest]); numbers are written in their shortest round-trip form, so
 * reading the CSV back gives the same values.
 *
 * <pre>{@code
 * TensorData x = ArrayFiles.read(Path.of("x.npy"));     // [N, ...], FLOAT32 or FLOAT64
 * ArrayFiles.write(Path.of("y.csv"), y);
 * }</pre>
 */
public final class ArrayFiles {
    /** The largest file read, in bytes (an array of 2^31 - 1 bytes is Java's limit). */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 1024;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private ArrayFiles() {
    }

    /** Reads a {@code .npy} or {@code .csv} file (by its extension). */
    public static TensorData read(Path file) throws IOException {
        requireNonNull(file, "file is null");
        return switch (extension(file)) {
            case "npy" -> readNpy(file);
            case "csv" -> readCsv(file);
            default -> throw new ArrayFileException(file, "unknown file type; use a .npy file (NumPy, float32 or float64) or a .csv file"
                    + " (comma-separated numbers, one example per line)");
        };
    }

    /** Writes a {@code .npy} or {@code .csv} file (by its extension), atomically. */
    public static void write(Path file, TensorData data) throws IOException {
        requireNonNull(file, "file is null");
        requireNonNull(data, "data is null");
        switch (extension(file)) {
            case "npy" -> AtomicFiles.writeBytes(file, npyBytes(data));
            case "csv" -> AtomicFiles.writeString(file, csv(data));
            default -> throw new ArrayFileException(file, "unknown file type to write; use .npy or .csv");
        }
    }

    /** Whether {@link #read} and {@link #write} know the file's extension. */
    public static boolean isSupported(Path file) {
        String ext = extension(file);
        return ext.equals("npy") || ext.equals("csv");
    }

    private static String extension(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    // ---- .npy ----

    static TensorData readNpy(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_BYTES) {
            throw new ArrayFileException(file, "the file has " + size + " bytes, more than the " + MAX_BYTES + " this reader accepts");
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10 || !java.util.Arrays.equals(java.util.Arrays.copyOf(bytes, 6), MAGIC)) {
            throw new ArrayFileException(file, "not a NumPy .npy file (it does not start with \\x93NUMPY); save arrays with numpy.save");
        }
        int major = bytes[6];
        long headerLength;
        int headerStart;
        if (major == 1) {
            headerLength = Short.toUnsignedInt(in.getShort(8));
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) {
                throw new ArrayFileException(file, "the header is truncated");
            }
            headerLength = Integer.toUnsignedLong(in.getInt(8));
            headerStart = 12;
        } else {
            throw new ArrayFileException(file, ".npy format version " + major + "." + bytes[7] + " is not supported (versions 1-3 are)");
        }
        if (headerStart + headerLength > bytes.length) {
            throw new ArrayFileException(file, "the header of " + headerLength + " bytes goes beyond the end of the file ("
                    + bytes.length + " bytes)");
        }
        String header = new String(bytes, headerStart, (int) headerLength, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(file, DESCR, header, "descr");
        DType dtype = switch (descr) {
            case "<f4" -> DType.FLOAT32;
            case "<f8" -> DType.FLOAT64;
            default -> throw new ArrayFileException(file, "dtype '" + descr + "' is not supported; Metaforge reads little-endian float32 ('<f4')"
                    + " or float64 ('<f8'): save x.astype(numpy.float32)");
        };
        if (group(file, FORTRAN, header, "fortran_order").equals("True")) {
            throw new ArrayFileException(file, "the array is in Fortran (column-major) order; save numpy.ascontiguousarray(x) instead");
        }
        String shapeText = group(file, SHAPE, header, "shape").trim();
        List<Integer> dims = new ArrayList<>();
        for (String part : shapeText.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            try {
                dims.add(Integer.parseInt(p.endsWith("L") ? p.substring(0, p.length() - 1) : p));
            } catch (NumberFormatException e) {
                throw new ArrayFileException(file, "the shape (" + shapeText + ") is not a tuple of sizes");
            }
        }
        if (dims.isEmpty()) {
            throw new ArrayFileException(file, "the array is a scalar (shape ()); save at least one axis, [N, ...]");
        }
        Shape shape;
        long dataBytes = dtype.byteSize();
        try {
            shape = Shape.of(dims.stream().mapToInt(Integer::intValue).toArray());
            for (int d : shape.dims()) {
                dataBytes = Math.multiplyExact(dataBytes, d);   // no wrap-around: a huge shape is an error, not a small one
            }
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ArrayFileException(file, "invalid shape (" + shapeText + "): " + (e instanceof ArithmeticException
                    ? "too many values" : e.getMessage()));
        }
        long available = bytes.length - headerStart - headerLength;
        if (available != dataBytes) {
            throw new ArrayFileException(file, "shape " + shape + " of " + descr + " needs " + dataBytes + " data bytes but the file has "
                    + available + (available < dataBytes ? " (truncated)" : " (trailing bytes)"));
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (headerStart + headerLength), (int) dataBytes).slice().order(ByteOrder.LITTLE_ENDIAN);
        int n = shape.sizeAsInt();
        if (dtype == DType.FLOAT32) {
            float[] values = new float[n];
            data.asFloatBuffer().get(values);
            return TensorData.ofFloats(values, shape);
        }
        double[] values = new double[n];
        data.asDoubleBuffer().get(values);
        return TensorData.ofDoubles(values, shape);
    }

    private static String group(Path file, Pattern pattern, String header, String key) throws ArrayFileException {
        Matcher m = pattern.matcher(header);
        if (!m.find()) {
            throw new ArrayFileException(file, "the header has no valid '" + key + "' entry: " + header.trim());
        }
        return m.group(1);
    }

    /** Format version 1.0: magic, version, header length, a Python dict padded to a multiple of 64 bytes. */
    static byte[] npyBytes(TensorData data) {
        String descr = switch (data.dtype()) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case INT64 -> "<i8";
        };
        int[] dims = data.shape().dims();
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            shape.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        shape.append(dims.length == 1 ? ",)" : ")");
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }");
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(10 + headerBytes.length + data.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) headerBytes.length).put(headerBytes);
        switch (data.dtype()) {
            case FLOAT32 -> {
                for (float f : data.toFloats()) {
                    out.putFloat(f);
                }
            }
            case FLOAT64 -> {
                for (double d : data.toDoubles()) {
                    out.putDouble(d);
                }
            }
            case INT64 -> {
                for (long l : data.toLongs()) {
                    out.putLong(l);
                }
            }
        }
        return out.array();
    }

    // ---- .csv ----

    static TensorData readCsv(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_BYTES / 4) {
            throw new ArrayFileException(file, "the file has " + size + " bytes; for arrays this large use .npy");
        }
        List<double[]> rows = new ArrayList<>();
        int width = -1;
        try (InputStream stream = Files.newInputStream(file);
             BufferedReader reader = new BufferedReader(new java.io.InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            int lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (lineNumber == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                String[] fields = line.split(",", -1);
                if (width >= 0 && fields.length != width) {
                    throw new ArrayFileException(file, "line " + lineNumber + " has " + fields.length + " values but the lines before have "
                            + width + "; every example needs the same number of values");
                }
                width = fields.length;
                double[] row = new double[fields.length];
                for (int c = 0; c < fields.length; c++) {
                    String field = fields[c].trim();
                    try {
                        row[c] = Double.parseDouble(field);
                    } catch (NumberFormatException e) {
                        row[c] = Double.NaN;
                    }
                    if (!Double.isFinite(row[c])) {
                        throw new ArrayFileException(file, "line " + lineNumber + ", column " + (c + 1) + ": '" + field
                                + "' is not a finite number" + (lineNumber == 1 ? " (a header line? remove it: the file holds numbers only)" : ""));
                    }
                }
                rows.add(row);
            }
        }
        if (rows.isEmpty()) {
            throw new ArrayFileException(file, "the file holds no rows; write one example per line, values separated by commas");
        }
        double[] values = new double[rows.size() * width];
        for (int r = 0; r < rows.size(); r++) {
            System.arraycopy(rows.get(r), 0, values, r * width, width);
        }
        return TensorData.ofDoubles(values, Shape.of(rows.size(), width));
    }

    static String csv(TensorData data) {
        int[] dims = data.shape().dims();
        int rows = dims.length == 0 ? 1 : dims[0];
        int width = rows == 0 ? 0 : data.size() / rows;
        StringBuilder out = new StringBuilder();
        float[] floats = data.dtype() == DType.FLOAT32 ? data.toFloats() : null;
        double[] doubles = floats == null ? data.toDoubles() : null;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) {
                int i = r * width + c;
                out.append(c == 0 ? "" : ",").append(floats != null ? Float.toString(floats[i]) : Double.toString(doubles[i]));
            }
            out.append('\n');
        }
        return out.toString();
    }
}
