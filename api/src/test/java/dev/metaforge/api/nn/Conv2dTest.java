package dev.metaforge.api.nn;

import static dev.metaforge.api.nn.LayerChecks.random;
import static dev.metaforge.api.nn.LayerChecks.randomParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class Conv2dTest {
    private final Engine engine = LayerChecks.engine();
    /** 4 -> 6 channels, kernel 3x2, stride 2x1, padding 1x0, dilation 1x2, 2 groups: every option away from its default. */
    private static final Conv2d CONV = new Conv2d(4, 6, 3, 2,
            new Conv2dOptions(new int[] {2, 1}, new int[] {1, 0}, new int[] {1, 2}, 2), true, Initializer.torchDefault());
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** Independent reference: the convolution written as float64 loops from its definition. */
    @Test
    void forwardMatchesTheDefinitionWrittenAsLoops() {
        Tensor x = random(engine, 1, 2, 4, 5, 6);
        Params p = randomParams(engine, CONV, 2);
        Tensor y = CONV.apply(p, x);
        // Output size: (5 + 2 - 3) / 2 + 1 = 3 rows, (6 + 0 - (2 * (2 - 1) + 1)) / 1 + 1 = 4 columns.
        assertEquals(Shape.of(2, 6, 3, 4), y.shape());
        double[] xs = x.toDoubles();
        double[] w = p.get("weight").toDoubles();
        double[] b = p.get("bias").toDoubles();
        double[] expected = new double[2 * 6 * 3 * 4];
        for (int n = 0; n < 2; n++) {
            for (int o = 0; o < 6; o++) {
                int group = o / 3;
                for (int i = 0; i < 3; i++) {
                    for (int j = 0; j < 4; j++) {
                        double sum = b[o];
                        for (int cg = 0; cg < 2; cg++) {
                            int c = group * 2 + cg;
                            for (int a = 0; a < 3; a++) {
                                for (int q = 0; q < 2; q++) {
                                    int row = i * 2 - 1 + a;
                                    int col = j + 2 * q;
                                    if (row >= 0 && row < 5 && col >= 0 && col < 6) {
                                        sum += xs[((n * 4 + c) * 5 + row) * 6 + col] * w[((o * 2 + cg) * 3 + a) * 2 + q];
                                    }
                                }
                            }
                        }
                        expected[((n * 6 + o) * 3 + i) * 4 + j] = sum;
                    }
                }
            }
        }
        assertArrayEquals(expected, y.toDoubles(), 1e-12);
    }

    @Test
    void parametersHaveConvolutionAxesFansAndPyTorchInitialisation() {
        Conv2d conv = Conv2d.of(8, 16, 3).withGroups(2);
        List<ParamSpec> specs = conv.parameters();
        ParamSpec weight = specs.get(0);
        ParamSpec bias = specs.get(1);
        assertEquals(Shape.of(16, 4, 3, 3), weight.shape());
        assertEquals(List.of(Axis.OUT, Axis.IN, Axis.KERNEL, Axis.KERNEL), weight.axes());
        assertEquals(ParamKind.CONV_WEIGHT, weight.kind());
        assertEquals(4 * 9, weight.fanIn(), "fanIn = C / groups * kh * kw");
        assertEquals(16 * 9, weight.fanOut(), "fanOut = O * kh * kw, as PyTorch computes it");
        assertEquals(Shape.of(16), bias.shape());
        assertEquals(List.of(Axis.OUT), bias.axes());
        Params p = conv.init(engine, RandomStream.of(3));
        double bound = 1.0 / 6.0; // 1 / sqrt(36)
        for (String name : List.of("weight", "bias")) {
            double max = 0;
            for (double v : p.get(name).toDoubles()) {
                max = Math.max(max, Math.abs(v));
            }
            assertTrue(max <= bound && max > 0.8 * bound, name + ": max |value| " + max + " for the bound 1/sqrt(fanIn) = " + bound);
        }
    }

    @Test
    void describesChannelGroupsSplitByConvolutionGroups() {
        ModuleStructure s = Sequential.of(CONV, Activation.RELU, Conv2d.of(6, 2, 1)).structure();
        LayerInfo first = s.layers().get(0);
        assertEquals("conv2d", first.kind());
        assertEquals("0.weight", first.param("weight"));
        assertEquals("0.bias", first.param("bias"));
        assertEquals("2", first.attribute("groups"));
        assertEquals("[2, 1]", first.attribute("stride"));
        assertEquals(4, s.group(first.input()).size());
        NeuronGroup out = s.group(first.output());
        assertEquals(6, out.size());
        assertEquals(2, out.blocks(), "grouped output channels permute within their convolution group");
        LayerInfo second = s.layers().get(2);
        assertEquals(first.output(), second.input(), "the next convolution reads the channels the first writes");
        assertEquals(List.of(first.output()), s.hiddenGroups().stream().map(NeuronGroup::id).toList());
    }

    /**
     * Second order through the convolution: the Hessian-vector product of
     * {@code L = sum(R * tanh(conv(x; w, b)))} in a random direction over (x, w, b), from our autodiff
     * (the gradient of {@code <grad L, v>}), against central finite differences of the gradient.
     */
    @Test
    void hessianVectorProductMatchesFiniteDifferencesOfTheGradient() {
        Tensor x = random(engine, 4, 2, 4, 5, 6);
        Params p = randomParams(engine, CONV, 5);
        Tensor r = random(engine, 6, 2, 6, 3, 4);
        Map<String, Tensor> point = new LinkedHashMap<>(p.asMap());
        point.put("x", x);
        Params theta = Params.of(point);
        Params direction = theta.mapNamed((n, t) -> random(engine, n.hashCode(), t.shape().dims()));

        Params tracked = theta.requiringGrad();
        Params grad = Grad.of(loss(tracked, r)).withGraph().wrt(tracked);
        Tensor inner = null;
        for (String n : grad.names()) {
            Tensor term = grad.get(n).mul(direction.get(n)).sum();
            inner = inner == null ? term : inner.add(term);
        }
        Params hv = Grad.of(inner).wrt(tracked);

        double h = 1e-5;
        Params plus = gradientAt(theta.zip(direction, (t, d) -> t.add(d.mul(h))), r);
        Params minus = gradientAt(theta.zip(direction, (t, d) -> t.sub(d.mul(h))), r);
        double largest = 0;
        for (String n : theta.names()) {
            double[] numeric = plus.get(n).sub(minus.get(n)).div(2 * h).toDoubles();
            double[] analytic = hv.get(n).toDoubles();
            for (int i = 0; i < numeric.length; i++) {
                assertEquals(numeric[i], analytic[i], 1e-6 * Math.max(1, Math.abs(numeric[i])),
                        "Hessian-vector product for '" + n + "' at " + i);
                largest = Math.max(largest, Math.abs(analytic[i]));
            }
        }
        assertTrue(largest > 1e-3, "the Hessian-vector product is zero: the check would pass for any second derivative");
    }

    private Tensor loss(Params theta, Tensor r) {
        return CONV.apply(theta.filter(n -> !n.equals("x")), theta.get("x")).tanh().mul(r).sum();
    }

    private Params gradientAt(Params theta, Tensor r) {
        Params tracked = theta.requiringGrad();
        return Grad.of(loss(tracked, r)).wrt(tracked);
    }

    @Test
    void shapeMismatchesAreErrorsNamingTheShapes() {
        Params p = randomParams(engine, CONV, 7);
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> CONV.apply(p, random(engine, 8, 2, 3, 5, 6)));
        assertTrue(channels.getMessage().contains("[2, 3, 5, 6]") && channels.getMessage().contains("has 3 channels")
                && channels.getMessage().contains("reads 4"), channels.getMessage());

        Conv2d big = Conv2d.of(1, 1, 5);
        IllegalArgumentException kernel = assertThrows(IllegalArgumentException.class,
                () -> big.apply(randomParams(engine, big, 9), random(engine, 10, 1, 1, 4, 7)));
        assertTrue(kernel.getMessage().contains("kernel spans 5x5") && kernel.getMessage().contains("padded input is only 4x7")
                && kernel.getMessage().contains("[1, 1, 4, 7]"), kernel.getMessage());

        Params batched = LayerChecks.stack(List.of(p, p));
        IllegalArgumentException networks = assertThrows(IllegalArgumentException.class,
                () -> CONV.apply(batched, random(engine, 11, 3, 2, 4, 5, 6)));
        assertTrue(networks.getMessage().contains("[3, 2, 4, 5, 6]") && networks.getMessage().contains("weight batch is 2"),
                networks.getMessage());

        IllegalArgumentException groups = assertThrows(IllegalArgumentException.class, () -> Conv2d.of(6, 4, 3).withGroups(4));
        assertTrue(groups.getMessage().contains("groups = 4 must divide inChannels = 6"), groups.getMessage());
    }
}
