package dev.metaforge.plugins.hyper;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.DType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Model-level gradient check: the reverse-mode gradient of a scalar loss with respect to every
 * parameter against central finite differences {@code (f(p + h) − f(p − h)) / 2h}, the independent
 * reference. Meant for float64 (h = 1e-6). Large tensors are checked at a random sample of entries.
 * The public version is {@code dev.metaforge.tck.GradientCheck#assertEntries} (and
 * {@code assertDirectional}); this copy stays because plugins may not depend on the TCK, even in
 * test scope: the TCK depends on the plugins at runtime (a reactor cycle) and the plugins' enforcer
 * rule bans {@code metaforge-tck}.
 */
public final class GradientCheck {
    private GradientCheck() {
    }

    /**
     * Asserts that the gradient of {@code loss} at {@code params} matches finite differences within
     * {@code tolerance × max(1, |analytic|, |numeric|)} on up to {@code entriesPerTensor} entries of
     * each tensor, and that the gradient is not identically zero (a check that cannot fail is no check).
     *
     * @return the largest absolute difference seen
     */
    public static double check(Engine engine, Params params, Function<Params, Tensor> loss, double tolerance, int entriesPerTensor,
                               long seed) {
        requireNonNull(engine, "engine is null");
        requireNonNull(params, "params is null");
        requireNonNull(loss, "loss is null");
        if (engine.defaultDType() != DType.FLOAT64) {
            throw new IllegalArgumentException("GradientCheck needs a FLOAT64 engine for meaningful finite differences, got " + engine);
        }
        double h = 1e-6;
        double worst = 0;
        double largestGradient = 0;
        SplittableRandom random = new SplittableRandom(seed);
        try (Scope scope = Scope.open()) {
            Params tracked = params.requiringGrad();
            Params analytic = Grad.of(loss.apply(tracked)).wrt(tracked);
            for (String name : params.names()) {
                Tensor p = params.get(name);
                double[] base = p.toDoubles();
                double[] grad = analytic.get(name).toDoubles();
                int n = base.length;
                int checks = Math.min(n, entriesPerTensor);
                for (int c = 0; c < checks; c++) {
                    int i = checks == n ? c : random.nextInt(n);
                    double numeric = (valueAt(engine, params, loss, name, base, i, h) - valueAt(engine, params, loss, name, base, i, -h)) / (2 * h);
                    double diff = Math.abs(numeric - grad[i]);
                    worst = Math.max(worst, diff);
                    largestGradient = Math.max(largestGradient, Math.abs(grad[i]));
                    double scale = Math.max(1.0, Math.max(Math.abs(numeric), Math.abs(grad[i])));
                    if (diff > tolerance * scale) {
                        throw new AssertionError("gradient of '" + name + "' " + p.shape() + " at flat index " + i + ": reverse mode "
                                + grad[i] + ", finite differences " + numeric + " (difference " + diff + ", tolerance "
                                + tolerance * scale + ")");
                    }
                }
            }
        }
        if (largestGradient == 0) {
            throw new AssertionError("every checked gradient entry is exactly zero: the check would pass for any gradient");
        }
        return worst;
    }

    private static double valueAt(Engine engine, Params params, Function<Params, Tensor> loss, String name, double[] base, int index,
                                  double delta) {
        double[] moved = base.clone();
        moved[index] += delta;
        try (NoGrad noGrad = NoGrad.enter(); Scope scope = Scope.open()) {
            Map<String, Tensor> replaced = new LinkedHashMap<>(params.asMap());
            Tensor original = params.get(name);
            replaced.put(name, engine.tensor(moved, original.shape(), original.dtype()));
            return loss.apply(Params.of(replaced)).item();
        }
    }
}
