package dev.metaforge.plugins.hyper.ghn;

import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.plugins.hyper.GradientCheck;
import dev.metaforge.spi.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Encoder + LoGAH decoder gradient against central finite differences (float64, reference backend). */
class GhnGradientTest {
    @Test
    void encoderAndDecoderGradientsMatchFiniteDifferences() {
        Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        GraphEncoder enc = new GraphEncoder(4, 2);
        LowRankDecoder dec = new LowRankDecoder(new DecoderSize(4, 5, 6, 6, 3), 2);
        ComputationGraph g = ComputationGraph.of(Sequential.of(Conv2d.of(1, 6, 3),
                new Residual(Sequential.of(BatchNorm.of(6), Conv2d.of(6, 6, 3)))));
        Params p = enc.init(engine, RandomStream.of(5)).merge(dec.mlp().init(engine, RandomStream.of(6)).prefixed("dec"));
        GradientCheck.check(engine, p, q -> {
            List<Tensor> h = enc.encode(engine, q, g);
            Tensor loss = null;
            for (int i = 0; i < h.size(); i++) {
                int[] w = g.nodes().get(i).params().get("weight");
                if (w == null || w.length != 4) {
                    continue;
                }
                Tensor t = dec.decode(q.scoped("dec"), h.get(i), w[0], w[1], w[2]).tanh().sum();
                loss = loss == null ? t : loss.add(t);
            }
            return loss;
        }, 1e-5, 6, 7);
    }
}
