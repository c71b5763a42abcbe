package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static dev.metaforge.api.nn.LayerChecks.randomParams;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Conv2dOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For every layer, the reverse-mode gradient of a scalar loss with respect to every parameter and
 * the input. Independent reference: central finite differences in float64 on the reference backend
 * ({@link LayerChecks#checkGradients}). Weight-batched forms are checked too, since they take
 * different code paths (folded convolution groups, flattened tables, broadcast statistics).
 */
class LayerGradientTest {
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

    /**
     * One gradient check: the module, how to call it (params, input) -> output, its input and
     * whether that input is differentiable.
     */
    record Case(Module module, int weightBatch, Function<Engine, Tensor> input, boolean differentiableInput,
                CallForm form) {
    }

    /** Which entry point the loss goes through. */
    enum CallForm { APPLY, TRAIN, EVAL }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        Conv2d grouped = new Conv2d(4, 6, 3, 2, new Conv2dOptions(new int[] {2, 1}, new int[] {1, 1}, new int[] {2, 1}, 2), true,
                Initializer.torchDefault());
        add(out, "conv2d 3x3", new Case(Conv2d.of(2, 3, 3), 0, e -> random(e, 1, 2, 2, 5, 5), true, CallForm.APPLY));
        add(out, "conv2d stride 2x1, padding 1, dilation 2x1, 2 groups", new Case(grouped, 0, e -> random(e, 2, 2, 4, 7, 6), true,
                CallForm.APPLY));
        add(out, "conv2d weight batch 3, shared input", new Case(grouped, 3, e -> random(e, 3, 2, 4, 7, 6), true, CallForm.APPLY));
        add(out, "conv2d weight batch 2, per-network input", new Case(grouped.withBias(false), 2, e -> random(e, 4, 2, 2, 4, 7, 6),
                true, CallForm.APPLY));
        add(out, "maxpool2d tiling 2x2", new Case(MaxPool2d.of(2), 0, e -> random(e, 5, 2, 3, 4, 6), true, CallForm.APPLY));
        add(out, "maxpool2d 2x2 cropping an odd input", new Case(MaxPool2d.of(2), 0, e -> random(e, 5, 1, 2, 5, 5), true,
                CallForm.APPLY));
        add(out, "maxpool2d 3x3 stride 2 padding 1", new Case(MaxPool2d.of(3, 2, 1), 0, e -> random(e, 6, 2, 2, 5, 6), true,
                CallForm.APPLY));
        add(out, "avgpool2d tiling 2x3", new Case(new AvgPool2d(2, 3, 2, 3, 0, 0), 0, e -> random(e, 7, 2, 2, 4, 6), true,
                CallForm.APPLY));
        add(out, "avgpool2d 3x3 stride 1 padding 1", new Case(AvgPool2d.of(3, 1, 1), 0, e -> random(e, 8, 1, 2, 4, 5), true,
                CallForm.APPLY));
        add(out, "batchnorm [N, C] apply", new Case(BatchNorm.of(3), 0, e -> random(e, 9, 5, 3), true, CallForm.APPLY));
        add(out, "batchnorm [N, C, H, W] train", new Case(BatchNorm.of(3), 0, e -> random(e, 10, 2, 3, 3, 2), true, CallForm.TRAIN));
        add(out, "batchnorm [N, C, H, W] eval", new Case(BatchNorm.of(3), 0, e -> random(e, 11, 2, 3, 3, 2), true, CallForm.EVAL));
        add(out, "batchnorm weight batch 2, per-network input, train", new Case(BatchNorm.of(3), 2, e -> random(e, 12, 2, 4, 3), true,
                CallForm.TRAIN));
        add(out, "batchnorm weight batch 3, shared input, apply", new Case(BatchNorm.of(2), 3, e -> random(e, 13, 3, 2, 2, 2), true,
                CallForm.APPLY));
        add(out, "layernorm", new Case(LayerNorm.of(4), 0, e -> random(e, 14, 2, 3, 4), true, CallForm.APPLY));
        add(out, "layernorm weight batch 2, shared input", new Case(LayerNorm.of(4), 2, e -> random(e, 15, 3, 4), true,
                CallForm.APPLY));
        add(out, "dropout train", new Case(new Dropout(0.4), 0, e -> random(e, 16, 4, 5), true, CallForm.TRAIN));
        add(out, "embedding", new Case(new Embedding(5, 3), 0, e -> e.indices(new long[] {4, 0, 2, 2, 1, 4}, 2, 3), false,
                CallForm.APPLY));
        add(out, "embedding weight batch 2, shared indices", new Case(new Embedding(5, 3), 2,
                e -> e.indices(new long[] {3, 1, 3, 0}, 4), false, CallForm.APPLY));
        add(out, "flatten", new Case(Flatten.of(), 0, e -> random(e, 17, 2, 3, 2, 2), true, CallForm.APPLY));
        add(out, "residual around linear-tanh-linear", new Case(new Residual(Sequential.of(Linear.of(3, 4), Activation.TANH,
                Linear.of(4, 3))), 0, e -> random(e, 18, 5, 3), true, CallForm.APPLY));
        add(out, "residual around batchnorm, train", new Case(new Residual(BatchNorm.of(3)), 0, e -> random(e, 19, 4, 3), true,
                CallForm.TRAIN));
        add(out, "attention", new Case(new MultiHeadAttention(4, 2, false, true), 0, e -> random(e, 20, 2, 3, 4), true,
                CallForm.APPLY));
        add(out, "attention causal, no bias", new Case(new MultiHeadAttention(6, 3, true, false), 0, e -> random(e, 21, 2, 4, 6), true,
                CallForm.APPLY));
        add(out, "attention weight batch 2, shared input", new Case(new MultiHeadAttention(4, 2, true, true), 2,
                e -> random(e, 22, 2, 3, 4), true, CallForm.APPLY));
        add(out, "transformer block", new Case(new TransformerBlock(4, 2, 6, 0.0, true), 0, e -> random(e, 23, 2, 3, 4), true,
                CallForm.APPLY));
        add(out, "transformer block with dropout, train", new Case(new TransformerBlock(4, 2, 6, 0.3, false), 0,
                e -> random(e, 24, 1, 3, 4), true, CallForm.TRAIN));
        add(out, "transformer block weight batch 2, per-network input", new Case(new TransformerBlock(4, 1, 5, 0.0, true), 2,
                e -> random(e, 25, 2, 2, 3, 4), true, CallForm.APPLY));
        return out.stream();
    }

    private static void add(List<Arguments> out, String name, Case c) {
        out.add(Arguments.of(name, c));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientsMatchCentralFiniteDifferences(String name, Case c) {
        Params params = batchedParams(c.module(), c.weightBatch());
        Params state = nonTrivialState(c.module(), c.weightBatch());
        BiFunction<Params, Tensor, Tensor> f = switch (c.form()) {
            case APPLY -> c.module()::apply;
            case TRAIN -> (p, x) -> c.module().forward(p, x, LayerChecks.train(state, 77)).output();
            case EVAL -> (p, x) -> c.module().forward(p, x, ModuleCall.eval(state)).output();
        };
        // Softmax is unchanged by a shift shared by all keys, and q . bk is such a shift: the key bias gets no gradient.
        Set<String> zero = params.names().stream().filter(n -> n.equals("k.bias") || n.endsWith(".k.bias")).collect(Collectors.toSet());
        LayerChecks.checkGradients(engine, params, c.input().apply(engine), c.differentiableInput(), f, 1e-6, 40, zero);
    }

    private Params batchedParams(Module module, int weightBatch) {
        if (weightBatch == 0) {
            return randomParams(engine, module, 100);
        }
        List<Params> nets = new ArrayList<>();
        for (int b = 0; b < weightBatch; b++) {
            nets.add(randomParams(engine, module, 100 + 10L * b));
        }
        return LayerChecks.stack(nets);
    }

    /** Running statistics away from 0 and 1, so EVAL does not reduce to a trivial affine map. */
    private Params nonTrivialState(Module module, int weightBatch) {
        Params initial = module.initState(engine, weightBatch);
        return initial.mapNamed((n, t) -> n.endsWith("running_var")
                ? random(engine, 5, t.shape().dims()).abs().add(0.5)
                : random(engine, 6, t.shape().dims()));
    }

}
