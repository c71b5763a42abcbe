package dev.metaforge.plugins.hyper.ghn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Initializer;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.hyper.GradientCheck;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import org.junit.jupiter.api.Test;

class GraphHyperNetworkTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
    private final GraphHyperNetwork ghn = new GraphHyperNetwork(new GraphEncoder(4, 1),
            new LowRankDecoder(new DecoderSize(4, 5, 4, 4, 3), 2), 4);
    private final Module cnn = Sequential.of(Conv2d.of(1, 4, 3), Activation.RELU,
            new Residual(Sequential.of(BatchNorm.of(4), new Conv2d(4, 4, 3, 3,
                    new Conv2dOptions(new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, 1), true, Initializer.torchDefault()))));

    @Test
    void predictedParametersRunTheTargetAndTheLossGradientReachesTheGhn() {
        Params h = ghn.init(engine, RandomStream.of(1));
        double[] img = new double[2 * 1 * 5 * 5];
        for (int i = 0; i < img.length; i++) {
            img[i] = Math.sin(0.7 * i);
        }
        Tensor x = engine.tensor(img, 2, 1, 5, 5);
        Params p = ghn.predict(engine, h, cnn, RandomStream.of(2));
        assertArrayEquals(new int[] {4, 1, 3, 3}, p.get(cnn.parameters().get(0).name()).shape().dims());
        // Gradient of the target's output through the predicted weights into every GHN tensor.
        GradientCheck.check(engine, h, q -> cnn.apply(ghn.predict(engine, q, cnn, RandomStream.of(2)), x).tanh().sum(),
                1e-5, 5, 3);
    }
}
