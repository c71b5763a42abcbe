package dev.metaforge.api.checkpoint;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format, so PyTorch users can open Metaforge checkpoints with {@code safetensors.torch.load_file}:
 *
 * <pre>
 * [8 bytes: header length N, unsigned little-endian]
 * [N bytes: UTF-8 JSON {"__metadata__": {...}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...},
 *           padded with spaces to a multiple of 8]
 * [data: each tensor's values little-endian row-major, at its offsets relative to the data start]
 * </pre>
 *
 * Dtypes F32, F64 and I64 are supported. Files are written atomically ({@link AtomicFiles}).
 * The reader is strict: it rejects an oversize or truncated header, a header that is not a JSON
 * object, unknown dtypes or keys, a shape that disagrees with its byte range, overlapping,
 * out-of-range or non-contiguous offsets, and trailing bytes, naming the file and the problem.
 *
 * <pre>{@code
 * Safetensors.write(file, Map.of("w", TensorData.of(w)), Map.of("step", "100"));
 * SafetensorsFile content = Safetensors.read(file);
 * }</pre>
 */
public final class Safetensors {
    /** The largest header accepted (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The JSON key of the string metadata map. */
    public static final String METADATA_KEY = "__metadata__";

    private static final List<String> SUPPORTED = List.of("F32", "F64", "I64");
    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");
    /** Immutable and thread-safe (an ObjectReader, not a mapper): building a mapper per file cost more than reading it. */
    private static final ObjectReader HEADER_READER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .reader();

    private Safetensors() {
    }

    /** The safetensors name of a dtype: F32, F64 or I64. */
    public static String dtypeName(DType dtype) {
        return switch (requireNonNull(dtype, "dtype is null")) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case INT64 -> "I64";
        };
    }

    /** {@link #write(Path, Map, Map)} for tensors on a backend (their values are copied out first). */
    public static void writeTensors(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        requireNonNull(tensors, "tensors is null");
        Map<String, TensorData> data = new LinkedHashMap<>();
        tensors.forEach((name, t) -> data.put(name, TensorData.of(requireNonNull(t, "tensor '" + name + "' is null"))));
        write(file, data, metadata);
    }

    /**
     * Writes {@code tensors} (in iteration order, contiguous) and {@code metadata} to {@code file},
     * atomically.
     */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) throws IOException {
        requireNonNull(file, "file is null");
        byte[] header = header(tensors, metadata);
        List<TensorData> values = new ArrayList<>(tensors.values());
        AtomicFiles.write(file, out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(length.array());
            out.write(header);
            for (TensorData t : values) {
                ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(t.byteSize()));
                t.writeLittleEndian(buffer);
                out.write(buffer.array());
            }
        });
    }

    /** The encoded JSON header, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, TensorData> tensors, Map<String, String> metadata) {
        requireNonNull(tensors, "tensors is null");
        requireNonNull(metadata, "metadata is null");
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append(quote(METADATA_KEY)).append(":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                json.append(first ? "" : ",").append(quote(requireNonNull(e.getKey(), "metadata key is null")))
                        .append(':').append(quote(requireNonNull(e.getValue(), "metadata '" + e.getKey() + "' is null")));
                first = false;
            }
            json.append('}');
        }
        long offset = 0;
        boolean first = metadata.isEmpty();
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            String name = requireNonNull(e.getKey(), "tensor name is null");
            TensorData t = requireNonNull(e.getValue(), "tensor '" + name + "' is null");
            if (name.isEmpty() || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("'" + name + "' cannot be a tensor name in a safetensors file");
            }
            long end = offset + t.byteSize();
            json.append(first ? "" : ",").append(quote(name)).append(":{\"dtype\":\"").append(dtypeName(t.dtype()))
                    .append("\",\"shape\":[");
            int[] dims = t.shape().dims();
            for (int i = 0; i < dims.length; i++) {
                json.append(i == 0 ? "" : ",").append(dims[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
            first = false;
        }
        json.append('}');
        byte[] raw = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (raw.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(raw, 0, out, 0, raw.length);
        for (int i = raw.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    private static String quote(String s) {
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + '"';
    }

    /**
     * SHA-256 (lower-case hex) of the data section {@link #write} produces for {@code tensors}: their
     * little-endian values in iteration order. {@link Checkpoint} keeps it in the metadata, and
     * {@link SafetensorsFile#dataSha256()} gives the same digest of a file as read, so any changed
     * byte of the data is detected.
     */
    public static String dataSha256(Map<String, TensorData> tensors) {
        requireNonNull(tensors, "tensors is null");
        MessageDigest digest = sha256();
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            TensorData t = requireNonNull(e.getValue(), "tensor '" + e.getKey() + "' is null");
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(t.byteSize()));
            t.writeLittleEndian(buffer);
            buffer.flip();
            digest.update(buffer);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** One tensor's header entry, before its data is read. */
    private record Entry(String name, DType dtype, Shape shape, long begin, long end) {
    }

    /** Reads and validates {@code file}. */
    public static SafetensorsFile read(Path file) throws IOException {
        requireNonNull(file, "file is null");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new SafetensorsFormatException(file, "the file has " + fileSize
                        + " bytes, fewer than the 8-byte header length that starts every safetensors file");
            }
            ByteBuffer lengthBytes = readFully(channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = lengthBytes.getLong();
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                throw new SafetensorsFormatException(file, "header length " + Long.toUnsignedString(headerLength)
                        + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (not a safetensors file, or corrupted)");
            }
            if (8 + headerLength > fileSize) {
                throw new SafetensorsFormatException(file, "header length " + headerLength
                        + " goes beyond the end of the file (" + fileSize + " bytes; the header would end at byte "
                        + (8 + headerLength) + ")");
            }
            String headerText = decodeUtf8(file, readFully(channel, 8, (int) headerLength));
            long dataStart = 8 + headerLength;
            long dataLength = fileSize - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(file, headerText, metadata);
            checkLayout(file, entries, dataLength);
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            MessageDigest digest = sha256();
            for (Entry e : entries) { // sorted by offset and tiling the data section: the digest covers it in order
                ByteBuffer bytes = readFully(channel, dataStart + e.begin(), (int) (e.end() - e.begin()));
                digest.update(bytes.duplicate());
                tensors.put(e.name(), TensorData.readLittleEndian(bytes, e.dtype(), e.shape()));
            }
            return new SafetensorsFile(tensors, metadata, HexFormat.of().formatHex(digest.digest()));
        }
    }

    private static String decodeUtf8(Path file, ByteBuffer bytes) throws SafetensorsFormatException {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(file, "the header is not valid UTF-8", e);
        }
    }

    private static List<Entry> parseHeader(Path file, String text, Map<String, String> metadata) throws SafetensorsFormatException {
        JsonNode root;
        try {
            root = HEADER_READER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(file, "the header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!(root instanceof ObjectNode object)) {
            throw new SafetensorsFormatException(file, "the header must be a JSON object, found "
                    + (root == null || root.isMissingNode() ? "nothing" : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
        }
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : object.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!value.isObject()) {
                    throw new SafetensorsFormatException(file, "\"" + METADATA_KEY + "\" must be an object of strings");
                }
                for (Map.Entry<String, JsonNode> kv : value.properties()) {
                    if (!kv.getValue().isTextual()) {
                        throw new SafetensorsFormatException(file, "metadata value '" + kv.getKey() + "' must be a string, found "
                                + kv.getValue());
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            entries.add(parseEntry(file, name, value));
        }
        return entries;
    }

    private static Entry parseEntry(Path file, String name, JsonNode value) throws SafetensorsFormatException {
        String where = "tensor '" + name + "'";
        if (!value.isObject()) {
            throw new SafetensorsFormatException(file, where + " must be an object with dtype, shape and data_offsets, found " + value);
        }
        Iterator<String> keys = value.fieldNames();
        while (keys.hasNext()) {
            String key = keys.next();
            if (!ENTRY_KEYS.contains(key)) {
                throw new SafetensorsFormatException(file, where + " has unknown key '" + key + "'; expected dtype, shape, data_offsets");
            }
        }
        JsonNode dtypeNode = value.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafetensorsFormatException(file, where + " has no string \"dtype\"");
        }
        DType dtype = switch (dtypeNode.textValue()) {
            case "F32" -> DType.FLOAT32;
            case "F64" -> DType.FLOAT64;
            case "I64" -> DType.INT64;
            default -> throw new SafetensorsFormatException(file, where + " has dtype '" + dtypeNode.textValue()
                    + "', which Metaforge does not read; supported: " + SUPPORTED);
        };
        JsonNode shapeNode = value.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new SafetensorsFormatException(file, where + " has no \"shape\" array");
        }
        int[] dims = new int[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0 || d.longValue() > Integer.MAX_VALUE) {
                throw new SafetensorsFormatException(file, where + " has invalid dimension " + d + " in shape " + shapeNode);
            }
            dims[i] = (int) d.longValue();
            try {
                elements = Math.multiplyExact(elements, dims[i]);
            } catch (ArithmeticException e) {
                throw new SafetensorsFormatException(file, where + " has shape " + shapeNode + " with too many elements", e);
            }
        }
        JsonNode offsets = value.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new SafetensorsFormatException(file, where + " needs \"data_offsets\": [begin, end], found " + offsets);
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = offsets.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw new SafetensorsFormatException(file, where + " has invalid data_offsets " + offsets
                        + "; expected two non-negative integers");
            }
            be[i] = o.longValue();
        }
        if (be[1] < be[0]) {
            throw new SafetensorsFormatException(file, where + " has data_offsets " + offsets + " that end before they begin");
        }
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(elements, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(file, where + " has shape " + shapeNode + " too large", e);
        }
        if (be[1] - be[0] != expectedBytes) {
            throw new SafetensorsFormatException(file, where + ": shape " + shapeNode + " of " + dtypeNode.textValue()
                    + " needs " + expectedBytes + " bytes but data_offsets " + offsets + " span " + (be[1] - be[0]));
        }
        if (expectedBytes > Integer.MAX_VALUE - 8) {
            throw new SafetensorsFormatException(file, where + " has " + expectedBytes
                    + " bytes; Metaforge reads tensors of at most 2 GB each");
        }
        return new Entry(name, dtype, Shape.of(dims), be[0], be[1]);
    }

    /** The byte ranges must tile the data section exactly: from 0, no overlap, no gap, no trailing bytes. */
    private static void checkLayout(Path file, List<Entry> entries, long dataLength) throws SafetensorsFormatException {
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long previousEnd = 0;
        Entry previous = null;
        for (Entry e : entries) {
            if (e.end() > dataLength) {
                throw new SafetensorsFormatException(file, "tensor '" + e.name() + "' has data_offsets [" + e.begin() + ", "
                        + e.end() + "] beyond the data section, which has " + dataLength + " bytes (out of range)");
            }
            if (e.begin() < previousEnd) {
                throw new SafetensorsFormatException(file, "tensor '" + e.name() + "' [" + e.begin() + ", " + e.end()
                        + ") overlaps tensor '" + previous.name() + "' [" + previous.begin() + ", " + previous.end() + ")");
            }
            if (e.begin() > previousEnd) {
                throw new SafetensorsFormatException(file, "gap in the data section: bytes [" + previousEnd + ", " + e.begin()
                        + ") before tensor '" + e.name() + "' belong to no tensor");
            }
            previousEnd = e.end();
            previous = e;
        }
        if (previousEnd != dataLength) {
            throw new SafetensorsFormatException(file, (dataLength - previousEnd) + " trailing bytes: the data section has "
                    + dataLength + " bytes but the tensors cover only " + previousEnd);
        }
    }

    /**
     * The bytes of a safetensors file holding {@code tensors} and {@code metadata}: what
     * {@link #write} puts in a file, for sending over a network (e.g. parameters broadcast to a
     * cluster's executors).
     */
    public static byte[] toBytes(Map<String, TensorData> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        long dataBytes = 0;
        for (TensorData t : tensors.values()) {
            dataBytes += t.byteSize();
        }
        long total = 8 + header.length + dataBytes;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("safetensors content of " + total + " bytes does not fit in one byte array; write a file");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length);
        out.put(header);
        for (TensorData t : tensors.values()) {
            t.writeLittleEndian(out);
        }
        return out.array();
    }

    /**
     * Reads safetensors content from memory (what {@link #toBytes} gives), validated as strictly
     * as {@link #read}; {@code source} names the bytes in error messages.
     */
    public static SafetensorsFile fromBytes(byte[] bytes, String source) throws SafetensorsFormatException {
        requireNonNull(bytes, "bytes is null");
        Path name = Path.of(requireNonNull(source, "source is null"));
        if (bytes.length < 8) {
            throw new SafetensorsFormatException(name, "the content has " + bytes.length
                    + " bytes, fewer than the 8-byte header length that starts every safetensors file");
        }
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
            throw new SafetensorsFormatException(name, "header length " + Long.toUnsignedString(headerLength)
                    + " does not fit the content's " + bytes.length + " bytes (not safetensors, or truncated)");
        }
        String headerText = decodeUtf8(name, ByteBuffer.wrap(bytes, 8, (int) headerLength));
        int dataStart = 8 + (int) headerLength;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = parseHeader(name, headerText, metadata);
        List<Entry> inOrder = new ArrayList<>(entries);
        checkLayout(name, entries, bytes.length - dataStart);
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (Entry e : inOrder) {
            ByteBuffer slice = ByteBuffer.wrap(bytes, dataStart + (int) e.begin(), (int) (e.end() - e.begin())).slice();
            tensors.put(e.name(), TensorData.readLittleEndian(slice, e.dtype(), e.shape()));
        }
        return new SafetensorsFile(tensors, metadata);
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + at);
            }
            at += n;
        }
        buffer.flip();
        return buffer;
    }
}
