package dev.metaforge.api.tensor;

import static dev.metaforge.api.tensor.AutodiffTest.assertClose;

import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backward pass's shortcuts give the gradients of the plain rules: slices of one tensor joined by one
 * concat (SliceGradients), the weight gradient of a batch of inputs times one matrix folded into one GEMM,
 * and size-1 broadcast axes reshaped instead of summed. Each case is checked, first and second order,
 * against float64 central differences of the function itself (an independent reference: no VJP rule is
 * involved), on the reference backend.
 */
class BackwardShortcutsTest {
    private static final double H = 1e-6;
    private Engine engine;
    private Scope scope;

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
    void splitIntoAdjacentPartsTilesTheGradient() {
        // A flat vector cut into three parameters, as ParamLayout.split does for a hypernetwork's output.
        check(x -> x.slice(0, 0, 3).pow(3.0).sum()
                .add(x.slice(0, 3, 7).reshape(2, 2).matmul(x.slice(0, 7, 11).reshape(2, 2)).sin().sum()), 11);
    }

    @Test
    void slicesWithGapsOutOfOrderAndADenseUse() {
        // Pieces reached in reverse order, zeros between them and after, plus a use of the whole tensor.
        check(x -> x.slice(0, 6, 8).exp().sum().add(x.slice(0, 1, 3).square().sum()).add(x.mul(0.5).sin().sum()), 10);
    }

    @Test
    void overlappingSlicesAddUp() {
        check(x -> x.slice(0, 0, 6).square().sum().add(x.slice(0, 4, 9).pow(3.0).sum()), 9);
    }

    @Test
    void slicesOnDifferentAxesAndTwoAxesAtOnce() {
        check(x -> {
            Tensor m = x.reshape(4, 5);
            return m.slice(0, 1, 3).square().sum().add(m.slice(1, 2, 4).pow(3.0).sum())
                    .add(m.slice(new int[] {1, 1}, new int[] {3, 4}).sin().sum());
        }, 20);
    }

    @Test
    void slicesOfTheRowsOfAMatrix() {
        // The first hypernetwork layer's weight split into its context and chunk-embedding rows.
        Tensor ctx = engine.tensor(new double[] {0.3, -0.7}, 1, 2);
        Tensor chunks = engine.tensor(new double[] {0.1, 0.2, -0.4, 0.5, 0.9, -0.3}, 3, 2);
        check(x -> {
            Tensor w = x.reshape(4, 3);
            return ctx.matmul(w.slice(0, 0, 2)).expandDims(1).add(chunks.matmul(w.slice(0, 2, 4))).tanh().sum();
        }, 12);
    }

    @Test
    void weightGradientOfABatchTimesOneMatrix() {
        Tensor in = engine.tensor(seq(24, 0.37), 2, 3, 4);
        Tensor bias = engine.tensor(seq(5, 0.11), 5);
        check(w -> in.linear(w.reshape(4, 5), bias).tanh().sum(), 20);
        check(w -> in.matmul(w.reshape(4, 5)).sin().sum(), 20);
        // the input's gradient still comes back per batch entry, and second order mixes both
        Tensor w = engine.tensor(seq(20, 0.23), 4, 5);
        check(x -> x.reshape(2, 3, 4).linear(w, bias).tanh().sum(), 24);
        check(x -> {
            Tensor xs = x.slice(0, 0, 12).reshape(1, 3, 4);
            Tensor ws = x.slice(0, 12, 32).reshape(4, 5);
            return xs.matmul(ws).tanh().sum();
        }, 32);
    }

    @Test
    void sizeOneBroadcastAxesNeedNoSum() {
        Tensor other = engine.tensor(seq(12, 0.41), 1, 3, 4);
        check(x -> x.reshape(3, 4).add(other).square().sum(), 12);
        Tensor wide = engine.tensor(seq(24, 0.41), 2, 3, 4);
        check(x -> x.reshape(1, 3, 1).add(wide).tanh().sum(), 3);
        check(x -> x.reshape(4).broadcastTo(dev.metaforge.spi.Shape.of(2, 1, 3, 4)).mul(wide.reshape(2, 1, 3, 4)).sin().sum(), 4);
    }

    @Test
    void aLossEndingInAMeanOrSumSeedsItsInputInOneFill() {
        check(x -> x.reshape(3, 4).sin().mean(), 12);
        check(x -> x.reshape(3, 4).square().mean(new int[] {0, 1}, true), 12);
        check(x -> x.reshape(2, 6).tanh().sum(), 12);
        // float32: the same bits as the rules' path from an explicit unit seed (1 / 7 rounded once, in float32)
        Engine f32 = Engine.of(new ReferenceBackend(), DType.FLOAT32);
        Tensor x = f32.tensor(seq(21, 0.7), 3, 7).requiresGrad();
        Tensor loss = x.square().mean(new int[] {1}, false).sum(new int[] {0}, true).reshape(1).mean();
        Tensor out = x.square().mean();
        float[] implicit = Grad.of(out).wrt(x).toFloats();
        float[] explicit = Grad.of(out).seed(f32.full(out.shape(), 1.0, DType.FLOAT32)).wrt(x).toFloats();
        org.junit.jupiter.api.Assertions.assertArrayEquals(explicit, implicit);
        assertClose(Grad.of(loss).seed(f32.full(loss.shape(), 1.0, DType.FLOAT32)).wrt(x).toDoubles(),
                Grad.of(loss).wrt(x).toDoubles(), 0, "mean of a sum of means");
    }

    /** First- and second-order gradients of {@code f} at a fixed point against central differences. */
    private void check(Function<Tensor, Tensor> f, int n) {
        double[] x0 = seq(n, 0.53);
        double[] v = seq(n, 0.29);
        double[] grad = gradient(f, x0);
        double[] fd = new double[n];
        for (int i = 0; i < n; i++) {
            double[] up = x0.clone();
            double[] down = x0.clone();
            up[i] += H;
            down[i] -= H;
            fd[i] = (value(f, up) - value(f, down)) / (2 * H);
        }
        assertClose(fd, grad, 1e-6, "gradient");
        // Hessian-vector product through the recorded backward pass vs differences of the gradient along v
        Tensor x = engine.tensor(x0, n).requiresGrad();
        Tensor g = Grad.of(f.apply(x)).withGraph().wrt(x);
        double[] hv = Grad.of(g.mul(engine.tensor(v, n)).sum()).wrt(x).toDoubles();
        double[] gUp = gradient(f, axpy(x0, v, H));
        double[] gDown = gradient(f, axpy(x0, v, -H));
        double[] hvFd = new double[n];
        for (int i = 0; i < n; i++) {
            hvFd[i] = (gUp[i] - gDown[i]) / (2 * H);
        }
        assertClose(hvFd, hv, 1e-5, "Hessian-vector product");
    }

    private double[] gradient(Function<Tensor, Tensor> f, double[] at) {
        Tensor x = engine.tensor(at, at.length).requiresGrad();
        return Grad.of(f.apply(x)).wrt(List.of(x)).get(0).toDoubles();
    }

    private double value(Function<Tensor, Tensor> f, double[] at) {
        return f.apply(engine.tensor(at, at.length)).item();
    }

    private static double[] axpy(double[] x, double[] v, double a) {
        double[] out = x.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += a * v[i];
        }
        return out;
    }

    /** Deterministic, varied values in [-1, 1]. */
    private static double[] seq(int n, double phase) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = Math.sin(1.7 * i + phase) * 0.9;
        }
        return out;
    }
}
