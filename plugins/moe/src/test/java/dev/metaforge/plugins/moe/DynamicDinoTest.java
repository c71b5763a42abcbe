package dev.metaforge.plugins.moe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.ModuleCall;
import dev.metaforge.api.nn.ModuleOutput;
import dev.metaforge.api.nn.ModuleSpec;
import dev.metaforge.api.optim.Adam;
import dev.metaforge.api.optim.Optimizer;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.spec.SpecException;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Dynamic-DINO's defining property: the fine-grained MoE split of a dense FFN computes that FFN exactly at initialisation. */
class DynamicDinoTest {
    @Test
    void theSplitComputesTheDenseFfnExactly() {
        Engine engine = MoeFixtures.engine();
        for (int[] gr : new int[][] {{1, 1}, {2, 1}, {4, 1}, {4, 3}, {8, 2}, {3, 2}}) {
            try (Scope s = Scope.open()) {
                Mlp dense = Mlp.of(List.of(10, 24, 7), Activation.RELU);
                Params trained = dense.init(engine, RandomStream.of(gr[0] * 10 + gr[1]));
                DynamicDino split = DynamicDino.of(dense, gr[0], gr[1], 0.01);
                Params moeParams = split.split(trained);
                Tensor x = MoeFixtures.randomTokens(engine, 33, 10, 5);
                double[] expected = dense.apply(trained, x).toDoubles();
                double tolerance = Integer.bitCount(gr[0]) == 1 ? 1e-13 : 1e-12;
                double diff = MoeFixtures.maxAbsDiff(expected, split.apply(moeParams, x).toDoubles());
                assertTrue(diff < tolerance, "G=" + gr[0] + " R=" + gr[1] + ": max |moe - dense| = " + diff);
                ModuleOutput train = split.forward(moeParams, x, ModuleCall.train(Params.empty(), RandomStream.of(1)));
                assertTrue(MoeFixtures.maxAbsDiff(expected, train.output().toDoubles()) < tolerance, "also in train mode");
                assertEquals(gr[0] * gr[1], split.moe().experts());
            }
        }
    }

    @Test
    void initIsTheSplitOfAFreshDenseInit() {
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Mlp dense = Mlp.of(List.of(6, 8, 6), Activation.TANH);
            DynamicDino split = DynamicDino.of(dense, 4, 2, 0.01);
            Params p = split.init(engine, RandomStream.of(3));
            Tensor x = MoeFixtures.randomTokens(engine, 9, 6, 1);
            double diff = MoeFixtures.maxAbsDiff(dense.apply(dense.init(engine, RandomStream.of(3)), x).toDoubles(),
                    split.apply(p, x).toDoubles());
            assertTrue(diff < 1e-13, "max |moe - dense| = " + diff);
        }
    }

    @Test
    void trainingMovesTheCopiesApartAndTheRouterLearns() {
        // A check that can fail: after Adam steps on a regression target the MoE is no longer the dense FFN.
        Engine engine = MoeFixtures.engine();
        try (Scope s = Scope.open()) {
            Mlp dense = Mlp.of(List.of(4, 8, 4), Activation.RELU);
            DynamicDino split = DynamicDino.of(dense, 2, 2, 0.01);
            Params denseParams = dense.init(engine, RandomStream.of(1));
            Params p = split.split(denseParams);
            Tensor x = MoeFixtures.randomTokens(engine, 16, 4, 2);
            Tensor target = MoeFixtures.randomTokens(engine, 16, 4, 3);
            Optimizer adam = Adam.adam(0.01);
            for (int i = 0; i < 5; i++) {
                Params tracked = p.requiringGrad();
                ModuleOutput out = split.forward(tracked, x, ModuleCall.train(Params.empty(), RandomStream.of(i)));
                Tensor loss = out.output().sub(target).square().mean().add(out.auxLoss());
                p = adam.step(p, Grad.of(loss).wrt(tracked));
            }
            adam.close();
            assertTrue(p.get("router.weight").abs().max(new int[0], false).item() > 0, "the router moved off zero");
            double diff = MoeFixtures.maxAbsDiff(dense.apply(denseParams, x).toDoubles(), split.apply(p, x).toDoubles());
            assertTrue(diff > 1e-4, "the layer changed: " + diff);
        }
    }

    @Test
    void theSplitHoldsInFloat32ToFloatTolerance() {
        Engine engine = MoeFixtures.engine().withDefaultDType(DType.FLOAT32);
        try (Scope s = Scope.open()) {
            Mlp dense = Mlp.of(List.of(16, 64, 16), Activation.RELU);
            DynamicDino split = DynamicDino.of(dense, 8, 2, 0.01);
            Params trained = dense.init(engine, RandomStream.of(4));
            Tensor x = engine.uniform(dev.metaforge.spi.Shape.of(40, 16), -1, 1, 2);
            double diff = MoeFixtures.maxAbsDiff(dense.apply(trained, x).toDoubles(), split.apply(split.split(trained), x).toDoubles());
            assertTrue(diff < 1e-5, "max |moe - dense| = " + diff);
        }
    }

    @Test
    void theSpecRejectsPiecesThatDoNotDivideTheHiddenWidth() {
        SpecRegistry specs = SpecRegistry.load(getClass().getClassLoader());
        ModuleSpec ok = specs.read("{\"type\": \"dynamic-dino\", \"dense\": {\"type\": \"mlp\", \"sizes\": [8, 32, 8]}, \"pieces\": 4}",
                ModuleSpec.class, "spec");
        assertEquals(8, ((DynamicDino) ok.build()).moe().experts());
        SpecException e = assertThrows(SpecException.class, () -> specs.read(
                "{\"type\": \"dynamic-dino\", \"dense\": {\"type\": \"mlp\", \"sizes\": [8, 30, 8]}, \"pieces\": 4}", ModuleSpec.class, "spec"));
        assertTrue(e.getMessage().contains("field 'pieces' (4) must divide the dense hidden width 30"), e.getMessage());
    }
}
