package dev.metaforge.api.graph;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.nn.Module;
import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Checks the neuron-permutation symmetry of a module and of the metanetworks that read it, with
 * random permutations drawn from {@link NeuronSymmetry} (tied groups move together, blocks move as
 * wholes, input and output neurons stay):
 *
 * <ul>
 *   <li>{@link #checkFunction}: the module computes the same outputs with permuted parameters —
 *       proves the module's {@code describe()} and parameter axes tell the truth;</li>
 *   <li>{@link #checkInvariant}: a metanetwork's prediction about a network (accuracy, a score) is
 *       the same for permuted parameters, {@code f(P theta) = f(theta)};</li>
 *   <li>{@link #checkEquivariant}: a metanetwork that outputs new parameters permutes with its input,
 *       {@code f(P theta) = P f(theta)}.</li>
 * </ul>
 *
 * <p>Every trial uses a permutation that moves something (a check is never vacuous when the module
 * has permutable neurons); {@link #checkFunction} also fails when the permutation leaves the
 * parameters unchanged, which would prove nothing. Reports say how far off the worst entry was.
 *
 * <pre>{@code
 * PermutationHarness h = PermutationHarness.of(net).trials(5).tolerance(1e-9);
 * h.checkFunction(params, x).assertPassed();
 * h.checkInvariant(params, p -> metanet.predict(p)).assertPassed();
 * h.checkEquivariant(params, p -> metanet.edit(p)).assertPassed();
 * }</pre>
 */
public final class PermutationHarness {
    private final Module module;
    private final NeuronSymmetry symmetry;
    private final int trials;
    private final long seed;
    private final double tolerance;

    private PermutationHarness(Module module, NeuronSymmetry symmetry, int trials, long seed, double tolerance) {
        this.module = module;
        this.symmetry = symmetry;
        this.trials = trials;
        this.seed = seed;
        this.tolerance = tolerance;
    }

    /** A harness for {@code module}: 3 trials, seed 0, tolerance 1e-6 (relative to the output's scale). */
    public static PermutationHarness of(Module module) {
        requireNonNull(module, "module is null");
        return new PermutationHarness(module, NeuronSymmetry.of(module), 3, 0, 1e-6);
    }

    public PermutationHarness trials(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("trials must be >= 1, got " + n);
        }
        return new PermutationHarness(module, symmetry, n, seed, tolerance);
    }

    public PermutationHarness seed(long s) {
        return new PermutationHarness(module, symmetry, trials, s, tolerance);
    }

    /** Allowed deviation relative to {@code max(1, max |expected|)}. */
    public PermutationHarness tolerance(double t) {
        if (!(t >= 0)) {
            throw new IllegalArgumentException("tolerance must be >= 0, got " + t);
        }
        return new PermutationHarness(module, symmetry, trials, seed, t);
    }

    public NeuronSymmetry symmetry() {
        return symmetry;
    }

    /** The permutation of trial {@code trial} (the same ones every check of this harness uses). */
    public NeuronPermutation permutation(int trial) {
        RandomStream rng = RandomStream.of(seed);
        NeuronPermutation p = null;
        for (int t = 0; t <= trial; t++) {
            p = symmetry.random(rng);
        }
        return p;
    }

    /** {@code module.apply(P theta, x) == module.apply(theta, x)} for random permutations P. */
    public SymmetryReport checkFunction(Params params, Tensor input) {
        requireNonNull(params, "params is null");
        requireNonNull(input, "input is null");
        Worst worst = new Worst("function");
        try (Scope s = Scope.open()) {
            double[] expected = module.apply(params, input).toDoubles();
            for (int t = 0; t < trials; t++) {
                try (Scope trial = Scope.open()) {
                    NeuronPermutation p = permutation(t);
                    Params permuted = symmetry.apply(p, params);
                    if (p.movesSomething() && !differs(params, permuted)) {
                        return new SymmetryReport("function", trials, 0, tolerance, false, "trial " + t + ": permutation " + p
                                + " left the parameters unchanged, so the check proves nothing (constant parameters?)");
                    }
                    worst.compare(t, "output", p, expected, module.apply(permuted, input).toDoubles());
                }
            }
        }
        return worst.report(trials, tolerance);
    }

    /** {@code f(P theta) == f(theta)}: a prediction about the network must not see neuron order. */
    public SymmetryReport checkInvariant(Params params, Function<Params, Tensor> f) {
        requireNonNull(params, "params is null");
        requireNonNull(f, "f is null");
        Worst worst = new Worst("invariance");
        try (Scope s = Scope.open()) {
            double[] expected = f.apply(params).toDoubles();
            for (int t = 0; t < trials; t++) {
                try (Scope trial = Scope.open()) {
                    NeuronPermutation p = permutation(t);
                    worst.compare(t, "output", p, expected, f.apply(symmetry.apply(p, params)).toDoubles());
                }
            }
        }
        return worst.report(trials, tolerance);
    }

    /** {@code f(P theta) == P f(theta)}: new parameters from a metanetwork permute with its input. */
    public SymmetryReport checkEquivariant(Params params, UnaryOperator<Params> f) {
        requireNonNull(params, "params is null");
        requireNonNull(f, "f is null");
        Worst worst = new Worst("equivariance");
        try (Scope s = Scope.open()) {
            Params base = f.apply(params);
            for (int t = 0; t < trials; t++) {
                try (Scope trial = Scope.open()) {
                    NeuronPermutation p = permutation(t);
                    Params expected = symmetry.apply(p, base);
                    Params actual = f.apply(symmetry.apply(p, params));
                    for (String name : expected.names()) {
                        worst.compare(t, name, p, expected.get(name).toDoubles(), actual.get(name).toDoubles());
                    }
                }
            }
        }
        return worst.report(trials, tolerance);
    }

    private static boolean differs(Params a, Params b) {
        for (String name : a.names()) {
            double[] x = a.get(name).toDoubles();
            double[] y = b.get(name).toDoubles();
            for (int i = 0; i < x.length; i++) {
                if (Double.doubleToLongBits(x[i]) != Double.doubleToLongBits(y[i])) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The worst deviation seen so far, relative to each comparison's scale. */
    private static final class Worst {
        final String check;
        double deviation;
        double ratio;
        String detail = "no deviation";
        boolean nonFinite;

        Worst(String check) {
            this.check = check;
        }

        void compare(int trial, String what, NeuronPermutation p, double[] expected, double[] actual) {
            if (expected.length != actual.length) {
                throw new AssertionError(check + " check: '" + what + "' has " + actual.length + " entries after the permutation, "
                        + expected.length + " before");
            }
            double scale = 1;
            for (double e : expected) {
                scale = Math.max(scale, Math.abs(e));
            }
            for (int i = 0; i < expected.length; i++) {
                double d = Math.abs(expected[i] - actual[i]);
                if (Double.isNaN(d) && !(Double.isNaN(expected[i]) && Double.isNaN(actual[i]))) {
                    nonFinite = true;
                    detail = "trial " + trial + ", " + what + "[" + i + "]: " + expected[i] + " vs " + actual[i];
                    continue;
                }
                if (d / scale > ratio) {
                    ratio = d / scale;
                    deviation = d;
                    detail = "trial " + trial + ", " + what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]
                            + " under " + p;
                }
            }
        }

        SymmetryReport report(int trials, double tolerance) {
            return new SymmetryReport(check, trials, deviation, tolerance, !nonFinite && ratio <= tolerance, detail);
        }
    }
}
