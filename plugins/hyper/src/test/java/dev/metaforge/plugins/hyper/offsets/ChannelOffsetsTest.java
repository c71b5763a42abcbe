package dev.metaforge.plugins.hyper.offsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.hyper.ParamSelection;
import dev.metaforge.api.nn.Activation;
import dev.metaforge.api.nn.Conv2d;
import dev.metaforge.api.nn.Flatten;
import dev.metaforge.api.nn.Linear;
import dev.metaforge.api.nn.Mlp;
import dev.metaforge.api.nn.Module;
import dev.metaforge.api.nn.ParamKind;
import dev.metaforge.api.nn.Sequential;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The defining properties of {@link ChannelOffsets} and {@link OffsetHyperNetwork}'s refinement, on a
 * tiny conv network (2→3 channels 3×3 padded, ReLU, 3→2 channels 2×2, flatten, linear 18→4) with
 * 4×4 inputs, against a plain-Java float64 convolution written here (the independent reference), on
 * the float64 reference backend.
 */
class ChannelOffsetsTest {
    private Engine engine;
    private Scope scope;

    private static final Module NET = Sequential.of(Conv2d.of(2, 3, 3).withPadding(1), Activation.RELU, Conv2d.of(3, 2, 2),
            new Flatten(-3, -1), Linear.of(18, 4));

    @BeforeEach
    void open() {
        engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void zeroOffsetsReproduceTheFrozenNetworkExactly() {
        ChannelOffsets offsets = new ChannelOffsets(NET, ParamSelection.kinds(ParamKind.CONV_WEIGHT));
        Params frozen = NET.init(engine, RandomStream.of(1));
        Tensor x = engine.uniform(Shape.of(3, 2, 4, 4), -1, 1, 2);
        Tensor zero = engine.zeros(Shape.of(3, offsets.size()), DType.FLOAT64);
        // θ ⊙ (1 + 0) is θ bit for bit, for every one of the 3 networks of the weight batch.
        Params modulated = offsets.modulate(frozen, zero);
        for (String name : frozen.names()) {
            double[] theta = frozen.get(name).toDoubles();
            double[] batch = modulated.get(name).toDoubles();
            assertEquals(3 * theta.length, batch.length, name);
            for (int i = 0; i < batch.length; i++) {
                assertEquals(theta[i % theta.length], batch[i], 0.0, name + " at " + i);
            }
        }
        double[] reference = referenceForward(frozen, x.toDoubles(), 3, null);
        assertArrayEquals(reference, NET.apply(frozen, x).toDoubles(), 1e-12, "the frozen network itself vs the plain-Java reference");
        assertArrayEquals(reference, offsets.apply(frozen, zero, x).toDoubles(), 1e-12, "Δ = 0 through the per-input weight batch");
    }

    @Test
    void offsetsArePerOutputChannelAndPerInput() {
        ChannelOffsets offsets = new ChannelOffsets(NET, ParamSelection.kinds(ParamKind.CONV_WEIGHT));
        // One offset per output channel: 3 + 2, where a full weight generator would emit 3·2·3·3 + 2·3·2·2 = 78 numbers.
        assertEquals(5, offsets.size());
        assertEquals(78, offsets.kernelWeights());
        assertEquals(List.of(new ChannelOffsets.Slot("0.weight", 3, 0), new ChannelOffsets.Slot("2.weight", 2, 3)), offsets.slots());
        Params frozen = NET.init(engine, RandomStream.of(3));
        int n = 4;
        Tensor x = engine.uniform(Shape.of(n, 2, 4, 4), -1, 1, 4);
        Tensor delta = engine.uniform(Shape.of(n, 5), -0.8, 0.8, 5);
        double[] d = delta.toDoubles();
        // The modulated kernel: entry (b, o, i, r, c) is θ(o, i, r, c) · (1 + Δ[b, start + o]).
        Params modulated = offsets.modulate(frozen, delta);
        for (ChannelOffsets.Slot slot : offsets.slots()) {
            double[] theta = frozen.get(slot.name()).toDoubles();
            double[] got = modulated.get(slot.name()).toDoubles();
            int perChannel = theta.length / slot.channels();
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < theta.length; i++) {
                    int o = i / perChannel;
                    assertEquals(theta[i] * (1 + d[b * 5 + slot.start() + o]), got[b * theta.length + i], 1e-15, slot.name());
                }
            }
        }
        // The forward pass: network b (kernels modulated by Δ[b]) on input b, against the plain-Java reference.
        double[] reference = referenceForward(frozen, x.toDoubles(), n, d);
        Tensor batched = offsets.apply(frozen, delta, x);
        assertEquals(Shape.of(n, 4), batched.shape());
        assertArrayEquals(reference, batched.toDoubles(), 1e-12);
        // Weight-batch identity: the batch equals each input run alone with its own offsets (a batch of one).
        for (int b = 0; b < n; b++) {
            Tensor alone = offsets.apply(frozen, delta.slice(0, b, b + 1), x.slice(0, b, b + 1));
            double[] row = new double[4];
            System.arraycopy(batched.toDoubles(), b * 4, row, 0, 4);
            assertArrayEquals(row, alone.toDoubles(), 1e-12, "input " + b);
        }
        // Offsets that differ between inputs give different networks: the per-input reference differs from a shared Δ[0].
        double[] shared = referenceForward(frozen, x.toDoubles(), n, repeatRow(d, 5, n));
        assertTrue(Math.abs(shared[4] - reference[4]) > 1e-6, "input 1 must see its own offsets, not input 0's");
    }

    @Test
    void theSelectionPicksKernelsByNameAsHyperTargetDoes() {
        ChannelOffsets second = new ChannelOffsets(NET, ParamSelection.names("2.weight"));
        assertEquals(2, second.size());
        Params frozen = NET.init(engine, RandomStream.of(6));
        Tensor delta = engine.uniform(Shape.of(2, 2), -0.5, 0.5, 7);
        Params modulated = second.modulate(frozen, delta);
        // The unselected kernel and every bias are the frozen ones, broadcast to the weight batch, untouched.
        double[] first = frozen.get("0.weight").toDoubles();
        double[] got = modulated.get("0.weight").toDoubles();
        for (int i = 0; i < got.length; i++) {
            assertEquals(first[i % first.length], got[i], 0.0);
        }
        double[] full = new double[2 * 5];
        double[] dd = delta.toDoubles();
        for (int b = 0; b < 2; b++) {
            full[b * 5 + 3] = dd[b * 2];
            full[b * 5 + 4] = dd[b * 2 + 1];
        }
        Tensor x = engine.uniform(Shape.of(2, 2, 4, 4), -1, 1, 8);
        assertArrayEquals(referenceForward(frozen, x.toDoubles(), 2, full), second.apply(frozen, delta, x).toDoubles(), 1e-12);
    }

    @Test
    void aSelectionOfUnknownNamesNonKernelsOrNothingIsRefused() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> new ChannelOffsets(NET, ParamSelection.names("9.weight")));
        assertTrue(unknown.getMessage().contains("'9.weight'") && unknown.getMessage().contains("0.weight [3, 2, 3, 3]"), unknown.getMessage());
        IllegalArgumentException bias = assertThrows(IllegalArgumentException.class,
                () -> new ChannelOffsets(NET, ParamSelection.names("0.weight", "0.bias")));
        assertTrue(bias.getMessage().contains("'0.bias'") && bias.getMessage().contains("not a conv kernel")
                && bias.getMessage().contains("2.weight [2, 3, 2, 2]"), bias.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> new ChannelOffsets(Mlp.of(List.of(4, 3, 2), Activation.RELU), ParamSelection.kinds(ParamKind.CONV_WEIGHT)));
        assertTrue(none.getMessage().contains("matches no parameter"), none.getMessage());
        ChannelOffsets offsets = new ChannelOffsets(NET, ParamSelection.kinds(ParamKind.CONV_WEIGHT));
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class, () -> offsets.apply(NET.init(engine, RandomStream.of(1)),
                engine.zeros(Shape.of(2, 4), DType.FLOAT64), engine.zeros(Shape.of(2, 2, 4, 4), DType.FLOAT64)));
        assertTrue(width.getMessage().contains("[2, 4]") && width.getMessage().contains("[N, 5]"), width.getMessage());
    }

    @Test
    void refinementStepTReadsTheOutputOfStepTMinusOne() {
        ChannelOffsets offsets = new ChannelOffsets(NET, ParamSelection.kinds(ParamKind.CONV_WEIGHT));
        Module encoder = Sequential.of(new Flatten(1, -1), Linear.of(32, 3), Activation.TANH);
        OffsetHyperNetwork hyper = new OffsetHyperNetwork(offsets, encoder, 3, 4, List.of(6), 3);
        Params frozen = NET.init(engine, RandomStream.of(9));
        Params fresh = hyper.init(engine, RandomStream.of(10));
        Tensor x = engine.uniform(Shape.of(2, 2, 4, 4), -1, 1, 11);
        // The head's last layer starts at zero: an untrained hypernetwork is the frozen network, exactly.
        OffsetHyperNetwork.Refinement untrained = hyper.refine(fresh, frozen, x);
        for (Tensor delta : untrained.deltas()) {
            assertArrayEquals(new double[2 * 5], delta.toDoubles(), 0.0);
        }
        // Random parameters everywhere, then the refinement composed by hand from its parts.
        Params params = fresh.mapNamed((name, t) -> engine.uniform(t.shape(), -0.7, 0.7, name.hashCode()));
        OffsetHyperNetwork.Refinement r = hyper.refine(params, frozen, x);
        assertEquals(4, r.outputs().size());
        assertEquals(3, r.deltas().size());
        Tensor e = encoder.apply(params.scoped("encoder"), x);
        Mlp head = Mlp.of(List.of(7, 6, 5), Activation.RELU);
        Tensor y = NET.apply(frozen, x);
        assertArrayEquals(y.toDoubles(), r.outputs().get(0).toDoubles(), 0.0);
        Tensor delta = null;
        for (int t = 1; t <= 3; t++) {
            Tensor step = head.apply(params.scoped("head"), Tensor.concat(List.of(e, y.softmax(1)), 1));
            delta = delta == null ? step : delta.add(step);
            y = offsets.apply(frozen, delta, x);
            assertArrayEquals(delta.toDoubles(), r.deltas().get(t - 1).toDoubles(), 1e-12, "Δ of step " + t);
            assertArrayEquals(y.toDoubles(), r.outputs().get(t).toDoubles(), 1e-12, "output of step " + t);
        }
        // Reading y0 at every step instead would give another Δ3: the check above can tell the difference.
        Tensor head0 = head.apply(params.scoped("head"), Tensor.concat(List.of(e, r.outputs().get(0).softmax(1)), 1));
        double[] stale = head0.mul(3.0).toDoubles();
        double[] actual = r.deltas().get(2).toDoubles();
        double gap = 0;
        for (int i = 0; i < stale.length; i++) {
            gap = Math.max(gap, Math.abs(stale[i] - actual[i]));
        }
        assertTrue(gap > 1e-6, "step 3 must read step 2's output, not step 0's; gap " + gap);
    }

    private static double[] repeatRow(double[] d, int width, int rows) {
        double[] out = new double[d.length];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(d, 0, out, b * width, width);
        }
        return out;
    }

    /**
     * NET in plain float64 Java: input [n, 2, 4, 4] row-major; {@code delta} [n, 5] (null: none) scales
     * output channel o of conv 1 by 1 + Δ[o] and of conv 2 by 1 + Δ[3 + o]. Returns logits [n, 4].
     */
    private static double[] referenceForward(Params p, double[] x, int n, double[] delta) {
        double[] w1 = p.get("0.weight").toDoubles();
        double[] b1 = p.get("0.bias").toDoubles();
        double[] w2 = p.get("2.weight").toDoubles();
        double[] b2 = p.get("2.bias").toDoubles();
        double[] wl = p.get("4.weight").toDoubles();
        double[] bl = p.get("4.bias").toDoubles();
        double[] out = new double[n * 4];
        for (int s = 0; s < n; s++) {
            double[] h = new double[3 * 16];
            for (int o = 0; o < 3; o++) {
                double scale = delta == null ? 1 : 1 + delta[s * 5 + o];
                for (int r = 0; r < 4; r++) {
                    for (int c = 0; c < 4; c++) {
                        double acc = 0;
                        for (int i = 0; i < 2; i++) {
                            for (int kr = 0; kr < 3; kr++) {
                                for (int kc = 0; kc < 3; kc++) {
                                    int rr = r + kr - 1;
                                    int cc = c + kc - 1;
                                    if (rr >= 0 && rr < 4 && cc >= 0 && cc < 4) {
                                        acc += w1[((o * 2 + i) * 3 + kr) * 3 + kc] * scale * x[((s * 2 + i) * 4 + rr) * 4 + cc];
                                    }
                                }
                            }
                        }
                        h[(o * 4 + r) * 4 + c] = Math.max(0, acc + b1[o]);
                    }
                }
            }
            double[] g = new double[2 * 9];
            for (int o = 0; o < 2; o++) {
                double scale = delta == null ? 1 : 1 + delta[s * 5 + 3 + o];
                for (int r = 0; r < 3; r++) {
                    for (int c = 0; c < 3; c++) {
                        double acc = 0;
                        for (int i = 0; i < 3; i++) {
                            for (int kr = 0; kr < 2; kr++) {
                                for (int kc = 0; kc < 2; kc++) {
                                    acc += w2[((o * 3 + i) * 2 + kr) * 2 + kc] * scale * h[(i * 4 + r + kr) * 4 + c + kc];
                                }
                            }
                        }
                        g[(o * 3 + r) * 3 + c] = acc + b2[o];
                    }
                }
            }
            for (int k = 0; k < 4; k++) {
                double acc = bl[k];
                for (int j = 0; j < 18; j++) {
                    acc += g[j] * wl[j * 4 + k];
                }
                out[s * 4 + k] = acc;
            }
        }
        return out;
    }
}
