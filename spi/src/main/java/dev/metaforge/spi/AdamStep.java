package dev.metaforge.spi;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * Hyper-parameters of one Adam/AdamW update, for {@link Kernels#adamUpdate}.
 *
 * @param learningRate          step size
 * @param beta1                 first-moment decay
 * @param beta2                 second-moment decay
 * @param epsilon               denominator guard, added after the square root (as PyTorch does)
 * @param weightDecay           L2 coefficient
 * @param decoupledWeightDecay  true for AdamW (decay applied to the parameter), false for Adam (added to the gradient)
 * @param step                  1-based step count used for bias correction
 *
 * <p>{@link #applyFloat32} and {@link #applyFloat64} are the update as one pass over host memory,
 * for CPU backends that can see their arrays' memory: the arithmetic of the composed
 * {@link Kernels#adamUpdate} default, operation by operation in the same order, each result
 * rounded to the dtype and every scalar first rounded to it (as the native scalar kernels do), so
 * the values are those of the composed kernel (TCK rules FUSED-ADAM-1/2), with one deliberate
 * difference: <b>the new moments are flushed near zero</b>. Each new {@code m} and {@code v} goes
 * through {@code (x + c) - c} with {@code c = 2^-100} (float32; {@code 2^-960} in float64), which
 * leaves every moment of magnitude at least {@code 2^-75 ≈ 2.6e-23} exactly as it was, rounds
 * smaller ones to multiples of {@code 2^-123} and so turns subnormals into zero. Why: a weight whose
 * gradient is exactly zero (a dead ReLU unit's inputs) has {@code m} decay by {@code beta1} each
 * step into the subnormal range, where {@code 0.9 * m} rounds back to {@code m} and it stays
 * forever; every multiply with a subnormal takes a microcode assist on x86, about ten times the
 * normal cost. In the 784-256-256-10 MLP benchmark that made Adam 4.0 ms of a 6 ms step; flushed, 0.7
 * ms. PyTorch's default (no flush-to-zero) pays it too; TensorFlow and XLA flush subnormals by
 * default. Moments that small cannot move a parameter: the update is {@code m / (sqrt(v) + eps)}
 * with {@code eps} around {@code 1e-8}. ({@code AdamStepTest} proves both halves.)
 *
 * <p>Why in Java: the composed update is about eleven passes over each tensor and as many native
 * calls per tensor; one pass through chunks that stay in L1, which the JIT vectorises, is cheaper.
 */
public record AdamStep(double learningRate, double beta1, double beta2, double epsilon,
                       double weightDecay, boolean decoupledWeightDecay, long step) {
    public AdamStep {
        if (step < 1) {
            throw new IllegalArgumentException("Adam step count is 1-based, got " + step);
        }
    }

    /** Elements staged per chunk: four arrays of this many floats stay in L1 and the loops vectorise. */
    private static final int CHUNK = 512;
    /** {@code (x + FLUSH32) - FLUSH32} is x for |x| >= 2^-75 and 0 for |x| <= 2^-124: see the class comment. */
    private static final float FLUSH32 = 0x1p-100f;
    /** The float64 counterpart: x for |x| >= 2^-906, 0 for |x| <= 2^-1013. */
    private static final double FLUSH64 = 0x1p-960;

    /**
     * This update over float32 host buffers: reads {@code param}, {@code grad}, {@code m},
     * {@code v} (all with {@code remaining()} elements from their positions) and writes the new
     * moments to {@code newM}, {@code newV} and the new parameter to {@code newParam}. {@code newM}
     * may be {@code m} and {@code newV} may be {@code v} (an in-place update of donated moments);
     * {@code newParam} must not overlap {@code param} or {@code grad} unless it is {@code param}
     * itself. Positions are not moved.
     *
     * @throws IllegalArgumentException when the buffers' element counts differ
     */
    public void applyFloat32(FloatBuffer param, FloatBuffer grad, FloatBuffer m, FloatBuffer v,
                             FloatBuffer newParam, FloatBuffer newM, FloatBuffer newV) {
        int n = sameCount(param.remaining(), grad.remaining(), m.remaining(), v.remaining(),
                newParam.remaining(), newM.remaining(), newV.remaining());
        float wd = (float) weightDecay;
        boolean coupled = weightDecay != 0 && !decoupledWeightDecay;
        boolean decoupled = weightDecay != 0 && decoupledWeightDecay;
        float b1 = (float) beta1;
        float oneMinusB1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float oneMinusB2 = (float) (1 - beta2);
        float c2 = (float) (1 - Math.pow(beta2, step));
        float eps = (float) epsilon;
        float lrOverC1 = (float) (learningRate / (1 - Math.pow(beta1, step)));
        float keep = (float) (1 - learningRate * weightDecay);
        float[] p = new float[Math.min(CHUNK, n)];
        float[] g = new float[p.length];
        float[] mc = new float[p.length];
        float[] vc = new float[p.length];
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            param.get(param.position() + from, p, 0, len);
            grad.get(grad.position() + from, g, 0, len);
            m.get(m.position() + from, mc, 0, len);
            v.get(v.position() + from, vc, 0, len);
            if (coupled) {
                // the composed default's grad + param * wd
                for (int i = 0; i < len; i++) {
                    g[i] = g[i] + p[i] * wd;
                }
            }
            for (int i = 0; i < len; i++) {
                // flushed near zero (see the class comment); branch-free, so the loop still vectorises
                float mi = (mc[i] * b1 + g[i] * oneMinusB1 + FLUSH32) - FLUSH32;
                float vi = (vc[i] * b2 + (g[i] * g[i]) * oneMinusB2 + FLUSH32) - FLUSH32;
                mc[i] = mi;
                vc[i] = vi;
                // a float's square root through double is the correctly rounded float square root
                g[i] = mi / ((float) Math.sqrt(vi / c2) + eps) * lrOverC1;
            }
            if (decoupled) {
                for (int i = 0; i < len; i++) {
                    p[i] = p[i] * keep - g[i];
                }
            } else {
                for (int i = 0; i < len; i++) {
                    p[i] = p[i] - g[i];
                }
            }
            newM.put(newM.position() + from, mc, 0, len);
            newV.put(newV.position() + from, vc, 0, len);
            newParam.put(newParam.position() + from, p, 0, len);
        }
    }

    /** {@link #applyFloat32} in float64, for float64 host buffers. */
    public void applyFloat64(DoubleBuffer param, DoubleBuffer grad, DoubleBuffer m, DoubleBuffer v,
                             DoubleBuffer newParam, DoubleBuffer newM, DoubleBuffer newV) {
        int n = sameCount(param.remaining(), grad.remaining(), m.remaining(), v.remaining(),
                newParam.remaining(), newM.remaining(), newV.remaining());
        boolean coupled = weightDecay != 0 && !decoupledWeightDecay;
        boolean decoupled = weightDecay != 0 && decoupledWeightDecay;
        double oneMinusB1 = 1 - beta1;
        double oneMinusB2 = 1 - beta2;
        double c2 = 1 - Math.pow(beta2, step);
        double lrOverC1 = learningRate / (1 - Math.pow(beta1, step));
        double keep = 1 - learningRate * weightDecay;
        double[] p = new double[Math.min(CHUNK, n)];
        double[] g = new double[p.length];
        double[] mc = new double[p.length];
        double[] vc = new double[p.length];
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            param.get(param.position() + from, p, 0, len);
            grad.get(grad.position() + from, g, 0, len);
            m.get(m.position() + from, mc, 0, len);
            v.get(v.position() + from, vc, 0, len);
            if (coupled) {
                for (int i = 0; i < len; i++) {
                    g[i] = g[i] + p[i] * weightDecay;
                }
            }
            for (int i = 0; i < len; i++) {
                double mi = (mc[i] * beta1 + g[i] * oneMinusB1 + FLUSH64) - FLUSH64;
                double vi = (vc[i] * beta2 + (g[i] * g[i]) * oneMinusB2 + FLUSH64) - FLUSH64;
                mc[i] = mi;
                vc[i] = vi;
                g[i] = mi / (Math.sqrt(vi / c2) + epsilon) * lrOverC1;
            }
            if (decoupled) {
                for (int i = 0; i < len; i++) {
                    p[i] = p[i] * keep - g[i];
                }
            } else {
                for (int i = 0; i < len; i++) {
                    p[i] = p[i] - g[i];
                }
            }
            newM.put(newM.position() + from, mc, 0, len);
            newV.put(newV.position() + from, vc, 0, len);
            newParam.put(newParam.position() + from, p, 0, len);
        }
    }

    private static int sameCount(int param, int... others) {
        for (int o : others) {
            if (o != param) {
                throw new IllegalArgumentException("Adam host update: param, grad, m, v and the outputs need one element count, got "
                        + param + " and " + o);
            }
        }
        return param;
    }
}
