package com.example.glu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import org.junit.jupiter.api.Test;

/**
 * The glu layer against its closed form, computed here in float64 Java, on the float64 reference backend the
 * conformance kit brings; and its spec errors.
 */
class GluTest {
    private static final int IN = 3;
    private static final int OUT = 4;
    private static final int ROWS = 5;

    @Test
    void forwardIsTheLinearPathTimesTheSigmoidGate() {
        try (Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64)) {
            Glu glu = new Glu(IN, OUT);
            Params params = glu.init(engine, RandomStream.of(7));
            double[] x = new double[ROWS * IN];
            for (int i = 0; i < x.length; i++) {
                x[i] = Math.sin(1.7 * i) * 2;
            }
            double[] actual = glu.apply(params, engine.tensor(x, ROWS, IN)).toDoubles();
            double[] expected = closedForm(x, params);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-12, "output " + i);
            }
        }
    }

    @Test
    void aClosedGateSilencesTheUnit() {
        try (Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64)) {
            Glu glu = new Glu(IN, OUT);
            Params params = glu.init(engine, RandomStream.of(7));
            double[] closed = new double[OUT];
            java.util.Arrays.fill(closed, -60);
            params = params.with("gate.bias", engine.tensor(closed, OUT));
            double[] x = {1, -2, 0.5};
            Tensor y = glu.apply(params, engine.tensor(x, 1, IN));
            for (double v : y.toDoubles()) {
                assertTrue(Math.abs(v) < 1e-20, "a gate of sigmoid(-60) lets through " + v);
            }
        }
    }

    @Test
    void specErrorsNameThePathAndTheField() {
        SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
        ModuleSpec ok = specs.read("{\"type\": \"glu\", \"in\": 2, \"out\": 3}", ModuleSpec.class, "layer.json");
        assertEquals(new GluSpec(2, 3), ok);
        SpecException missing = assertThrows(SpecException.class,
                () -> specs.read("{\"type\": \"glu\", \"in\": 2}", ModuleSpec.class, "layer.json"));
        assertTrue(missing.getMessage().contains("layer.json") && missing.getMessage().contains("'out' is required"),
                missing.getMessage());
        SpecException zero = assertThrows(SpecException.class,
                () -> specs.read("{\"type\": \"glu\", \"in\": 0, \"out\": 3}", ModuleSpec.class, "layer.json"));
        assertTrue(zero.getMessage().contains("$.in"), zero.getMessage());
    }

    /** h = (x W + b) * sigmoid(x V + c), in float64 from the parameters' values. */
    private static double[] closedForm(double[] x, Params params) {
        double[] w = params.get("value.weight").toDoubles();
        double[] b = params.get("value.bias").toDoubles();
        double[] v = params.get("gate.weight").toDoubles();
        double[] c = params.get("gate.bias").toDoubles();
        double[] h = new double[ROWS * OUT];
        for (int n = 0; n < ROWS; n++) {
            for (int o = 0; o < OUT; o++) {
                double value = b[o];
                double gate = c[o];
                for (int i = 0; i < IN; i++) {
                    value += x[n * IN + i] * w[i * OUT + o];
                    gate += x[n * IN + i] * v[i * OUT + o];
                }
                h[n * OUT + o] = value / (1 + Math.exp(-gate));
            }
        }
        return h;
    }
}
