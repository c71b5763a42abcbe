package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.api.train.Objective;
import dev.metaforge.spi.DType;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.opentest4j.AssertionFailedError;

/**
 * Checks a reverse-mode gradient against central finite differences {@code (f(p + h·d) − f(p − h·d)) / 2h},
 * the independent reference the {@code MODEL-FAMILY-2} rule uses for every component example. Public
 * so a plugin author can prove a component's backward pass in their own tests, the way ours are proven.
 *
 * <p>Work in FLOAT64 (an engine with {@link DType#FLOAT64}): with h = 1e-6 the truncation error is
 * about h² and the rounding error about 1e-16 / h, so a correct gradient agrees to roughly 1e-8,
 * far inside the default relative tolerance of 1e-5, while a wrong backward is off by O(1). In
 * FLOAT32 the rounding error alone would be about 1e-1 and the check would prove nothing, so it is refused.
 *
 * <pre>{@code
 * Engine engine = Engine.of(new ReferenceBackend(), DType.FLOAT64);
 * try (Scope s = Scope.open()) {
 *     Module layer = new MyLayerSpec(4).build();
 *     Params p = layer.init(engine, RandomStream.of(1));
 *     Tensor x = engine.tensor(new double[] {0.1, -0.4, 0.3, 0.9}, Shape.of(1, 4), DType.FLOAT64);
 *     // a function Params -> scalar Tensor ...
 *     GradientCheck.assertDirectional("my-layer", p, q -> layer.apply(q, x).square().sum(), 7);
 *     // ... or a whole experiment's objective
 *     Objective objective = spec.build(new BuildContext(engine, registry, Path.of("."), 5));
 *     GradientCheck.assertDirectional("my experiment", objective, objective.init(RandomStream.of(5)), 7);
 * }
 * }</pre>
 *
 * <p>The loss is evaluated with gradient recording on, because some losses differentiate internally
 * (MAML's inner loop); the function must be deterministic: the same parameters give the same value.
 */
public final class GradientCheck {
    /** The finite-difference step, for FLOAT64. */
    public static final double DEFAULT_STEP = 1e-6;
    /** The default tolerance: {@code |analytic − numeric| <= 1e-8 + 1e-5 · |numeric|}. */
    public static final Tolerance DEFAULT_TOLERANCE = new Tolerance(1e-5, 1e-8);

    private GradientCheck() {
    }

    /**
     * The outcome of one directional check.
     *
     * @param analytic  the reverse-mode gradient dotted with the direction
     * @param numeric   the central finite difference along the direction
     * @param tolerance the accepted difference
     * @param step      the finite-difference step h
     */
    public record Result(double analytic, double numeric, double tolerance, double step) {
        /** {@code |analytic − numeric|}. */
        public double difference() {
            return Math.abs(analytic - numeric);
        }

        /** Whether the difference is within the tolerance (false for NaN). */
        public boolean passed() {
            return difference() <= tolerance;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "reverse mode %.10g, central differences %.10g (difference %.3g, tolerance %.3g, h %.0e)",
                    analytic, numeric, difference(), tolerance, step);
        }
    }

    /**
     * The training loss of {@code objective} at {@code step} as a function of the parameters; each
     * call draws from a fresh {@code RandomStream.of(seed)}, so every evaluation sees the same data.
     */
    public static Function<Params, Tensor> lossOf(Objective objective, long step, long seed) {
        requireNonNull(objective, "objective is null");
        return p -> objective.loss(p, step, RandomStream.of(seed));
    }

    /**
     * Measures the directional derivative of {@code loss} at {@code at} along a random direction
     * (uniform in [-1, 1) per entry, from {@code directionSeed}) both ways, without asserting.
     *
     * @throws IllegalArgumentException when a parameter is not FLOAT64, or the loss is not a scalar
     */
    public static Result directional(Params at, Function<Params, Tensor> loss, long directionSeed) {
        return directional(at, loss, directionSeed, DEFAULT_STEP, DEFAULT_TOLERANCE);
    }

    /** As {@link #directional(Params, Function, long)} with an explicit step and tolerance. */
    public static Result directional(Params at, Function<Params, Tensor> loss, long directionSeed, double step, Tolerance tolerance) {
        requireNonNull(at, "at is null");
        requireNonNull(loss, "loss is null");
        requireNonNull(tolerance, "tolerance is null");
        if (!(step > 0)) {
            throw new IllegalArgumentException("finite-difference step must be > 0, got " + step);
        }
        requireFloat64(at);
        try (Scope s = Scope.open()) {
            Params direction = randomDirection(at, directionSeed);
            Params tracked = at.requiringGrad();
            Tensor value = scalar(loss.apply(tracked));
            Params gradient = Grad.of(value).wrt(tracked);
            double analytic = 0;
            for (String name : at.names()) {
                double[] d = direction.get(name).toDoubles();
                double[] g = gradient.get(name).toDoubles();
                for (int i = 0; i < d.length; i++) {
                    analytic += g[i] * d[i];
                }
            }
            double plus = value(loss, at.zip(direction, (p, d) -> p.add(d.mul(step))));
            double minus = value(loss, at.zip(direction, (p, d) -> p.add(d.mul(-step))));
            double numeric = (plus - minus) / (2 * step);
            return new Result(analytic, numeric, tolerance.allowed(numeric), step);
        }
    }

    /**
     * Asserts that the reverse-mode directional derivative of {@code loss} matches central finite
     * differences within {@link #DEFAULT_TOLERANCE}, and that it is not zero both ways (a check that
     * would pass for any gradient proves nothing).
     *
     * @param what names the case in the failure message
     * @throws AssertionFailedError naming {@code what}, both values, the difference and the tolerance
     */
    public static Result assertDirectional(String what, Params at, Function<Params, Tensor> loss, long directionSeed) {
        return assertDirectional(what, at, loss, directionSeed, DEFAULT_STEP, DEFAULT_TOLERANCE);
    }

    /** As {@link #assertDirectional(String, Params, Function, long)} with an explicit step and tolerance. */
    public static Result assertDirectional(String what, Params at, Function<Params, Tensor> loss, long directionSeed,
                                           double step, Tolerance tolerance) {
        requireNonNull(what, "what is null");
        Result r = directional(at, loss, directionSeed, step, tolerance);
        if (!r.passed()) {
            throw new AssertionFailedError(what + ": the gradient does not match finite differences of the loss along a random"
                    + " direction: " + r + "; the backward pass (or a stopGradient/custom op in the forward) is wrong",
                    r.numeric(), r.analytic());
        }
        if (r.analytic() == 0 && r.numeric() == 0) {
            throw new AssertionFailedError(what + ": the directional derivative is exactly zero both ways, so the check cannot"
                    + " tell a right gradient from a wrong one; make the loss depend on the parameters (or pick other ones)");
        }
        return r;
    }

    /**
     * Asserts the gradient of {@code objective}'s training loss at step 0 (data from seed
     * {@code seed}) at {@code at}, along a random direction from {@code seed + 1}.
     */
    public static Result assertDirectional(String what, Objective objective, Params at, long seed) {
        return assertDirectional(what, at, lossOf(objective, 0, seed), seed + 1);
    }

    /**
     * Entry by entry: the gradient of {@code loss} with respect to up to {@code entriesPerTensor}
     * entries of each parameter (all of them when the tensor is smaller, else a random sample from
     * {@code seed}) against central differences, within {@code tolerance × max(1, |analytic|, |numeric|)}.
     * Slower than {@link #assertDirectional} (two evaluations per entry) but names the entry that is wrong.
     *
     * @return the largest absolute difference seen
     * @throws AssertionFailedError naming {@code what}, the parameter, its shape and the flat index;
     *         also when every checked entry is exactly zero
     */
    public static double assertEntries(String what, Params at, Function<Params, Tensor> loss, double tolerance,
                                       int entriesPerTensor, long seed) {
        requireNonNull(what, "what is null");
        requireNonNull(at, "at is null");
        requireNonNull(loss, "loss is null");
        if (entriesPerTensor < 1) {
            throw new IllegalArgumentException("entriesPerTensor must be >= 1, got " + entriesPerTensor);
        }
        requireFloat64(at);
        double h = DEFAULT_STEP;
        double worst = 0;
        double largest = 0;
        SplittableRandom random = new SplittableRandom(seed);
        try (Scope s = Scope.open()) {
            Params tracked = at.requiringGrad();
            Params analytic = Grad.of(scalar(loss.apply(tracked))).wrt(tracked);
            for (String name : at.names()) {
                Tensor p = at.get(name);
                double[] base = p.toDoubles();
                double[] grad = analytic.get(name).toDoubles();
                int checks = Math.min(base.length, entriesPerTensor);
                for (int c = 0; c < checks; c++) {
                    int i = checks == base.length ? c : random.nextInt(base.length);
                    double numeric = (value(loss, moved(at, name, base, i, h)) - value(loss, moved(at, name, base, i, -h))) / (2 * h);
                    double diff = Math.abs(numeric - grad[i]);
                    worst = Math.max(worst, diff);
                    largest = Math.max(largest, Math.abs(grad[i]));
                    double allowed = tolerance * Math.max(1.0, Math.max(Math.abs(numeric), Math.abs(grad[i])));
                    if (!(diff <= allowed)) {
                        throw new AssertionFailedError(what + ": gradient of '" + name + "' " + p.shape() + " at flat index " + i
                                + ": reverse mode " + grad[i] + ", central differences " + numeric + " (difference " + diff
                                + ", tolerance " + allowed + ")", numeric, grad[i]);
                    }
                }
            }
        }
        if (largest == 0) {
            throw new AssertionFailedError(what + ": every checked gradient entry is exactly zero: the check would pass for any gradient");
        }
        return worst;
    }

    private static Params moved(Params at, String name, double[] base, int index, double delta) {
        double[] values = base.clone();
        values[index] += delta;
        Tensor original = at.get(name);
        Map<String, Tensor> replaced = new LinkedHashMap<>(at.asMap());
        replaced.put(name, original.engine().tensor(values, original.shape(), original.dtype()));
        return Params.of(replaced);
    }

    private static double value(Function<Params, Tensor> loss, Params params) {
        // Recording stays on: some losses differentiate internally (MAML's inner loop).
        try (Scope s = Scope.open()) {
            return scalar(loss.apply(params)).item();
        }
    }

    private static Tensor scalar(Tensor t) {
        requireNonNull(t, "the loss function returned null");
        if (t.size() != 1) {
            throw new IllegalArgumentException("the loss must be a scalar, got shape " + t.shape());
        }
        return t;
    }

    private static void requireFloat64(Params params) {
        for (String name : params.names()) {
            DType dtype = params.get(name).dtype();
            if (dtype != DType.FLOAT64) {
                throw new IllegalArgumentException("GradientCheck needs FLOAT64 parameters (finite differences in " + dtype
                        + " are dominated by rounding), but '" + name + "' is " + dtype + "; use Engine.of(backend, DType.FLOAT64)");
            }
        }
    }

    private static Params randomDirection(Params like, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return like.map(t -> {
            double[] d = new double[(int) t.size()];
            for (int i = 0; i < d.length; i++) {
                d[i] = r.nextDouble() * 2 - 1;
            }
            return t.engine().tensor(d, t.shape(), t.dtype());
        });
    }
}
