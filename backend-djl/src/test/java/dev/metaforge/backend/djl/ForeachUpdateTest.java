package dev.metaforge.backend.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.BinaryOp;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.SgdResult;
import dev.metaforge.spi.SgdStep;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The in-place foreach optimizer updates (Adam, SGD) give, bit for bit, what the per-tensor kernels
 * (Adam) or the composed default (SGD) give, over
 * several chained steps: a run must not move when the override is switched on. (With the
 * denominator computed as {@code sqrt(v)/sqrt(c2)+eps}, a few ulps away from the per-tensor
 * kernel's {@code sqrt(v/c2)+eps}, the Adam case fails here; in a MAML run that difference grew to
 * 4.25e-5.) Both are also checked against plain float64 Java loops of the update.
 */
class ForeachUpdateTest extends DjlTestSupport {
    private static final List<Shape> SHAPES = List.of(Shape.of(16, 9), Shape.of(33), Shape.scalar(), Shape.of(0, 3));

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void inPlaceAdamEqualsThePerTensorKernelBitForBit(DType dtype) {
        adamRun(dtype, false);
    }

    /**
     * With the parameters donated too, every non-empty parameter (none shares memory here) is
     * written in place and handed back as the same array, with the same bits as above.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void adamWithDonatedParamsWritesThemInPlaceBitForBit(DType dtype) {
        adamRun(dtype, true);
    }

    private void adamRun(DType dtype, boolean donate) {
        for (AdamStep first : List.of(new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1),
                new AdamStep(1e-2, 0.8, 0.99, 1e-6, 0.1, false, 1), new AdamStep(5e-2, 0.9, 0.999, 1e-8, 0.05, true, 998))) {
            SplittableRandom rng = new SplittableRandom(first.step() * 31 + dtype.ordinal());
            List<double[]> p0 = new ArrayList<>();
            List<NativeArray> ps = new ArrayList<>();
            List<NativeArray> ms = new ArrayList<>();
            List<NativeArray> vs = new ArrayList<>();
            List<NativeArray> ps2 = new ArrayList<>();
            List<NativeArray> ms2 = new ArrayList<>();
            List<NativeArray> vs2 = new ArrayList<>();
            for (Shape s : SHAPES) {
                double[] p = random(rng, s.sizeAsInt(), -1, 1);
                p0.add(p);
                ps.add(k.fromDoubles(p, s, dtype));
                ps2.add(k.fromDoubles(p, s, dtype));
                ms.add(k.zeros(s, dtype));
                vs.add(k.zeros(s, dtype));
                ms2.add(k.zeros(s, dtype));
                vs2.add(k.zeros(s, dtype));
            }
            double[][] refP = p0.stream().map(double[]::clone).toArray(double[][]::new);
            double[][] refM = p0.stream().map(a -> new double[a.length]).toArray(double[][]::new);
            double[][] refV = p0.stream().map(a -> new double[a.length]).toArray(double[][]::new);
            for (int t = 0; t < 4; t++) {
                AdamStep h = new AdamStep(first.learningRate(), first.beta1(), first.beta2(), first.epsilon(), first.weightDecay(),
                        first.decoupledWeightDecay(), first.step() + t);
                List<NativeArray> gs = new ArrayList<>();
                List<double[]> gd = new ArrayList<>();
                for (Shape s : SHAPES) {
                    // some gradients tiny, so that v/c2 and sqrt(v)/sqrt(c2) round differently somewhere
                    double[] g = random(rng, s.sizeAsInt(), -1, 1);
                    for (int i = 0; i < g.length; i += 3) {
                        g[i] *= 1e-4;
                    }
                    gd.add(g);
                    gs.add(k.fromDoubles(g, s, dtype));
                }
                List<AdamResult> inPlace = donate ? k.adamUpdateForeachInPlace(List.copyOf(ps), gs, List.copyOf(ms), List.copyOf(vs), h)
                        : k.adamUpdateForeach(List.copyOf(ps), gs, List.copyOf(ms), List.copyOf(vs), h);
                for (int i = 0; i < SHAPES.size(); i++) {
                    AdamResult r = inPlace.get(i);
                    assertSame(ms.get(i), r.m(), "djl updates the donated m in place");
                    assertSame(vs.get(i), r.v(), "djl updates the donated v in place");
                    if (donate && SHAPES.get(i).size() > 0) {
                        assertSame(ps.get(i), r.param(), "djl writes the donated param in place");
                    } else {
                        assertNotSame(ps.get(i), r.param(), "a new param array");
                    }
                    AdamResult per = k.adamUpdate(ps2.get(i), gs.get(i), ms2.get(i), vs2.get(i), h);
                    String what = dtype + " " + h + " tensor " + SHAPES.get(i);
                    assertArrayEquals(k.toDoubles(per.param()), k.toDoubles(r.param()), "param " + what);
                    assertArrayEquals(k.toDoubles(per.m()), k.toDoubles(r.m()), "m " + what);
                    assertArrayEquals(k.toDoubles(per.v()), k.toDoubles(r.v()), "v " + what);
                    referenceAdam(refP[i], gd.get(i), refM[i], refV[i], h);
                    near(r.param(), dtype, SHAPES.get(i).dims(), dtype == DType.FLOAT32 ? 1e-5 : 1e-12, refP[i]);
                    if (r.param() != ps.get(i)) {
                        ps.get(i).close();
                    }
                    ps.set(i, r.param());
                    ps2.get(i).close();
                    ms2.get(i).close();
                    vs2.get(i).close();
                    ps2.set(i, per.param());
                    ms2.set(i, per.m());
                    vs2.set(i, per.v());
                }
                gs.forEach(NativeArray::close);
            }
            for (List<NativeArray> l : List.of(ps, ms, vs, ps2, ms2, vs2)) {
                l.forEach(NativeArray::close);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
    void inPlaceSgdEqualsTheComposedUpdateBitForBit(DType dtype) {
        for (SgdStep h : List.of(new SgdStep(0.1, 0, 0), new SgdStep(0.05, 0.9, 0), new SgdStep(0.02, 0.8, 0.1))) {
            SplittableRandom rng = new SplittableRandom(Double.hashCode(h.learningRate()) + dtype.ordinal());
            boolean momentum = h.momentum() != 0;
            List<NativeArray> ps = new ArrayList<>();
            List<NativeArray> bs = new ArrayList<>();
            List<NativeArray> ps2 = new ArrayList<>();
            List<NativeArray> bs2 = new ArrayList<>();
            List<double[]> refP = new ArrayList<>();
            List<double[]> refB = new ArrayList<>();
            for (Shape s : SHAPES) {
                double[] p = random(rng, s.sizeAsInt(), -1, 1);
                refP.add(p.clone());
                refB.add(new double[p.length]);
                ps.add(k.fromDoubles(p, s, dtype));
                ps2.add(k.fromDoubles(p, s, dtype));
                if (momentum) {
                    bs.add(k.zeros(s, dtype));
                    bs2.add(k.zeros(s, dtype));
                }
            }
            for (int t = 0; t < 4; t++) {
                List<NativeArray> gs = new ArrayList<>();
                List<double[]> gd = new ArrayList<>();
                for (Shape s : SHAPES) {
                    double[] g = random(rng, s.sizeAsInt(), -1, 1);
                    gd.add(g);
                    gs.add(k.fromDoubles(g, s, dtype));
                }
                List<SgdResult> r = k.sgdUpdateForeach(List.copyOf(ps), gs, List.copyOf(bs), h);
                for (int i = 0; i < SHAPES.size(); i++) {
                    String what = dtype + " " + h + " step " + t + " tensor " + SHAPES.get(i);
                    // the composed default's operations, on this backend's primitives
                    NativeArray d = h.weightDecay() != 0
                            ? k.binary(BinaryOp.ADD, gs.get(i), k.binaryScalar(BinaryOp.MUL, ps2.get(i), h.weightDecay())) : gs.get(i);
                    NativeArray dir = d;
                    if (momentum) {
                        dir = k.binary(BinaryOp.ADD, k.binaryScalar(BinaryOp.MUL, bs2.get(i), h.momentum()), d);
                        bs2.get(i).close();
                        bs2.set(i, dir);
                        assertSame(bs.get(i), r.get(i).buffer(), "djl updates the donated buffer in place");
                        assertArrayEquals(k.toDoubles(dir), k.toDoubles(r.get(i).buffer()), "buffer " + what);
                    }
                    NativeArray composed = k.binary(BinaryOp.SUB, ps2.get(i), k.binaryScalar(BinaryOp.MUL, dir, h.learningRate()));
                    assertArrayEquals(k.toDoubles(composed), k.toDoubles(r.get(i).param()), "param " + what);
                    referenceSgd(refP.get(i), gd.get(i), refB.get(i), h);
                    near(r.get(i).param(), dtype, SHAPES.get(i).dims(), dtype == DType.FLOAT32 ? 1e-5 : 1e-12, refP.get(i));
                    ps.get(i).close();
                    ps.set(i, r.get(i).param());
                    ps2.get(i).close();
                    ps2.set(i, composed);
                }
                gs.forEach(NativeArray::close);
            }
            for (List<NativeArray> l : List.of(ps, bs, ps2, bs2)) {
                l.forEach(NativeArray::close);
            }
        }
    }

    /** torch.optim.SGD (no dampening, no Nesterov) in float64. */
    static void referenceSgd(double[] p, double[] g, double[] buf, SgdStep h) {
        for (int i = 0; i < p.length; i++) {
            double d = g[i] + h.weightDecay() * p[i];
            if (h.momentum() != 0) {
                buf[i] = h.momentum() * buf[i] + d;
                d = buf[i];
            }
            p[i] -= h.learningRate() * d;
        }
    }

    /** torch.optim.Adam / AdamW in float64, independent of the backend. */
    static void referenceAdam(double[] p, double[] g, double[] m, double[] v, AdamStep h) {
        double c1 = 1 - Math.pow(h.beta1(), h.step());
        double c2 = 1 - Math.pow(h.beta2(), h.step());
        for (int i = 0; i < p.length; i++) {
            double gi = g[i] + (h.decoupledWeightDecay() ? 0 : h.weightDecay() * p[i]);
            m[i] = h.beta1() * m[i] + (1 - h.beta1()) * gi;
            v[i] = h.beta2() * v[i] + (1 - h.beta2()) * gi * gi;
            double base = h.decoupledWeightDecay() ? p[i] * (1 - h.learningRate() * h.weightDecay()) : p[i];
            p[i] = base - h.learningRate() / c1 * m[i] / (Math.sqrt(v[i] / c2) + h.epsilon());
        }
    }

    static double[] random(SplittableRandom rng, int n, double lo, double hi) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = rng.nextDouble(lo, hi);
        }
        return out;
    }
}
