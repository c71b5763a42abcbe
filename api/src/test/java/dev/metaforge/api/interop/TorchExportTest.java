package dev.metaforge.api.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metaforge.api.checkpoint.TensorData;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Embedding;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamSpec;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The export plan on modules built in Java: names, refusals and checks against the checkpoint. */
class TorchExportTest {
    /** A third-party module the exporter has never heard of. */
    record Glu(int width) implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of();
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return input;
        }

        @Override
        public String kind() {
            return "glu";
        }
    }

    private static TensorData values(Shape shape, double start) {
        double[] v = new double[shape.sizeAsInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = start + i;
        }
        return TensorData.ofDoubles(v, shape);
    }

    @Test
    void embeddingKeepsItsLayoutAndBatchNormAfterAFlatRowIsOneDimensional() {
        Module model = Sequential.of(new Embedding(5, 3), Linear.of(3, 2), BatchNorm.of(2), Activation.SIN);
        TorchExport export = TorchExport.plan(model, null, "$.model", List.of());
        assertEquals(List.of("0.weight", "1.weight", "1.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var",
                "2.num_batches_tracked"), export.names());
        Map<String, TensorData> params = new LinkedHashMap<>();
        params.put("0.weight", values(Shape.of(5, 3), 0));
        params.put("1.weight", values(Shape.of(3, 2), 100));
        params.put("1.bias", values(Shape.of(2), 200));
        params.put("2.weight", values(Shape.of(2), 300));
        params.put("2.bias", values(Shape.of(2), 400));
        Map<String, TensorData> state = Map.of("2.running_mean", values(Shape.of(2), 500), "2.running_var", values(Shape.of(2), 600));
        Map<String, TensorData> dict = export.stateDict(params, state, 42);
        assertArrayEquals(params.get("0.weight").toDoubles(), dict.get("0.weight").toDoubles(), "nn.Embedding is [vocab, dim] too");
        // [[100, 101], [102, 103], [104, 105]] transposed
        assertArrayEquals(new double[] {100, 102, 104, 101, 103, 105}, dict.get("1.weight").toDoubles());
        assertEquals(42L, dict.get("2.num_batches_tracked").toLongs()[0]);
        String python = export.modelPy("test", List.of(), 0, 1, DType.FLOAT64);
        assertTrue(python.contains("nn.Embedding(5, 3)") && python.contains("nn.BatchNorm1d(2, eps=1.0E-5") && python.contains("Sin()"),
                python);
        assertTrue(python.contains("DTYPE = torch.float64") && python.contains("INPUT_SHAPE = []"), python);
    }

    @Test
    void refusesAnUnknownModuleByItsSpecTypeName() throws Exception {
        Module model = Sequential.of(Linear.of(2, 2), new Glu(2));
        var spec = new ObjectMapper().readTree("{\"type\": \"sequential\", \"layers\": [{\"type\": \"linear\"}, {\"type\": \"my-glu\"}]}");
        TorchExportException e = assertThrows(TorchExportException.class, () -> TorchExport.plan(model, spec, "$.experiment.model", List.of()));
        assertEquals("my-glu", e.typeName());
        assertEquals("$.experiment.model.layers[1]", e.jsonPath());
        assertTrue(e.getMessage().startsWith("module type 'my-glu' at $.experiment.model.layers[1] has no torch.nn equivalent"), e.getMessage());
        // without a spec, the module's own word names it
        TorchExportException bare = assertThrows(TorchExportException.class, () -> TorchExport.plan(new Glu(1), null, "$", List.of()));
        assertEquals("glu", bare.typeName());
    }

    @Test
    void aCheckpointThatDoesNotFitIsRefusedNamingTheEntry() {
        TorchExport export = TorchExport.plan(Linear.of(3, 2), null, "$", List.of());
        IllegalArgumentException wrongShape = assertThrows(IllegalArgumentException.class,
                () -> export.stateDict(Map.of("weight", values(Shape.of(2, 3), 0), "bias", values(Shape.of(2), 0)), Map.of(), 0));
        assertTrue(wrongShape.getMessage().contains("'weight' has shape [2, 3] but the model declares [3, 2]"), wrongShape.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> export.stateDict(Map.of("weight", values(Shape.of(4, 3, 2), 0), "bias", values(Shape.of(4, 2), 0)), Map.of(), 0));
        assertTrue(batch.getMessage().contains("a weight batch of networks does not export"), batch.getMessage());
        IllegalArgumentException extra = assertThrows(IllegalArgumentException.class, () -> export.stateDict(Map.of("weight",
                values(Shape.of(3, 2), 0), "bias", values(Shape.of(2), 0), "other", values(Shape.of(1), 0)), Map.of(), 0));
        assertTrue(extra.getMessage().contains("parameters [other] that the model does not declare"), extra.getMessage());

        TorchExport bn = TorchExport.plan(BatchNorm.of(2), null, "$", List.of());
        IllegalArgumentException noState = assertThrows(IllegalArgumentException.class,
                () -> bn.stateDict(Map.of("weight", values(Shape.of(2), 0), "bias", values(Shape.of(2), 0)), Map.of(), 0));
        assertTrue(noState.getMessage().contains("no 'running_mean'"), noState.getMessage());
    }
}
