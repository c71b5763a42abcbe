package dev.metaforge.api.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.random.RandomStream;
import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Params;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.backend.reference.ReferenceBackend;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/** Test helpers for layers on the pure-Java float64 reference backend. */
final class LayerChecks {
    private LayerChecks() {
    }

    static Engine engine() {
        return Engine.of(new ReferenceBackend(), DType.FLOAT64);
    }

    /** Uniform values in [-1, 1) drawn in Java, so the data never depends on a backend's generator. */
    static Tensor random(Engine engine, long seed, int... dims) {
        Shape shape = Shape.of(dims);
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[shape.sizeAsInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() * 2 - 1;
        }
        return engine.tensor(v, shape, DType.FLOAT64);
    }

    /** Parameters of {@code module} with every entry drawn in [-1, 1) (so scales and biases are not the trivial 1 and 0). */
    static Params randomParams(Engine engine, Module module, long seed) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        long s = seed;
        for (ParamSpec spec : module.parameters()) {
            out.put(spec.name(), random(engine, s++, spec.shape().dims()));
        }
        return Params.of(out);
    }

    /** B networks' parameters stacked on a new leading axis. */
    static Params stack(List<Params> networks) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : networks.get(0).names()) {
            List<Tensor> parts = new ArrayList<>();
            for (Params p : networks) {
                parts.add(p.get(name));
            }
            out.put(name, Tensor.stack(parts, 0));
        }
        return Params.of(out);
    }

    /** Entry {@code b} of the leading axis. */
    static Tensor slice(Tensor t, int b) {
        return t.slice(0, b, b + 1).squeeze(0);
    }

    static void assertClose(Tensor expected, Tensor actual, double tolerance, String what) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        assertArrayEquals(expected.toDoubles(), actual.toDoubles(), tolerance, what);
    }

    /** Bit-for-bit equality (a batch of one against the unbatched call). */
    static void assertIdentical(Tensor expected, Tensor actual, String what) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.toDoubles();
        double[] a = actual.toDoubles();
        for (int i = 0; i < e.length; i++) {
            assertEquals(Double.doubleToLongBits(e[i]), Double.doubleToLongBits(a[i]),
                    what + ": entry " + i + " is " + a[i] + ", unbatched gives " + e[i]);
        }
    }

    /** The largest |a - b| between two tensors of one shape. */
    static double maxDifference(Tensor a, Tensor b) {
        double[] x = a.toDoubles();
        double[] y = b.toDoubles();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    /**
     * Checks the reverse-mode gradient of {@code loss = sum(f(params, x) * R)} (R a fixed random
     * tensor, so no symmetry can hide an error) with respect to every parameter and, when
     * {@code differentiableInput}, the input. Independent reference: central finite differences
     * {@code (L(p + h) - L(p - h)) / 2h} in float64 with h = 1e-6, on every entry of small tensors and
     * {@code maxEntries} random entries of larger ones. Each checked tensor must have a gradient
     * entry of magnitude above 1e-6, so the check cannot pass with a gradient that is identically zero,
     * except the tensors named in {@code zeroByTheory}, whose gradient must be zero (e.g. an attention
     * key bias: softmax ignores a shift shared by all keys).
     */
    static void checkGradients(Engine engine, Params params, Tensor input, boolean differentiableInput,
                               BiFunction<Params, Tensor, Tensor> f, double tolerance, int maxEntries, java.util.Set<String> zeroByTheory) {
        try (Scope scope = Scope.open()) {
            Tensor projection;
            try (NoGrad ng = NoGrad.enter()) {
                Tensor y = f.apply(params, input);
                projection = random(engine, 991, y.shape().dims());
            }
            Map<String, Tensor> all = new LinkedHashMap<>(params.asMap());
            String inputName = "<input>";
            if (differentiableInput) {
                all.put(inputName, input);
            }
            Params leaves = Params.of(all).requiringGrad();
            Params trackedParams = leaves.filter(n -> !n.equals(inputName));
            Tensor trackedInput = differentiableInput ? leaves.get(inputName) : input;
            Tensor loss = f.apply(trackedParams, trackedInput).mul(projection).sum();
            Params analytic = Grad.of(loss).wrt(leaves);
            SplittableRandom pick = new SplittableRandom(17);
            double h = 1e-6;
            for (String name : all.keySet()) {
                Tensor original = all.get(name);
                double[] base = original.toDoubles();
                double[] grad = analytic.get(name).toDoubles();
                double largest = 0;
                int checks = Math.min(base.length, maxEntries);
                for (int c = 0; c < checks; c++) {
                    int i = checks == base.length ? c : pick.nextInt(base.length);
                    double plus = shiftedLoss(engine, all, name, base, i, h, inputName, input, f, projection);
                    double minus = shiftedLoss(engine, all, name, base, i, -h, inputName, input, f, projection);
                    double numeric = (plus - minus) / (2 * h);
                    double scale = Math.max(1.0, Math.max(Math.abs(numeric), Math.abs(grad[i])));
                    assertTrue(Math.abs(numeric - grad[i]) <= tolerance * scale, "gradient of '" + name + "' " + original.shape()
                            + " at flat index " + i + ": reverse mode " + grad[i] + ", central finite differences " + numeric);
                    largest = Math.max(largest, Math.abs(grad[i]));
                }
                for (double g : grad) {
                    largest = Math.max(largest, Math.abs(g));
                }
                if (zeroByTheory.contains(name)) {
                    assertTrue(largest < 1e-9, "the gradient of '" + name + "' should vanish, got an entry " + largest);
                } else {
                    assertTrue(largest > 1e-6, "the gradient of '" + name + "' is zero everywhere: the check would pass for any gradient");
                }
            }
        }
    }

    private static double shiftedLoss(Engine engine, Map<String, Tensor> all, String name, double[] base, int index, double delta,
                                      String inputName, Tensor fixedInput, BiFunction<Params, Tensor, Tensor> f, Tensor projection) {
        double[] moved = base.clone();
        moved[index] += delta;
        try (NoGrad ng = NoGrad.enter(); Scope scope = Scope.open()) {
            Map<String, Tensor> replaced = new LinkedHashMap<>(all);
            Tensor original = all.get(name);
            replaced.put(name, engine.tensor(moved, original.shape(), original.dtype()));
            Tensor x = replaced.containsKey(inputName) ? replaced.remove(inputName) : fixedInput;
            return f.apply(Params.of(replaced), x).mul(projection).sum().item();
        }
    }

    /** A fresh stream for each evaluation, so a stochastic call draws the same numbers every time. */
    static ModuleCall train(Params state, long seed) {
        return ModuleCall.train(state, RandomStream.of(seed));
    }
}
