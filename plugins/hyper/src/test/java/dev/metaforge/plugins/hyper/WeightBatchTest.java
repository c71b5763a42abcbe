package dev.metaforge.plugins.hyper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metaforge.api.hyper.HyperNetwork;
import dev.metaforge.api.hyper.HyperTarget;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Weight batches, for every hypernetwork: B networks generated and applied in one call equal B
 * separate unbatched calls (float64, reference backend; the independent reference is the
 * unbatched path), and a batch of one equals the unbatched call exactly.
 */
class WeightBatchTest {
    private static final int B = 4;
    private static final int N = 5;

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

    static java.util.List<HyperFixtures.Kind> kinds() {
        return HyperFixtures.kinds();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void batchOfNetworksInOneCallEqualsSingleCalls(HyperFixtures.Kind kind) {
        HyperTarget target = HyperFixtures.smallTarget();
        HyperNetwork hyper = kind.build().apply(target);
        Params h = hyper.init(engine, RandomStream.of(1));
        Params ordinary = target.initOrdinary(engine, RandomStream.of(2));
        Tensor contexts = HyperFixtures.context(engine, hyper, B, 3);
        Tensor x = HyperFixtures.uniform(engine, 4, B, N, 2);
        Tensor shared = HyperFixtures.uniform(engine, 5, N, 2);

        Params generated = hyper.generate(h, contexts);
        assertEquals(B, target.weightBatch(generated));
        Tensor perNetwork = target.apply(generated, ordinary, x);
        Tensor sharedInput = target.apply(generated, ordinary, shared);
        assertEquals(Shape.of(B, N, 3), perNetwork.shape());
        assertEquals(Shape.of(B, N, 3), sharedInput.shape());

        for (int b = 0; b < B; b++) {
            Tensor oneContext = contexts.slice(0, b, b + 1).reshape(hyper.contextShape());
            Params single = hyper.generate(h, oneContext);
            assertEquals(0, target.weightBatch(single));
            for (String name : single.names()) {
                assertArrayEquals(single.get(name).toDoubles(), generated.get(name).slice(0, b, b + 1).toDoubles(), 1e-12,
                        kind + ": generated '" + name + "' of network " + b);
            }
            Tensor xb = x.slice(0, b, b + 1).reshape(N, 2);
            assertArrayEquals(target.apply(single, ordinary, xb).toDoubles(), perNetwork.slice(0, b, b + 1).toDoubles(), 1e-12,
                    kind + ": output of network " + b + " on its own inputs");
            assertArrayEquals(target.apply(single, ordinary, shared).toDoubles(), sharedInput.slice(0, b, b + 1).toDoubles(), 1e-12,
                    kind + ": output of network " + b + " on shared inputs");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void batchOfOneEqualsUnbatchedExactly(HyperFixtures.Kind kind) {
        HyperTarget target = HyperFixtures.smallTarget();
        HyperNetwork hyper = kind.build().apply(target);
        Params h = hyper.init(engine, RandomStream.of(11));
        Params ordinary = target.initOrdinary(engine, RandomStream.of(12));
        Tensor one = HyperFixtures.context(engine, hyper, 1, 13);
        Tensor unbatchedContext = one.reshape(hyper.contextShape());
        Tensor x = HyperFixtures.uniform(engine, 14, N, 2);

        Params batched = hyper.generate(h, one);
        Params unbatched = hyper.generate(h, unbatchedContext);
        assertEquals(1, target.weightBatch(batched));
        for (String name : unbatched.names()) {
            assertArrayEquals(unbatched.get(name).toDoubles(), batched.get(name).toDoubles(), 0.0, kind + ": '" + name + "'");
        }
        Tensor yBatched = target.apply(batched, ordinary, x);
        Tensor yUnbatched = target.apply(unbatched, ordinary, x);
        assertEquals(Shape.of(1, N, 3), yBatched.shape());
        assertArrayEquals(yUnbatched.toDoubles(), yBatched.toDoubles(), 0.0, kind + ": B = 1 output must equal the unbatched output exactly");
    }
}
