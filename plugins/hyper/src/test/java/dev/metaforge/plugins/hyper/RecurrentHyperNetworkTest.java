package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The recurrent hypernetwork generates parameter l conditioned on parameters before it, never after. */
class RecurrentHyperNetworkTest {
    private Engine engine;
    private Scope scope;

    @BeforeEach
    void open() {
        engine = HyperFixtures.engine();
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void laterParametersDependOnEarlierStepsAndNotTheReverse() {
        HyperTarget target = HyperTarget.of(Mlp.of(List.of(3, 4, 2), Activation.RELU));
        RecurrentHyperNetwork hyper = new RecurrentHyperNetwork(target.generated(), 2, 6, 3,
                Initializer.kaimingNormal(Initializer.FanMode.FAN_OUT));
        Params h = hyper.init(engine, RandomStream.of(1)).requiringGrad();
        Params g = hyper.generate(h, HyperFixtures.uniform(engine, 2, 2, 2));
        assertEquals(Shape.of(2, 3, 4), g.get("0.weight").shape());
        assertEquals(Shape.of(2, 2), g.get("1.bias").shape());
        // Parameter 3 ("1.bias") depends on the step embedding of parameter 0 ("0.weight") through the state...
        Tensor later = Grad.of(g.get("1.bias").sum()).wrt(h.get("layers"));
        double[] rows = later.toDoubles();
        double first = 0;
        for (int j = 0; j < 3; j++) {
            first += Math.abs(rows[j]);
        }
        assertTrue(first > 1e-6, "the last parameter must depend on the first step: " + first);
        // ...but parameter 0 does not depend on the embeddings of the steps after it (causal order).
        double[] earlier = Grad.of(g.get("0.weight").sum()).wrt(h.get("layers")).toDoubles();
        for (int i = 3; i < earlier.length; i++) {
            assertEquals(0.0, earlier[i], 0.0, "0.weight must not depend on later step embeddings (entry " + i + ")");
        }
    }
}
