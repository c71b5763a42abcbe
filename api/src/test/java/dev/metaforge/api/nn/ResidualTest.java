package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static dev.metaforge.api.nn.LayerChecks.randomParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ResidualTest {
    private final Engine engine = LayerChecks.engine();
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** A parameter-free module that reports an auxiliary loss (the mean square of its input) and a metric. */
    private record Penalised() implements Module {
        @Override
        public List<ParamSpec> parameters() {
            return List.of();
        }

        @Override
        public Tensor apply(Params params, Tensor input) {
            return input;
        }

        @Override
        public ModuleOutput forward(Params params, Tensor input, ModuleCall call) {
            return ModuleOutput.of(input, call.state()).withLoss("penalty", input.square().mean()).withMetric("size",
                    input.engine().scalar(input.size()));
        }
    }

    @Test
    void addsTheBranchToItsInput() {
        Linear linear = Linear.of(3, 3);
        Residual residual = new Residual(linear);
        assertEquals(List.of("inner.weight", "inner.bias"), residual.parameters().stream().map(ParamSpec::name).toList());
        Params p = randomParams(engine, residual, 1);
        Tensor x = random(engine, 2, 4, 3);
        double[] xs = x.toDoubles();
        double[] w = p.get("inner.weight").toDoubles();
        double[] b = p.get("inner.bias").toDoubles();
        double[] expected = new double[12];
        for (int n = 0; n < 4; n++) {
            for (int j = 0; j < 3; j++) {
                double v = xs[n * 3 + j] + b[j];
                for (int i = 0; i < 3; i++) {
                    v += xs[n * 3 + i] * w[i * 3 + j];
                }
                expected[n * 3 + j] = v;
            }
        }
        assertArrayEquals(expected, residual.apply(p, x).toDoubles(), 1e-12);
    }

    /** State, losses and metrics of the branch come back under "inner.", also when nested in a Sequential. */
    @Test
    void forwardThreadsTheBranchsStateAndAuxiliaryValues() {
        Sequential net = Sequential.of(Linear.of(2, 3), new Residual(Sequential.of(BatchNorm.of(3), new Penalised())));
        assertEquals(List.of("1.inner.0.running_mean", "1.inner.0.running_var"), net.stateSpecs().stream().map(StateSpec::name).toList());
        Params p = randomParams(engine, net, 3);
        Params state = net.initState(engine, 0);
        Tensor x = random(engine, 4, 5, 2);
        ModuleOutput out = net.forward(p, x, LayerChecks.train(state, 9));
        assertEquals(List.of("1.inner.0.running_mean", "1.inner.0.running_var"), out.state().names());
        assertEquals(List.of("1.inner.1.penalty"), List.copyOf(out.losses().keySet()));
        assertEquals(List.of("1.inner.1.size"), List.copyOf(out.metrics().keySet()));

        // The same values computed layer by layer.
        Tensor h = Linear.of(2, 3).apply(p.scoped("0"), x);
        ModuleOutput norm = BatchNorm.of(3).forward(p.scoped("1.inner.0"), h, LayerChecks.train(state.scoped("1.inner.0"), 1));
        assertArrayEquals(h.add(norm.output()).toDoubles(), out.output().toDoubles(), 1e-12);
        assertArrayEquals(norm.state().get("running_var").toDoubles(), out.state().get("1.inner.0.running_var").toDoubles(), 1e-12);
        assertEquals(norm.output().square().mean().item(), out.losses().get("1.inner.1.penalty").item(), 1e-12);
        assertEquals(15.0, out.metrics().get("1.inner.1.size").item());
        // Eval: running statistics, state unchanged.
        ModuleOutput eval = net.forward(p, x, ModuleCall.eval(out.state()));
        assertArrayEquals(out.state().get("1.inner.0.running_mean").toDoubles(), eval.state().get("1.inner.0.running_mean").toDoubles());
    }

    /** The residual returns its input group: the stream is one tied group that the branch's output maps back onto. */
    @Test
    void describesAStreamTiedAcrossTheSkip() {
        Sequential net = Sequential.of(Linear.of(2, 4),
                new Residual(Sequential.of(Linear.of(4, 8), Activation.RELU, Linear.of(8, 4))), Linear.of(4, 1));
        ModuleStructure s = net.structure();
        List<String> names = s.layers().stream().map(LayerInfo::name).toList();
        assertEquals(List.of("0", "1.inner.0", "1.inner.1", "1.inner.2", "1", "2"), names);
        LayerInfo skip = s.layers().get(4);
        assertEquals("residual", skip.kind());
        assertEquals("1.inner.2.out", skip.input());
        assertEquals("0.out", skip.output(), "the branch's output lands in the stream");
        assertEquals("0.out", s.layers().get(1).input());
        assertEquals("0.out", s.layers().get(5).input(), "the layer after the residual reads the same stream group");
    }

    @Test
    void aBranchThatChangesTheShapeIsAnError() {
        Residual residual = new Residual(Linear.of(3, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> residual.apply(randomParams(engine, residual, 1), random(engine, 1, 4, 3)));
        assertTrue(e.getMessage().contains("[4, 3]") && e.getMessage().contains("[4, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Residual(Linear.of(3, 2)).structure());
    }
}
