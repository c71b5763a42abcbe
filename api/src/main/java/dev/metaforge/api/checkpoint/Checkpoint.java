package dev.metaforge.api.checkpoint;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A training run's state at a step, stored as one safetensors file: trainable parameters under
 * {@code params/<name>}, optimizer state under {@code optimizer/<slot>/<name>} and objective state
 * under {@code objective/<name>}, with the step, seed, spec hash, backend name and format version
 * in the metadata. In PyTorch: {@code safetensors.torch.load_file(path)["params/0.weight"]}.
 *
 * @param step           completed training steps
 * @param seed           the run's seed
 * @param specHash       hash of what determines the run's trajectory (see {@code TrainSpec#trajectoryHash})
 * @param backend        name of the backend that wrote it
 * @param params         trainable parameters
 * @param optimizerState optimizer state, keyed {@code <slot>/<param>}
 * @param objectiveState the objective's non-trainable state
 * @param extra          further string metadata (e.g. elapsed seconds); keys must not clash with the reserved ones
 */
public record Checkpoint(long step, long seed, String specHash, String backend,
                         Map<String, TensorData> params, Map<String, TensorData> optimizerState,
                         Map<String, TensorData> objectiveState, Map<String, String> extra) {
    /** The file format identifier stored under {@code format}. */
    public static final String FORMAT = "metaforge-checkpoint";
    /** The version of this layout, stored under {@code format_version}. */
    public static final int FORMAT_VERSION = 1;

    static final String PARAMS = "params/";
    static final String OPTIMIZER = "optimizer/";
    static final String OBJECTIVE = "objective/";
    /** The metadata key of the SHA-256 (hex) of the data section, written with every checkpoint and verified on load. */
    public static final String DATA_SHA256 = "data_sha256";

    private static final java.util.Set<String> RESERVED = java.util.Set.of("format", "format_version", "step", "seed", "spec_hash",
            "backend", DATA_SHA256);

    public Checkpoint {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
        requireNonNull(specHash, "specHash is null");
        requireNonNull(backend, "backend is null");
        params = copy(params, "params");
        optimizerState = copy(optimizerState, "optimizerState");
        objectiveState = copy(objectiveState, "objectiveState");
        extra = copy(extra, "extra");
        for (String key : extra.keySet()) {
            if (RESERVED.contains(key)) {
                throw new IllegalArgumentException("extra metadata key '" + key + "' is reserved; reserved: " + RESERVED);
            }
        }
    }

    private static <V> Map<String, V> copy(Map<String, V> map, String what) {
        return Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(map, what + " is null")));
    }

    /** Writes the checkpoint to {@code file} atomically. */
    public void save(Path file) throws IOException {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        params.forEach((n, t) -> tensors.put(PARAMS + n, t));
        optimizerState.forEach((n, t) -> tensors.put(OPTIMIZER + n, t));
        objectiveState.forEach((n, t) -> tensors.put(OBJECTIVE + n, t));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", FORMAT);
        metadata.put("format_version", Integer.toString(FORMAT_VERSION));
        metadata.put("step", Long.toString(step));
        metadata.put("seed", Long.toString(seed));
        metadata.put("spec_hash", specHash);
        metadata.put("backend", backend);
        metadata.putAll(extra);
        metadata.put(DATA_SHA256, Safetensors.dataSha256(tensors));
        Safetensors.write(file, tensors, metadata);
    }

    /**
     * Reads a checkpoint written by {@link #save}, checking its format, its metadata and the SHA-256
     * of its data section; a checkpoint without a hash (written before hashes were) loads with a
     * warning logged.
     *
     * @throws SafetensorsFormatException naming the file when anything is wrong, including a data
     *         section whose hash does not match (a corrupted file)
     */
    public static Checkpoint load(Path file) throws IOException {
        return load(file, warning -> System.getLogger(Checkpoint.class.getName()).log(System.Logger.Level.WARNING, warning));
    }

    /**
     * {@link #load(Path)}, handing warnings (a checkpoint without a content hash) to {@code warnings}.
     */
    public static Checkpoint load(Path file, Consumer<String> warnings) throws IOException {
        requireNonNull(file, "file is null");
        requireNonNull(warnings, "warnings is null");
        SafetensorsFile content = Safetensors.read(file);
        Map<String, String> metadata = content.metadata();
        String expectedHash = metadata.get(DATA_SHA256);
        if (expectedHash == null) {
            warnings.accept("checkpoint " + file + " has no content hash (written by an older Metaforge): it is loaded unverified");
        } else if (!expectedHash.equalsIgnoreCase(content.dataSha256())) {
            throw new SafetensorsFormatException(file, "the data section does not match its SHA-256: the metadata says "
                    + abbreviate(expectedHash) + " but the data hashes to " + abbreviate(content.dataSha256())
                    + "; the file is corrupted (a changed or truncated byte): restore it from a copy or train again");
        }
        if (!FORMAT.equals(metadata.get("format"))) {
            throw new SafetensorsFormatException(file, "not a Metaforge checkpoint: metadata 'format' is "
                    + (metadata.containsKey("format") ? "'" + metadata.get("format") + "'" : "missing") + ", expected '" + FORMAT + "'");
        }
        String version = metadata.get("format_version");
        if (!Integer.toString(FORMAT_VERSION).equals(version)) {
            throw new SafetensorsFormatException(file, "checkpoint format version " + version + " is not supported; this Metaforge reads version "
                    + FORMAT_VERSION);
        }
        long step = parseLong(file, metadata, "step");
        long seed = parseLong(file, metadata, "seed");
        String hash = required(file, metadata, "spec_hash");
        String backend = required(file, metadata, "backend");
        Map<String, TensorData> params = new LinkedHashMap<>();
        Map<String, TensorData> optimizer = new LinkedHashMap<>();
        Map<String, TensorData> objective = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : content.tensors().entrySet()) {
            String name = e.getKey();
            if (name.startsWith(PARAMS)) {
                params.put(name.substring(PARAMS.length()), e.getValue());
            } else if (name.startsWith(OPTIMIZER)) {
                optimizer.put(name.substring(OPTIMIZER.length()), e.getValue());
            } else if (name.startsWith(OBJECTIVE)) {
                objective.put(name.substring(OBJECTIVE.length()), e.getValue());
            } else {
                throw new SafetensorsFormatException(file, "tensor '" + name + "' is under none of the checkpoint sections "
                        + PARAMS + ", " + OPTIMIZER + ", " + OBJECTIVE);
            }
        }
        Map<String, String> extra = new LinkedHashMap<>(metadata);
        extra.keySet().removeAll(RESERVED);
        try {
            return new Checkpoint(step, seed, hash, backend, params, optimizer, objective, extra);
        } catch (IllegalArgumentException e) {
            throw new SafetensorsFormatException(file, "invalid checkpoint metadata: " + e.getMessage(), e);
        }
    }

    private static String abbreviate(String hash) {
        return hash.length() > 16 ? hash.substring(0, 16) + "..." : hash;
    }

    private static String required(Path file, Map<String, String> metadata, String key) throws SafetensorsFormatException {
        String value = metadata.get(key);
        if (value == null) {
            throw new SafetensorsFormatException(file, "checkpoint metadata lacks '" + key + "'");
        }
        return value;
    }

    private static long parseLong(Path file, Map<String, String> metadata, String key) throws SafetensorsFormatException {
        String value = required(file, metadata, key);
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new SafetensorsFormatException(file, "checkpoint metadata '" + key + "' is '" + value + "', not an integer", e);
        }
    }
}
