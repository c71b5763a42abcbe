package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * MIP's constant-norm input encoding (Ortiz, Guttag, Dalca, "Magnitude Invariant Parametrizations
 * Improve Hypernetwork Learning", ICLR 2024): each condition γ ∈ [0, 1] becomes
 * [cos(πγ/2), sin(πγ/2)], so the encoded input has norm √k for k conditions whatever their values
 * (a raw γ near 0 would otherwise shrink the hypernetwork's input, output and gradients with it).
 *
 * <p>Layout: [..., k] → [..., 2k] = [cos(πγ₁/2) … cos(πγₖ/2), sin(πγ₁/2) … sin(πγₖ/2)].
 */
public final class MipEncoding {
    private MipEncoding() {
    }

    /**
     * Encodes conditions [..., k], which must lie in [0, 1]. They are not read back to check: that would copy
     * the context to the host on every forward pass. Conditions from a {@link dev.metaforge.api.hyper.ConditionedTask}
     * are checked where the task makes them ({@code ConditionedTask.checkConditions}); for a context built by
     * hand, call {@link #checkConditions(Tensor)} once.
     */
    public static Tensor encode(Tensor gamma) {
        requireNonNull(gamma, "gamma is null");
        Tensor angle = gamma.mul(Math.PI / 2);
        return Tensor.concat(List.of(angle.cos(), angle.sin()), -1);
    }

    /** Checks (on the host) that every condition is in [0, 1]; an error names the value and its index. */
    public static void checkConditions(Tensor gamma) {
        requireNonNull(gamma, "gamma is null");
        double[] v = gamma.toDoubles();
        for (int i = 0; i < v.length; i++) {
            if (!(v[i] >= 0.0 && v[i] <= 1.0)) {
                throw new IllegalArgumentException("MIP encoding: condition " + v[i] + " at " + index(gamma.shape().dims(), i)
                        + " of the context " + gamma.shape() + " is outside [0, 1]. MIP's constant-norm encoding"
                        + " [cos(πγ/2), sin(πγ/2)] is defined for conditions in [0, 1]: rescale the hyperparameter"
                        + " (e.g. (value - min) / (max - min)) before passing it");
            }
        }
    }

    private static String index(int[] dims, int flat) {
        int[] idx = new int[dims.length];
        int rest = flat;
        for (int d = dims.length - 1; d >= 0; d--) {
            idx[d] = rest % Math.max(dims[d], 1);
            rest /= Math.max(dims[d], 1);
        }
        return "index " + Arrays.toString(idx);
    }
}
