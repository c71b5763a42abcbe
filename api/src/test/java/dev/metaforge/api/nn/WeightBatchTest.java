package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static dev.metaforge.api.nn.LayerChecks.randomParams;
import static dev.metaforge.api.nn.LayerChecks.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Weight batches: B networks in one call equal B single calls (each network with its own
 * parameters, on a shared input and on per-network inputs), and a batch of one equals the
 * unbatched call bit for bit. The networks get different parameters, and the test checks that
 * their outputs differ, so a layer that ran network 0 for all B could not pass.
 */
class WeightBatchTest {
    private final Engine engine = LayerChecks.engine();
    private static final int NETWORKS = 3;
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** A layer with one network's input and the per-network input of {@link #NETWORKS} networks. */
    record BatchCase(Module module, Function<Engine, Tensor> sharedInput, Function<Engine, Tensor> perNetworkInput) {
    }

    static Stream<Arguments> layers() {
        Conv2d grouped = new Conv2d(4, 6, 3, 3, new Conv2dOptions(new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, 2), true,
                Initializer.torchDefault());
        return Stream.of(
                Arguments.of("conv2d", new BatchCase(Conv2d.of(2, 3, 3).withPadding(1),
                        e -> random(e, 1, 2, 2, 5, 4), e -> random(e, 2, NETWORKS, 2, 2, 5, 4))),
                Arguments.of("conv2d with 2 groups, stride 2", new BatchCase(grouped,
                        e -> random(e, 3, 2, 4, 6, 5), e -> random(e, 4, NETWORKS, 2, 4, 6, 5))),
                Arguments.of("batchnorm [N, C]", new BatchCase(BatchNorm.of(3),
                        e -> random(e, 5, 4, 3), e -> random(e, 6, NETWORKS, 4, 3))),
                Arguments.of("batchnorm [N, C, H, W]", new BatchCase(BatchNorm.of(2),
                        e -> random(e, 7, 2, 2, 3, 3), e -> random(e, 8, NETWORKS, 2, 2, 3, 3))),
                Arguments.of("layernorm", new BatchCase(LayerNorm.of(4),
                        e -> random(e, 9, 5, 4), e -> random(e, 10, NETWORKS, 2, 3, 4))),
                Arguments.of("embedding", new BatchCase(new Embedding(6, 3),
                        e -> e.indices(new long[] {5, 0, 3, 3}, 4), e -> e.indices(new long[] {0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0}, NETWORKS, 2, 2))),
                Arguments.of("residual", new BatchCase(new Residual(Sequential.of(Linear.of(3, 5), Activation.TANH, Linear.of(5, 3))),
                        e -> random(e, 11, 4, 3), e -> random(e, 12, NETWORKS, 4, 3))),
                Arguments.of("attention", new BatchCase(new MultiHeadAttention(4, 2, false, true),
                        e -> random(e, 13, 2, 3, 4), e -> random(e, 14, NETWORKS, 2, 3, 4))),
                Arguments.of("causal attention", new BatchCase(new MultiHeadAttention(6, 3, true, true),
                        e -> random(e, 15, 2, 4, 6), e -> random(e, 16, NETWORKS, 2, 4, 6))),
                Arguments.of("transformer block", new BatchCase(new TransformerBlock(4, 2, 8, 0.1, true),
                        e -> random(e, 17, 2, 3, 4), e -> random(e, 18, NETWORKS, 2, 3, 4))));
    }

    private List<Params> networks(Module module) {
        List<Params> nets = new ArrayList<>();
        for (int b = 0; b < NETWORKS; b++) {
            nets.add(randomParams(engine, module, 1000 + 100L * b));
        }
        return nets;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void batchedCallEqualsSingleCalls(String name, BatchCase c) {
        Module m = c.module();
        List<Params> nets = networks(m);
        Params stacked = LayerChecks.stack(nets);
        assertEquals(NETWORKS, m.weightBatch(stacked));

        Tensor shared = c.sharedInput().apply(engine);
        Tensor batched = m.apply(stacked, shared);
        assertEquals(NETWORKS, batched.dim(0), "leading axis of the output " + batched.shape());
        for (int b = 0; b < NETWORKS; b++) {
            LayerChecks.assertClose(m.apply(nets.get(b), shared), slice(batched, b), 1e-12, name + ", shared input, network " + b);
        }
        assertTrue(LayerChecks.maxDifference(slice(batched, 0), slice(batched, 1)) > 1e-3,
                "networks 0 and 1 have different parameters but the same output");

        Tensor perNetwork = c.perNetworkInput().apply(engine);
        Tensor batchedPer = m.apply(stacked, perNetwork);
        for (int b = 0; b < NETWORKS; b++) {
            LayerChecks.assertClose(m.apply(nets.get(b), slice(perNetwork, b)), slice(batchedPer, b), 1e-12,
                    name + ", per-network input, network " + b);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void batchOfOneEqualsTheUnbatchedCallExactly(String name, BatchCase c) {
        Module m = c.module();
        Params single = networks(m).get(0);
        Params one = LayerChecks.stack(List.of(single));
        assertEquals(1, m.weightBatch(one));
        Tensor shared = c.sharedInput().apply(engine);
        LayerChecks.assertIdentical(m.apply(single, shared).expandDims(0), m.apply(one, shared), name + ", shared input");
        Tensor own = slice(c.perNetworkInput().apply(engine), 1);
        LayerChecks.assertIdentical(m.apply(single, own).expandDims(0), m.apply(one, own.expandDims(0)), name + ", per-network input");
    }

    /** Parameter-free layers treat the weight-batch axis like any leading axis: each network's slice is its own call. */
    @Test
    void parameterFreeLayersMapEachNetworksSliceAlone() {
        Tensor x = random(engine, 20, NETWORKS, 2, 3, 5, 6);
        List<Module> layers = List.of(MaxPool2d.of(2), MaxPool2d.of(3, 2, 1), AvgPool2d.of(2), AvgPool2d.of(3, 2, 1),
                new Flatten(-3, -1), new Dropout(0.5));
        for (Module m : layers) {
            Tensor y = m.apply(Params.empty(), x);
            for (int b = 0; b < NETWORKS; b++) {
                LayerChecks.assertClose(m.apply(Params.empty(), slice(x, b)), slice(y, b), 0, m + ", network " + b);
            }
        }
        // [B, N, C, H, W] = [3, 2, 3, 5, 6]: everything after the weight-batch and sample axes merges into 3 * 5 * 6.
        assertEquals(Shape.of(NETWORKS, 2, 90), Flatten.afterWeightBatch().apply(Params.empty(), x).shape());
    }
}
