package dev.metaforge.plugins.hyper.ghn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.BatchNorm;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Flatten;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.Residual;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class GraphEncoderTest {
    private final Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);

    @Test
    void everyWeightedNodeOfSeveralArchitecturesDecodesToItsShape() {
        GraphEncoder enc = new GraphEncoder(6, 2);
        Params pe = enc.init(engine, RandomStream.of(1));
        LowRankDecoder dec = new LowRankDecoder(new DecoderSize(6, 8, 16, 16, 3), 2);
        Params pd = dec.mlp().init(engine, RandomStream.of(2));
        List<Module> archs = List.of(
                Sequential.of(Conv2d.of(1, 8, 3), Activation.RELU, Flatten.of(), Linear.of(16, 10)),
                Sequential.of(Conv2d.of(1, 16, 3), new Residual(Sequential.of(BatchNorm.of(16), Conv2d.of(16, 16, 3))),
                        Activation.RELU),
                Sequential.of(Conv2d.of(1, 4, 1), Conv2d.of(4, 12, 3)));
        int checked = 0;
        for (Module arch : archs) {
            ComputationGraph g = ComputationGraph.of(arch);
            List<Tensor> h = enc.encode(engine, pe, g);
            assertEquals(g.nodes().size(), h.size());
            for (int i = 0; i < h.size(); i++) {
                int[] w = g.nodes().get(i).params().get("weight");
                if (w == null || w.length < 2) {
                    continue;
                }
                Tensor out = dec.decode(pd, h.get(i), w[0], w[1], w.length == 4 ? w[2] : 1).reshape(w);
                assertArrayEquals(w, out.shape().dims());
                checked++;
            }
        }
        assertEquals(6, checked);
    }

    @Test
    void theResidualSkipChangesTheEmbedding() {
        GraphEncoder enc = new GraphEncoder(4, 1);
        Params pe = enc.init(engine, RandomStream.of(3));
        Module plain = Sequential.of(Linear.of(3, 3), Sequential.of(Linear.of(3, 3)), Linear.of(3, 2));
        Module skip = Sequential.of(Linear.of(3, 3), new Residual(Linear.of(3, 3)), Linear.of(3, 2));
        List<Tensor> a = enc.encode(engine, pe, ComputationGraph.of(plain));
        List<Tensor> b = enc.encode(engine, pe, ComputationGraph.of(skip));
        assertFalse(Arrays.equals(a.get(a.size() - 1).toDoubles(), b.get(b.size() - 1).toDoubles()));
    }
}
