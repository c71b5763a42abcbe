package dev.metaforge.spark;

import dev.metaforge.api.checkpoint.Safetensors;
import dev.metaforge.api.checkpoint.SafetensorsFormatException;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameters and gradients on the wire: safetensors bytes (the checkpoint format, readable by
 * {@code safetensors.torch.load}), so what travels between driver and executors is exactly what
 * a checkpoint holds, in the tensors' own dtype.
 */
final class ParamBytes {
    private ParamBytes() {
    }

    /** Host copies of {@code params} as safetensors bytes. */
    static byte[] encode(Params params) {
        Map<String, TensorData> data = new LinkedHashMap<>();
        for (String name : params.names()) {
            data.put(name, TensorData.of(params.get(name)));
        }
        return Safetensors.toBytes(data, Map.of());
    }

    /** The tensors of safetensors bytes, in their stored order. */
    static Map<String, TensorData> decode(byte[] bytes, String what) {
        try {
            return Safetensors.fromBytes(bytes, what).tensors();
        } catch (SafetensorsFormatException e) {
            throw new UncheckedIOException("corrupted " + what + ": " + e.getMessage(), e);
        }
    }

    /** Tensors of the current scope on {@code engine}. */
    static Params toParams(Map<String, TensorData> data, Engine engine) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        data.forEach((name, d) -> out.put(name, d.toTensor(engine)));
        return Params.of(out);
    }

    /**
     * The sum of several gradients with the same names and shapes, in list order, accumulated in
     * float64 and rounded once to each entry's dtype: the result does not depend on which shard
     * finished first.
     */
    static Map<String, TensorData> sum(List<Map<String, TensorData>> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("no gradients to sum");
        }
        Map<String, TensorData> first = parts.get(0);
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : first.entrySet()) {
            String name = e.getKey();
            TensorData reference = e.getValue();
            double[] acc = new double[reference.size()];
            for (Map<String, TensorData> part : parts) {
                TensorData d = part.get(name);
                if (d == null || !d.shape().equals(reference.shape()) || d.dtype() != reference.dtype()) {
                    throw new IllegalStateException("shard gradients disagree on '" + name + "': " + reference + " vs " + d);
                }
                double[] values = d.toDoubles();
                for (int i = 0; i < acc.length; i++) {
                    acc[i] += values[i];
                }
            }
            out.put(name, round(acc, reference));
        }
        if (parts.stream().anyMatch(p -> !p.keySet().equals(first.keySet()))) {
            throw new IllegalStateException("shard gradients have different parameter names: " + first.keySet());
        }
        return out;
    }

    private static TensorData round(double[] values, TensorData like) {
        if (like.dtype() == DType.FLOAT32) {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            return TensorData.ofFloats(f, like.shape());
        }
        if (like.dtype() == DType.FLOAT64) {
            return TensorData.ofDoubles(values, like.shape());
        }
        throw new IllegalStateException("gradients must be floating point, got " + like.dtype());
    }
}
