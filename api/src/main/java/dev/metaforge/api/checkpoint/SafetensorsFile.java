package dev.metaforge.api.checkpoint;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The content of a safetensors file.
 *
 * @param tensors    name to values, in the order of their data in the file
 * @param metadata   the {@code __metadata__} string map (empty when absent)
 * @param dataSha256 SHA-256 (lower-case hex) of the file's data section as read, byte for byte
 */
public record SafetensorsFile(Map<String, TensorData> tensors, Map<String, String> metadata, String dataSha256) {
    public SafetensorsFile {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(tensors, "tensors is null")));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(metadata, "metadata is null")));
        requireNonNull(dataSha256, "dataSha256 is null");
    }

    /** Content not read from a file: the hash is that of the tensors' serialization in iteration order. */
    public SafetensorsFile(Map<String, TensorData> tensors, Map<String, String> metadata) {
        this(tensors, metadata, Safetensors.dataSha256(tensors));
    }

    /** The tensor named {@code name}; an unknown name is an error listing the known ones. */
    public TensorData tensor(String name) {
        TensorData t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor '" + name + "'; the file holds " + tensors.keySet());
        }
        return t;
    }
}
