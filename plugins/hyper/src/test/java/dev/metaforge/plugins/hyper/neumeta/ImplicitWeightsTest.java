package dev.metaforge.plugins.hyper.neumeta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.hyper.GradientCheck;
import dev.metaforge.spi.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The coordinate network: widths, encoding, gradient (reference backend, float64). */
class ImplicitWeightsTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final ImplicitWeights implicit = new ImplicitWeights(2, List.of(8));

    @Test
    void oneCoordinateNetworkSamplesTargetsOfAnyWidth() {
        try (Scope s = Scope.open()) {
            Params c = implicit.coordinateNetwork().init(engine, RandomStream.of(1));
            for (int width : List.of(3, 5, 9)) {
                List<Integer> sizes = List.of(2, width, 3);
                Params p = implicit.sample(engine, c, sizes);
                Tensor y = Mlp.of(sizes, Activation.RELU).apply(p, engine.tensor(new double[] {0.1, -0.2, 0.3, 0.4}, 2, 2));
                assertArrayEquals(new int[] {2, 3}, y.shape().dims(), "width " + width);
            }
        }
    }

    @Test
    void encodingIsNormalisedSoTheLastNeuronOfAnyWidthHasCoordinateOne() {
        int w = implicit.encodedWidth();
        for (int width : List.of(4, 7)) {
            double[] enc = implicit.encodeLayer(List.of(2, width, 3), 0);
            // row of weight (input 0, output width-1): layer coordinate 0, input 0, output 1.
            int row = width - 1;
            assertEquals(0.0, enc[row * w], 0);
            assertEquals(0.0, enc[row * w + 5], 0);
            assertEquals(1.0, enc[row * w + 10], 0);
            assertEquals(Math.sin(Math.PI * 2), enc[row * w + 13], 1e-15);
        }
    }

    @Test
    void gradientOfASampledNetworksLossMatchesFiniteDifferences() {
        try (Scope s = Scope.open()) {
            Params c = implicit.coordinateNetwork().init(engine, RandomStream.of(2));
            List<Integer> sizes = List.of(2, 4, 2);
            Tensor x = engine.tensor(new double[] {0.3, -0.7, 0.5, 0.2, -0.1, 0.9}, 3, 2);
            Tensor y = engine.tensor(new double[] {0.1, 0.2, -0.3, 0.4, 0.0, -0.5}, 3, 2);
            double worst = GradientCheck.check(engine, c, p -> Mlp.of(sizes, Activation.TANH)
                    .apply(implicit.sample(engine, p, sizes), x).sub(y).square().mean(), 1e-6, 30, 3);
            assertTrue(worst < 1e-6, "worst difference " + worst);
        }
    }
}
