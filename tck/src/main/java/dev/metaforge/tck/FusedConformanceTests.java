package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.spi.AdamResult;
import dev.metaforge.spi.AdamStep;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.SgdResult;
import dev.metaforge.spi.SgdStep;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.opentest4j.AssertionFailedError;

/**
 * FUSED-*: a backend's fused kernels equal the SPI's composed defaults run on the same backend's
 * primitives ({@link ComposedKernels}), and both match the float64 reference. Runs in every
 * floating dtype the backend declares.
 */
@ExtendWith(TckExtension.class)
class FusedConformanceTests {

    /** Checks {@code call}: fused vs composed on the backend, then fused vs the reference. */
    private static DynamicTest fused(TckContext tck, String name, DType dtype, Tolerance tolerance, KernelCall call,
                                     Operand... operands) {
        return dynamicTest(name + " " + dtype, () -> {
            tck.agreeWithComposition(name + " " + dtype, dtype, tolerance, call, operands);
            tck.agree(name + " " + dtype + ": vs the float64 reference", dtype, tolerance, call, operands);
        });
    }

    @TckRule(id = "FUSED-LINEAR-1")
    @DisplayName("FUSED-LINEAR-1 linear(x, w, b) equals matmul + broadcast add (composed default) and the reference, with and without bias, batched and weight-batched")
    @TestFactory
    Stream<DynamicTest> linear(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            Tolerance t = Tolerance.of(dtype);
            tests.add(fused(tck, "x [4,3] w [3,5] b [5]", dtype, t, (k, dt, in) -> k.linear(in[0], in[1], in[2]),
                    Operand.random(Shape.of(4, 3), 1), Operand.random(Shape.of(3, 5), 2), Operand.random(Shape.of(5), 3)));
            tests.add(fused(tck, "x [4,3] w [3,5] no bias", dtype, t, (k, dt, in) -> k.linear(in[0], in[1], null),
                    Operand.random(Shape.of(4, 3), 4), Operand.random(Shape.of(3, 5), 5)));
            tests.add(fused(tck, "batched x [2,4,3] w [3,5] b [5]", dtype, t, (k, dt, in) -> k.linear(in[0], in[1], in[2]),
                    Operand.random(Shape.of(2, 4, 3), 6), Operand.random(Shape.of(3, 5), 7), Operand.random(Shape.of(5), 8)));
            tests.add(fused(tck, "weight batch x [2,4,3] w [2,3,5] b [2,1,5]", dtype, t, (k, dt, in) -> k.linear(in[0], in[1], in[2]),
                    Operand.random(Shape.of(2, 4, 3), 9), Operand.random(Shape.of(2, 3, 5), 10), Operand.random(Shape.of(2, 1, 5), 11)));
            // size-1 inner and output dims (an outer product and a matrix-vector product): shapes a backend may route around GEMM
            tests.add(fused(tck, "weight batch k=1 x [2,4,1] w [2,1,5] b [2,1,5]", dtype, t, (k, dt, in) -> k.linear(in[0], in[1], in[2]),
                    Operand.random(Shape.of(2, 4, 1), 21), Operand.random(Shape.of(2, 1, 5), 22), Operand.random(Shape.of(2, 1, 5), 23)));
            tests.add(fused(tck, "weight batch n=1 x [2,4,3] w [2,3,1] b [2,1,1]", dtype, t, (k, dt, in) -> k.linear(in[0], in[1], in[2]),
                    Operand.random(Shape.of(2, 4, 3), 24), Operand.random(Shape.of(2, 3, 1), 25), Operand.random(Shape.of(2, 1, 1), 26)));
            tests.add(fused(tck, "x [1,1] w [1,1] b [1]", dtype, t, (k, dt, in) -> k.linear(in[0], in[1], in[2]),
                    Operand.random(Shape.of(1, 1), 12), Operand.random(Shape.of(1, 1), 13), Operand.random(Shape.of(1), 14)));
            tests.add(fused(tck, "zero rows x [0,3] w [3,2] b [2]", dtype, t, (k, dt, in) -> k.linear(in[0], in[1], in[2]),
                    Operand.random(Shape.of(0, 3), 15), Operand.random(Shape.of(3, 2), 16), Operand.random(Shape.of(2), 17)));
            tests.add(fused(tck, "wide x [16,64] w [64,32] b [32]", dtype, t.times(8), (k, dt, in) -> k.linear(in[0], in[1], in[2]),
                    Operand.random(Shape.of(16, 64), 18), Operand.random(Shape.of(64, 32), 19), Operand.random(Shape.of(32), 20)));
        }
        return tests.stream();
    }

    @TckRule(id = "FUSED-ADAM-1")
    @DisplayName("FUSED-ADAM-1 adamUpdate equals the composed default and the reference for Adam, Adam with L2 decay and AdamW, early and late steps")
    @TestFactory
    Stream<DynamicTest> adam(TckContext tck) {
        List<AdamStep> steps = List.of(
                new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1),
                new AdamStep(1e-2, 0.9, 0.999, 1e-8, 0, false, 10),
                new AdamStep(1e-2, 0.8, 0.99, 1e-6, 0.1, false, 3),
                new AdamStep(1e-2, 0.9, 0.999, 1e-8, 0.01, true, 1),
                new AdamStep(5e-2, 0.9, 0.999, 1e-8, 0.05, true, 1000));
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            for (AdamStep h : steps) {
                for (Shape shape : List.of(Shape.of(3, 4), Shape.of(7), Shape.scalar())) {
                    String name = "adam lr=" + h.learningRate() + " wd=" + h.weightDecay()
                            + (h.decoupledWeightDecay() ? " AdamW" : "") + " step " + h.step() + " " + shape;
                    long seed = Data.seed(name);
                    // the update divides by sqrt(v) + eps: relative error of a few ulps of the ratio
                    tests.add(fused(tck, name, dtype, Tolerance.of(dtype).times(4),
                            (k, dt, in) -> k.adamUpdate(in[0], in[1], in[2], in[3], h),
                            Operand.random(shape, seed), Operand.random(shape, seed + 1),
                            Operand.random(shape, seed + 2, -0.1, 0.1), Operand.random(shape, seed + 3, 0.001, 0.1)));
                }
            }
        }
        return tests.stream();
    }

    @TckRule(id = "FUSED-ADAM-2")
    @DisplayName("FUSED-ADAM-2 adamUpdateForeach (moments donated, possibly updated in place) over three steps equals per-tensor composed updates and the reference, leaves params and grads unchanged, for Adam, L2 Adam and AdamW")
    @TestFactory
    Stream<DynamicTest> adamForeach(TckContext tck) {
        List<List<AdamStep>> runs = List.of(
                threeSteps(new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1)),
                threeSteps(new AdamStep(1e-2, 0.8, 0.99, 1e-6, 0.1, false, 1)),
                threeSteps(new AdamStep(5e-2, 0.9, 0.999, 1e-8, 0.05, true, 1000)));
        List<Shape> shapes = List.of(Shape.of(3, 4), Shape.of(7), Shape.scalar(), Shape.of(0, 3), Shape.of(2, 5));
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            for (List<AdamStep> run : runs) {
                AdamStep h = run.get(0);
                String name = "adam foreach lr=" + h.learningRate() + " wd=" + h.weightDecay()
                        + (h.decoupledWeightDecay() ? " AdamW" : "") + " steps " + h.step() + ".." + (h.step() + 2) + " " + shapes;
                Operand[] operands = adamOperands(shapes, Data.seed(name));
                // three chained updates: the relative error of a few ulps per step adds up
                tests.add(fused(tck, name, dtype, Tolerance.of(dtype).times(12), (k, dt, in) -> foreachRun(k, in, run, false),
                        operands));
            }
        }
        return tests.stream();
    }

    @TckRule(id = "FUSED-ADAM-3")
    @DisplayName("FUSED-ADAM-3 adamUpdateForeachInPlace (params donated too) equals the composed update and the reference over three steps, leaves gradients unchanged, and never overwrites a parameter whose memory another operand reads: another entry's gradient, the same parameter listed twice, a reshape view of it as a gradient")
    @TestFactory
    Stream<DynamicTest> adamForeachInPlace(TckContext tck) {
        List<AdamStep> firsts = List.of(new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1),
                new AdamStep(1e-2, 0.8, 0.99, 1e-6, 0.1, false, 1), new AdamStep(5e-2, 0.9, 0.999, 1e-8, 0.05, true, 1000));
        List<Shape> shapes = List.of(Shape.of(3, 4), Shape.of(7), Shape.scalar(), Shape.of(0, 3), Shape.of(2, 5));
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            for (AdamStep h : firsts) {
                String what = " lr=" + h.learningRate() + " wd=" + h.weightDecay() + (h.decoupledWeightDecay() ? " AdamW" : "");
                String name = "adam foreach in place" + what + " steps " + h.step() + ".." + (h.step() + 2) + " " + shapes;
                Operand[] operands = adamOperands(shapes, Data.seed(name));
                List<AdamStep> run = threeSteps(h);
                tests.add(fused(tck, name, dtype, Tolerance.of(dtype).times(12), (k, dt, in) -> foreachRun(k, in, run, true),
                        operands));
                String aliased = "adam foreach in place, aliased operands" + what + " step " + h.step();
                long s2 = Data.seed(aliased);
                // A0 G0 A1 G2 A3 G3 [3,4]; P4 G4 [12]; P5 [3,4]; then m, v per entry (e4's [12])
                List<Operand> ops = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    ops.add(Operand.random(Shape.of(3, 4), s2++));
                }
                ops.add(Operand.random(Shape.of(12), s2++));
                ops.add(Operand.random(Shape.of(12), s2++));
                ops.add(Operand.random(Shape.of(3, 4), s2++));
                for (int e = 0; e < 6; e++) {
                    Shape shape = e == 4 ? Shape.of(12) : Shape.of(3, 4);
                    ops.add(Operand.random(shape, s2++, -0.1, 0.1));
                    ops.add(Operand.random(shape, s2++, 0.001, 0.1));
                }
                tests.add(fused(tck, aliased, dtype, Tolerance.of(dtype).times(4), (k, dt, in) -> aliasedInPlaceRun(k, in, h),
                        ops.toArray(Operand[]::new)));
            }
        }
        return tests.stream();
    }

    /**
     * One in-place foreach step over six entries whose operands overlap: e1's gradient is e0's
     * parameter, e2's parameter is e0's again, e5's gradient is a reshape of e4's parameter (a view
     * where the backend has views); e3 alone is free to be overwritten. Entries run in order, so a
     * backend that overwrites e0's or e4's parameter feeds the later entries the new values. Fails
     * when a gradient or an overlapped parameter changed (parameter 4 through the view, which is a
     * copy on backends without views); returns every entry's param, m and v.
     */
    private static List<NativeArray> aliasedInPlaceRun(Kernels k, NativeArray[] in, AdamStep h) {
        NativeArray a0 = in[0];
        NativeArray g0 = in[1];
        NativeArray a1 = in[2];
        NativeArray g2 = in[3];
        NativeArray a3 = in[4];
        NativeArray g3 = in[5];
        NativeArray p4 = in[6];
        NativeArray g4 = in[7];
        NativeArray p5 = in[8];
        try (NativeArray view = k.reshape(p4, Shape.of(3, 4))) {
            List<NativeArray> ps = List.of(a0, a1, a0, a3, p4, p5);
            List<NativeArray> gs = List.of(g0, a0, g2, g3, g4, view);
            List<NativeArray> ms = new ArrayList<>();
            List<NativeArray> vs = new ArrayList<>();
            for (int e = 0; e < 6; e++) {
                ms.add(in[9 + 2 * e]);
                vs.add(in[10 + 2 * e]);
            }
            List<double[]> gradsBefore = gs.stream().map(k::toDoubles).toList();
            double[] a0Before = k.toDoubles(a0);
            List<AdamResult> r = k.adamUpdateForeachInPlace(ps, gs, ms, vs, h);
            if (r.size() != 6) {
                throw new AssertionFailedError(k.backendName() + " adamUpdateForeachInPlace returned " + r.size() + " results for 6");
            }
            for (int e = 0; e < 6; e++) {
                unchanged(k, "adamUpdateForeachInPlace", "gradient " + e + " (aliased operands)", gradsBefore.get(e), gs.get(e));
            }
            unchanged(k, "adamUpdateForeachInPlace", "parameter 0, which entry 1 reads as its gradient and entry 2 as its"
                    + " parameter", a0Before, a0);
            // parameter 4 is checked through gradient 5: where the reshape is a copy, 4 may be written in place
            for (int e : new int[] {0, 2}) {
                if (r.get(e).param() == ps.get(e)) {
                    throw new AssertionFailedError(k.backendName() + " adamUpdateForeachInPlace handed back parameter " + e
                            + " as updated in place although another operand reads its memory");
                }
            }
            List<NativeArray> out = new ArrayList<>();
            for (int e = 0; e < 6; e++) {
                AdamResult re = r.get(e);
                if (re.m() != ms.get(e)) {
                    ms.get(e).close();
                }
                if (re.v() != vs.get(e)) {
                    vs.get(e).close();
                }
                out.add(re.param());
                out.add(re.m());
                out.add(re.v());
            }
            return out;
        }
    }

    /** Param, grad, m (in [-0.1, 0.1]) and v (in [0.001, 0.1]) per shape, in that order. */
    private static Operand[] adamOperands(List<Shape> shapes, long seed) {
        List<Operand> operands = new ArrayList<>();
        for (Shape shape : shapes) {
            operands.add(Operand.random(shape, seed++));
            operands.add(Operand.random(shape, seed++));
            operands.add(Operand.random(shape, seed++, -0.1, 0.1));
            operands.add(Operand.random(shape, seed++, 0.001, 0.1));
        }
        return operands.toArray(Operand[]::new);
    }

    private static List<AdamStep> threeSteps(AdamStep first) {
        List<AdamStep> steps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            steps.add(new AdamStep(first.learningRate(), first.beta1(), first.beta2(), first.epsilon(), first.weightDecay(),
                    first.decoupledWeightDecay(), first.step() + i));
        }
        return steps;
    }

    /**
     * Runs {@code steps} foreach updates as an optimizer would (inputs: param, grad, m, v per tensor),
     * through {@code adamUpdateForeachInPlace} when {@code inPlace}, closing what the contract says
     * the caller closes (never the harness's own inputs), and returns the final params, m and v.
     * Fails when a call changed a gradient, or a parameter: any parameter without {@code inPlace},
     * one it did not hand back with it.
     */
    private static List<NativeArray> foreachRun(Kernels k, NativeArray[] in, List<AdamStep> steps, boolean inPlace) {
        String op = inPlace ? "adamUpdateForeachInPlace" : "adamUpdateForeach";
        int n = in.length / 4;
        List<NativeArray> ps = new ArrayList<>();
        List<NativeArray> gs = new ArrayList<>();
        List<NativeArray> ms = new ArrayList<>();
        List<NativeArray> vs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ps.add(in[4 * i]);
            gs.add(in[4 * i + 1]);
            ms.add(in[4 * i + 2]);
            vs.add(in[4 * i + 3]);
        }
        List<double[]> gradsBefore = gs.stream().map(k::toDoubles).toList();
        for (AdamStep h : steps) {
            List<double[]> paramsBefore = ps.stream().map(k::toDoubles).toList();
            List<AdamResult> r = inPlace ? k.adamUpdateForeachInPlace(List.copyOf(ps), List.copyOf(gs), List.copyOf(ms), List.copyOf(vs), h)
                    : k.adamUpdateForeach(List.copyOf(ps), List.copyOf(gs), List.copyOf(ms), List.copyOf(vs), h);
            if (r.size() != n) {
                throw new AssertionFailedError(k.backendName() + " " + op + " returned " + r.size() + " results for " + n + " parameters");
            }
            for (int i = 0; i < n; i++) {
                unchanged(k, op, "gradient " + i + " at step " + h.step(), gradsBefore.get(i), gs.get(i));
                AdamResult ri = r.get(i);
                boolean handedBack = ri.param() == ps.get(i);
                if (!handedBack) {
                    unchanged(k, op, "parameter " + i + " at step " + h.step() + (inPlace ? " (not handed back)" : ""),
                            paramsBefore.get(i), ps.get(i));
                }
                if ((handedBack && !inPlace) || ri.param() == gs.get(i)) {
                    throw new AssertionFailedError(k.backendName() + " " + op + " returned its input as the new parameter " + i);
                }
                // the caller's side of the contract: close donated moments not returned, and our own old params
                if (ri.m() != ms.get(i)) {
                    ms.get(i).close();
                }
                if (ri.v() != vs.get(i)) {
                    vs.get(i).close();
                }
                if (!handedBack && ps.get(i) != in[4 * i]) {
                    ps.get(i).close();
                }
                ps.set(i, ri.param());
                ms.set(i, ri.m());
                vs.set(i, ri.v());
            }
        }
        List<NativeArray> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(ps.get(i));
            out.add(ms.get(i));
            out.add(vs.get(i));
        }
        return out;
    }

    private static void unchanged(Kernels k, String op, String what, double[] before, NativeArray after) {
        double[] now = k.toDoubles(after);
        if (!java.util.Arrays.equals(before, now)) {
            throw new AssertionFailedError(k.backendName() + " " + op + " changed " + what + ": params and grads must stay unchanged");
        }
    }

    @TckRule(id = "FUSED-SGD-1")
    @DisplayName("FUSED-SGD-1 sgdUpdateForeach (momentum buffers donated, possibly updated in place) over three steps equals the composed default and the reference, leaves params and grads unchanged, without momentum, with momentum, with momentum and L2 decay")
    @TestFactory
    Stream<DynamicTest> sgdForeach(TckContext tck) {
        List<SgdStep> steps = List.of(new SgdStep(0.1, 0, 0), new SgdStep(0.05, 0.9, 0), new SgdStep(0.02, 0.8, 0.1));
        List<Shape> shapes = List.of(Shape.of(3, 4), Shape.of(7), Shape.scalar(), Shape.of(0, 3), Shape.of(2, 5));
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            for (SgdStep h : steps) {
                String name = "sgd foreach lr=" + h.learningRate() + " momentum=" + h.momentum() + " wd=" + h.weightDecay()
                        + " 3 steps " + shapes;
                long seed = Data.seed(name);
                List<Operand> operands = new ArrayList<>();
                for (Shape shape : shapes) {
                    operands.add(Operand.random(shape, seed++));                // param
                    for (int t = 0; t < 3; t++) {
                        operands.add(Operand.random(shape, seed++));            // the gradient of step t
                    }
                    operands.add(Operand.random(shape, seed++, -0.5, 0.5));     // a buffer left by earlier steps
                }
                // a multiply-add per step, chained three times: a few ulps
                tests.add(fused(tck, name, dtype, Tolerance.of(dtype).times(4), (k, dt, in) -> sgdRun(k, in, h),
                        operands.toArray(Operand[]::new)));
            }
        }
        return tests.stream();
    }

    /**
     * Three chained foreach SGD steps as an optimizer runs them (inputs per tensor: param, three
     * gradients, buffer), closing what the contract says the caller closes; returns the final params
     * and buffers. Fails when a call changed a parameter or gradient it was given.
     */
    private static List<NativeArray> sgdRun(Kernels k, NativeArray[] in, SgdStep h) {
        int n = in.length / 5;
        boolean momentum = h.momentum() != 0;
        List<NativeArray> ps = new ArrayList<>();
        List<NativeArray> bs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ps.add(in[5 * i]);
            if (momentum) {
                bs.add(in[5 * i + 4]);
            }
        }
        for (int t = 0; t < 3; t++) {
            List<NativeArray> gs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                gs.add(in[5 * i + 1 + t]);
            }
            List<double[]> paramsBefore = ps.stream().map(k::toDoubles).toList();
            List<double[]> gradsBefore = gs.stream().map(k::toDoubles).toList();
            List<SgdResult> r = k.sgdUpdateForeach(List.copyOf(ps), gs, List.copyOf(bs), h);
            if (r.size() != n) {
                throw new AssertionFailedError(k.backendName() + " sgdUpdateForeach returned " + r.size() + " results for " + n + " parameters");
            }
            for (int i = 0; i < n; i++) {
                unchanged(k, "sgdUpdateForeach", "parameter " + i + " at step " + t, paramsBefore.get(i), ps.get(i));
                unchanged(k, "sgdUpdateForeach", "gradient " + i + " at step " + t, gradsBefore.get(i), gs.get(i));
                SgdResult ri = r.get(i);
                if (ri.param() == ps.get(i) || ri.param() == gs.get(i)) {
                    throw new AssertionFailedError(k.backendName() + " sgdUpdateForeach returned its input as the new parameter " + i);
                }
                if (momentum != (ri.buffer() != null)) {
                    throw new AssertionFailedError(k.backendName() + " sgdUpdateForeach: a buffer must come back exactly when the momentum is not 0");
                }
                if (momentum) {
                    if (ri.buffer() != bs.get(i)) {
                        bs.get(i).close();
                    }
                    bs.set(i, ri.buffer());
                }
                if (ps.get(i) != in[5 * i]) {
                    ps.get(i).close();
                }
                ps.set(i, ri.param());
            }
        }
        List<NativeArray> out = new ArrayList<>(ps);
        out.addAll(bs);
        return out;
    }

    @TckRule(id = "FUSED-RELU-1")
    @DisplayName("FUSED-RELU-1 reluBackward(g, x) equals g * (x > 0) (composed default) and the reference, for matrices, a scalar, an empty array and inputs of both signs")
    @TestFactory
    Stream<DynamicTest> reluBackward(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            // g * 1 and g * 0 are exact: the values agree bit for bit (only the sign of a zero may differ)
            Tolerance t = Tolerance.of(dtype);
            for (Shape shape : List.of(Shape.of(4, 5), Shape.of(128, 33), Shape.scalar(), Shape.of(0, 3), Shape.of(2, 3, 4))) {
                String name = "reluBackward " + shape;
                long seed = Data.seed(name);
                tests.add(fused(tck, name, dtype, t, (k, dt, in) -> k.reluBackward(in[0], in[1]),
                        Operand.random(shape, seed), Operand.random(shape, seed + 1, -1, 1)));
            }
        }
        return tests.stream();
    }

    @TckRule(id = "FUSED-BIASGRAD-1")
    @DisplayName("FUSED-BIASGRAD-1 biasGradient(g, shape) equals sum over the broadcast axes + reshape (composed default) and the reference: a linear layer's bias, a batched one, a keep-dims bias and nothing to sum")
    @TestFactory
    Stream<DynamicTest> biasGradient(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        record Case(Shape grad, Shape bias) {
        }
        for (DType dtype : tck.floatingDTypes()) {
            for (Case c : List.of(new Case(Shape.of(128, 10), Shape.of(10)), new Case(Shape.of(3, 4, 5), Shape.of(5)),
                    new Case(Shape.of(3, 4, 5), Shape.of(1, 5)), new Case(Shape.of(2, 3, 4), Shape.of(2, 1, 4)),
                    new Case(Shape.of(4, 5), Shape.of(4, 5)), new Case(Shape.of(0, 5), Shape.of(5)))) {
                String name = "biasGradient " + c.grad() + " -> " + c.bias();
                // a sum over up to 128 rows: the order of the additions may differ
                tests.add(fused(tck, name, dtype, Tolerance.of(dtype).times(8), (k, dt, in) -> k.biasGradient(in[0], c.bias()),
                        Operand.random(c.grad(), Data.seed(name))));
            }
        }
        return tests.stream();
    }

    @TckRule(id = "FUSED-XENT-1")
    @DisplayName("FUSED-XENT-1 softmaxCrossEntropy equals logSumExp - sum(target * logits) (composed default) and the reference, one-hot and soft targets, any axis, logits near 1000, non-finite logits, a broadcast target, small and large inputs")
    @TestFactory
    Stream<DynamicTest> crossEntropy(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            Tolerance t = Tolerance.of(dtype).times(4);
            tests.add(fused(tck, "one-hot [4,5] axis -1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], -1),
                    Operand.random(Shape.of(4, 5), 1, -3, 3), oneHot(4, 5, new int[] {0, 4, 2, 2})));
            tests.add(fused(tck, "soft targets [3,6] axis 1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], 1),
                    Operand.random(Shape.of(3, 6), 2, -3, 3), softTargets(3, 6, 3)));
            tests.add(fused(tck, "class axis 0 [5,3]", dtype, t, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], 0),
                    Operand.random(Shape.of(5, 3), 4, -3, 3), Operand.of(Shape.of(5, 3), transpose(oneHot(3, 5, new int[] {1, 0, 4}).values(), 3, 5))));
            tests.add(fused(tck, "rank 3 [2,3,4] axis 1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], 1),
                    Operand.random(Shape.of(2, 3, 4), 5, -3, 3), Operand.random(Shape.of(2, 3, 4), 6, 0, 0.5)));
            // lse - target.logits cancels about 1000 to under 1: allow a few ulps of 1000
            Tolerance large = new Tolerance(t.rtol(), dtype == DType.FLOAT32 ? 5e-4 : 1e-11);
            tests.add(fused(tck, "large logits [2,3]", dtype, large, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], -1),
                    Operand.of(Shape.of(2, 3), 1000, 1001, 1002, -1000, -999, -1001), oneHot(2, 3, new int[] {2, 0})));
            // a classifier's batch (the benchmarks' shape) and a soft target in the middle of a rank-3 array
            tests.add(fused(tck, "one-hot [128,10] axis -1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], -1),
                    Operand.random(Shape.of(128, 10), 7, -4, 4), oneHot(128, 10, labels(128, 10))));
            // non-finite logits: +inf where the target is 1 (an infinite max), -inf where it is 1 (+inf loss), -inf where it
            // is 0 (0 * -inf is NaN in the composed product), a NaN, and a row of -inf (an infinite max of -inf)
            double inf = Double.POSITIVE_INFINITY;
            tests.add(fused(tck, "non-finite logits [5,3]", dtype, t, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], -1),
                    Operand.of(Shape.of(5, 3), 1, inf, 0, -inf, 0, 1, -inf, 0, 1, Double.NaN, 0, 1, -inf, -inf, -inf),
                    oneHot(5, 3, new int[] {1, 0, 2, 1, 0})));
            // a target broadcast along the batch and logits above the size a backend may handle on the host: both may
            // take another route than the small same-shape case
            tests.add(fused(tck, "broadcast target [4,5] with [1,5]", dtype, t, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], -1),
                    Operand.random(Shape.of(4, 5), 8, -3, 3), softTargets(1, 5, 9)));
            tests.add(fused(tck, "large [40,1000] axis 1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropy(in[0], in[1], 1),
                    Operand.random(Shape.of(40, 1000), 10, -3, 3), oneHot(40, 1000, labels(40, 1000))));
        }
        return tests.stream();
    }

    @TckRule(id = "FUSED-XENT-2")
    @DisplayName("FUSED-XENT-2 softmaxCrossEntropyBackward equals g * (softmax(logits) - target) with g broadcast along the class axis (composed default) and the reference: one-hot and soft targets, any axis, logits near 1000, non-finite logits, a broadcast target, small and large inputs")
    @TestFactory
    Stream<DynamicTest> crossEntropyBackward(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            Tolerance t = Tolerance.of(dtype).times(4);
            tests.add(fused(tck, "one-hot [128,10] axis -1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropyBackward(in[0], in[1], in[2], -1),
                    Operand.random(Shape.of(128), 11, 0.5, 1.5), Operand.random(Shape.of(128, 10), 12, -4, 4),
                    oneHot(128, 10, labels(128, 10))));
            tests.add(fused(tck, "soft targets [3,6] axis 1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropyBackward(in[0], in[1], in[2], 1),
                    Operand.random(Shape.of(3), 13, -2, 2), Operand.random(Shape.of(3, 6), 14, -3, 3), softTargets(3, 6, 15)));
            tests.add(fused(tck, "class axis 0 [5,3]", dtype, t, (k, dt, in) -> k.softmaxCrossEntropyBackward(in[0], in[1], in[2], 0),
                    Operand.random(Shape.of(3), 16, -2, 2), Operand.random(Shape.of(5, 3), 17, -3, 3),
                    Operand.of(Shape.of(5, 3), transpose(oneHot(3, 5, new int[] {1, 0, 4}).values(), 3, 5))));
            tests.add(fused(tck, "rank 3 [2,3,4] axis 1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropyBackward(in[0], in[1], in[2], 1),
                    Operand.random(Shape.of(2, 4), 18, -2, 2), Operand.random(Shape.of(2, 3, 4), 19, -3, 3),
                    Operand.random(Shape.of(2, 3, 4), 20, 0, 0.5)));
            tests.add(fused(tck, "large logits [2,3]", dtype, t, (k, dt, in) -> k.softmaxCrossEntropyBackward(in[0], in[1], in[2], -1),
                    Operand.of(Shape.of(2), 1, -0.5), Operand.of(Shape.of(2, 3), 1000, 1001, 1002, -1000, -999, -1001),
                    oneHot(2, 3, new int[] {2, 0})));
            double inf = Double.POSITIVE_INFINITY;
            tests.add(fused(tck, "non-finite logits [3,3]", dtype, t, (k, dt, in) -> k.softmaxCrossEntropyBackward(in[0], in[1], in[2], -1),
                    Operand.of(Shape.of(3), 1, 1, 1), Operand.of(Shape.of(3, 3), -inf, 0, 1, Double.NaN, 0, 1, inf, 0, 1),
                    oneHot(3, 3, new int[] {1, 0, 2})));
            tests.add(fused(tck, "broadcast target [4,5] with [1,5]", dtype, t, (k, dt, in) -> k.softmaxCrossEntropyBackward(in[0], in[1], in[2], -1),
                    Operand.random(Shape.of(4), 21, -2, 2), Operand.random(Shape.of(4, 5), 22, -3, 3), softTargets(1, 5, 23)));
            tests.add(fused(tck, "large [40,1000] axis 1", dtype, t, (k, dt, in) -> k.softmaxCrossEntropyBackward(in[0], in[1], in[2], 1),
                    Operand.random(Shape.of(40), 24, -2, 2), Operand.random(Shape.of(40, 1000), 25, -3, 3),
                    oneHot(40, 1000, labels(40, 1000))));
        }
        return tests.stream();
    }

    /** Labels spread over the classes: row r gets (7r + 3) mod classes. */
    static int[] labels(int rows, int classes) {
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = (7 * r + 3) % classes;
        }
        return labels;
    }

    static Operand oneHot(int rows, int classes, int[] labels) {
        double[] v = new double[rows * classes];
        for (int r = 0; r < rows; r++) {
            v[r * classes + labels[r]] = 1;
        }
        return Operand.of(Shape.of(rows, classes), v);
    }

    static Operand softTargets(int rows, int classes, long seed) {
        double[] v = Data.uniform(seed, rows * classes, 0.1, 1);
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < classes; c++) {
                s += v[r * classes + c];
            }
            for (int c = 0; c < classes; c++) {
                v[r * classes + c] /= s;
            }
        }
        return Operand.of(Shape.of(rows, classes), v);
    }

    static double[] transpose(double[] v, int rows, int cols) {
        double[] t = new double[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = v[r * cols + c];
            }
        }
        return t;
    }
}
