package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code Adam.stepInPlace} (what {@code TrainingLoop} calls) on the backends that write donated
 * parameters in place: the same bits as {@code Adam.step} over several steps, the same tensors
 * handed back, and no write into memory the caller did not hand over (a tracked view's owner) or
 * that another parameter reads (one tensor under two names). Expected values: {@code Adam.step}
 * on copies, which allocates new parameters and is checked against float64 Java by TCK rules
 * FUSED-ADAM-1/2.
 */
class DonatedAdamStepTest {
    private static final List<Shape> SHAPES = List.of(Shape.of(16, 9), Shape.of(33), Shape.scalar());

    @ParameterizedTest
    @ValueSource(strings = {"djl", "dl4j"})
    void stepInPlaceEqualsStepBitForBitAndHandsBackTheSameTensors(String backend) {
        try (Engine engine = Engine.create(backend)) {
            Params plainParams = params(engine, 1);
            Params donatedParams = params(engine, 1);
            Adam plain = Adam.adamW(1e-2, 0.01);
            Adam donating = Adam.adamW(1e-2, 0.01);
            for (int step = 0; step < 4; step++) {
                Params g1 = params(engine, 100 + step);
                Params g2 = params(engine, 100 + step);
                Params next = plain.step(plainParams, g1);
                plainParams.close();
                plainParams = next;
                Map<String, Tensor> before = new LinkedHashMap<>(donatedParams.asMap());
                donatedParams = donating.stepInPlace(donatedParams, g2);
                for (String name : plainParams.names()) {
                    assertSame(before.get(name), donatedParams.get(name), backend + " writes " + name + " in place");
                    assertArrayEquals(plainParams.get(name).toDoubles(), donatedParams.get(name).toDoubles(), name + " step " + step);
                }
                g1.close();
                g2.close();
            }
            for (String name : plain.state().names()) {
                assertArrayEquals(plain.state().get(name).toDoubles(), donating.state().get(name).toDoubles(), name);
            }
            plainParams.close();
            donatedParams.close();
            plain.close();
            donating.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"djl", "dl4j"})
    void memoryNotHandedOverOrReadTwiceIsNotOverwritten(String backend) {
        try (Engine engine = Engine.create(backend); Scope scope = Scope.open()) {
            // a tracked view: its memory belongs to base, which the caller still reads
            Tensor base = engine.normal(Shape.of(5, 4), 0, 1, 7);
            double[] baseBefore = base.toDoubles();
            Tensor view = base.requiresGrad();
            assertFalse(view.ownsArray(), "a tracked copy is a view of its tensor's array");
            Params viewParams = Params.of(Map.of("w", view));
            Params grads = Params.of(Map.of("w", engine.normal(Shape.of(5, 4), 0, 1, 8)));
            Adam adam = Adam.adam(0.1);
            Params next = adam.stepInPlace(viewParams, grads);
            adam.close();
            assertArrayEquals(baseBefore, base.toDoubles(), "the view's owner keeps its values");
            assertNotSame(view, next.get("w"));
            assertTrue(next.get("w").ownsArray());

            // one tensor under two names, with different gradients: both updates start from its old values
            Tensor shared = engine.normal(Shape.of(6), 0, 1, 9);
            Tensor copy = shared.mul(1.0);
            Map<String, Tensor> twice = new LinkedHashMap<>();
            twice.put("x", shared);
            twice.put("y", shared);
            Map<String, Tensor> copies = new LinkedHashMap<>();
            copies.put("x", copy);
            copies.put("y", copy);
            Map<String, Tensor> g = new LinkedHashMap<>();
            g.put("x", engine.normal(Shape.of(6), 0, 1, 10));
            g.put("y", engine.normal(Shape.of(6), 0, 1, 11));
            Adam a = Adam.adam(0.1);
            Adam b = Adam.adam(0.1);
            Params expected = a.step(Params.of(copies), Params.of(g));
            Params actual = b.stepInPlace(Params.of(twice), Params.of(g));
            a.close();
            b.close();
            assertArrayEquals(expected.get("x").toDoubles(), actual.get("x").toDoubles());
            assertArrayEquals(expected.get("y").toDoubles(), actual.get("y").toDoubles());
            assertNotSame(actual.get("x"), actual.get("y"));
            expected.close();
            actual.close();
            next.close();
        }
    }

    private static Params params(Engine engine, long seed) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < SHAPES.size(); i++) {
            out.put("p" + i, engine.normal(SHAPES.get(i), 0, 1, seed * 31 + i));
        }
        return Params.of(out);
    }
}
