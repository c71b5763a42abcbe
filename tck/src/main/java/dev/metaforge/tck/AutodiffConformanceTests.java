package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.api.tensor.Engine;
import dev.metaforge.api.tensor.Grad;
import dev.metaforge.api.tensor.NoGrad;
import dev.metaforge.api.tensor.Scope;
import dev.metaforge.api.tensor.Tensor;
import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * AUTODIFF-*: our autodiff (VJP rules written with the backend's primitives) on the backend under
 * test, for every row of {@link GradientCases}: gradients against central finite differences in
 * float64, float32 gradients against the float64 reference backend's, and second order
 * (Hessian-vector products) against finite differences of gradients.
 */
@ExtendWith(TckExtension.class)
class AutodiffConformanceTests {
    private static final double FD_STEP = 1e-6;
    private static final double HVP_STEP = 1e-5;

    @TckRule(id = "AUTODIFF-VJP-1", capability = Capability.FLOAT64)
    @DisplayName("AUTODIFF-VJP-1 every VJP in FLOAT64 matches central finite differences")
    @TestFactory
    Stream<DynamicTest> vjpAgainstFiniteDifferences(TckContext tck) {
        Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
        return GradientCases.CASES.stream().filter(cs -> cs.runsOn(tck)).map(cs -> dynamicTest(cs.name(), () -> {
            try (Scope s = Scope.open()) {
                double[][] inputs = inputs(cs, Data.seed("vjp " + cs.name()));
                List<double[]> analytic = gradients(engine, DType.FLOAT64, cs, inputs);
                for (int i = 0; i < inputs.length; i++) {
                    double[] numeric = finiteDifference(engine, cs, inputs, i);
                    Compare.assertClose(numeric, analytic.get(i), 1e-5, 1e-6, cs.name() + ": d/d(input " + i + ")");
                }
            }
        }));
    }

    @TckRule(id = "AUTODIFF-VJP-2")
    @DisplayName("AUTODIFF-VJP-2 every VJP in FLOAT32 matches the float64 reference backend's gradient")
    @TestFactory
    Stream<DynamicTest> vjpFloat32AgainstReference(TckContext tck) {
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
        return GradientCases.CASES.stream().filter(cs -> cs.runsOn(tck)).map(cs -> dynamicTest(cs.name(), () -> {
            try (Scope s = Scope.open()) {
                double[][] inputs = roundToFloat(inputs(cs, Data.seed("vjp32 " + cs.name())));
                List<double[]> expected = gradients(reference, DType.FLOAT64, cs, inputs);
                List<double[]> actual = gradients(engine, DType.FLOAT32, cs, inputs);
                for (int i = 0; i < inputs.length; i++) {
                    Compare.assertClose(expected.get(i), actual.get(i), 2e-4, 2e-5, cs.name() + ": d/d(input " + i + ") in FLOAT32");
                }
            }
        }));
    }

    @TckRule(id = "AUTODIFF-2ND-1", capability = Capability.FLOAT64)
    @DisplayName("AUTODIFF-2ND-1 Hessian-vector products (gradient of a gradient) in FLOAT64 match finite differences of gradients")
    @TestFactory
    Stream<DynamicTest> hessianVectorProducts(TckContext tck) {
        Engine engine = Engine.of(tck.backend(), DType.FLOAT64);
        return GradientCases.CASES.stream().filter(cs -> cs.runsOn(tck)).map(cs -> dynamicTest(cs.name(), () -> {
            try (Scope s = Scope.open()) {
                long seed = Data.seed("hvp " + cs.name());
                double[][] inputs = inputs(cs, seed);
                double[] v = direction(cs.shapes().get(0), seed + 7);
                double[] analytic = hvp(engine, DType.FLOAT64, cs, inputs, v);
                double[] plus = gradientAlong(engine, cs, inputs, v, HVP_STEP);
                double[] minus = gradientAlong(engine, cs, inputs, v, -HVP_STEP);
                double[] numeric = new double[plus.length];
                for (int i = 0; i < plus.length; i++) {
                    numeric[i] = (plus[i] - minus[i]) / (2 * HVP_STEP);
                }
                Compare.assertClose(numeric, analytic, 1e-4, 1e-5, cs.name() + ": Hessian-vector product");
            }
        }));
    }

    @TckRule(id = "AUTODIFF-2ND-2")
    @DisplayName("AUTODIFF-2ND-2 Hessian-vector products in FLOAT32 match the float64 reference backend's")
    @TestFactory
    Stream<DynamicTest> hessianVectorProductsFloat32(TckContext tck) {
        Engine engine = Engine.of(tck.backend(), DType.FLOAT32);
        Engine reference = Engine.of(tck.reference(), DType.FLOAT64);
        return GradientCases.CASES.stream().filter(cs -> cs.runsOn(tck)).map(cs -> dynamicTest(cs.name(), () -> {
            try (Scope s = Scope.open()) {
                long seed = Data.seed("hvp32 " + cs.name());
                double[][] inputs = roundToFloat(inputs(cs, seed));
                double[] v = roundToFloat(new double[][] {direction(cs.shapes().get(0), seed + 7)})[0];
                double[] expected = hvp(reference, DType.FLOAT64, cs, inputs, v);
                double[] actual = hvp(engine, DType.FLOAT32, cs, inputs, v);
                Compare.assertClose(expected, actual, 1e-3, 1e-4, cs.name() + ": Hessian-vector product in FLOAT32");
            }
        }));
    }

    // ---- helpers ------------------------------------------------------------------------------

    static double[][] inputs(GradientCases.Case cs, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] out = new double[cs.shapes().size()][];
        for (int i = 0; i < out.length; i++) {
            double[] d = new double[cs.shapes().get(i).sizeAsInt()];
            for (int j = 0; j < d.length; j++) {
                d[j] = cs.positive() ? 0.5 + r.nextDouble() * 1.5 : r.nextDouble() * 4 - 2;
            }
            out[i] = d;
        }
        return out;
    }

    private static double[] direction(Shape shape, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[shape.sizeAsInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() * 2 - 1;
        }
        return v;
    }

    private static double[][] roundToFloat(double[][] in) {
        double[][] out = new double[in.length][];
        for (int i = 0; i < in.length; i++) {
            out[i] = new double[in[i].length];
            for (int j = 0; j < in[i].length; j++) {
                out[i][j] = (float) in[i][j];
            }
        }
        return out;
    }

    private static Tensor[] tensors(Engine engine, DType dtype, GradientCases.Case cs, double[][] values) {
        Tensor[] out = new Tensor[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = engine.tensor(values[i], cs.shapes().get(i), dtype);
        }
        return out;
    }

    /** Gradients of the case's output with respect to every input. */
    static List<double[]> gradients(Engine engine, DType dtype, GradientCases.Case cs, double[][] values) {
        try (Scope s = Scope.open()) {
            Tensor[] x = tensors(engine, dtype, cs, values);
            Tensor[] tracked = new Tensor[x.length];
            for (int i = 0; i < x.length; i++) {
                tracked[i] = x[i].requiresGrad();
            }
            List<double[]> out = new ArrayList<>();
            for (Tensor g : Grad.of(cs.f().apply(tracked)).wrt(List.of(tracked))) {
                out.add(g.toDoubles());
            }
            return out;
        }
    }

    private static double value(Engine engine, GradientCases.Case cs, double[][] values) {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            return cs.f().apply(tensors(engine, DType.FLOAT64, cs, values)).item();
        }
    }

    private static double[] finiteDifference(Engine engine, GradientCases.Case cs, double[][] values, int which) {
        double[] out = new double[values[which].length];
        for (int j = 0; j < out.length; j++) {
            double[][] plus = values.clone();
            plus[which] = values[which].clone();
            plus[which][j] += FD_STEP;
            double[][] minus = values.clone();
            minus[which] = values[which].clone();
            minus[which][j] -= FD_STEP;
            out[j] = (value(engine, cs, plus) - value(engine, cs, minus)) / (2 * FD_STEP);
        }
        return out;
    }

    /** H v for the first input: the gradient of (grad f . v), with the first gradient recorded. */
    static double[] hvp(Engine engine, DType dtype, GradientCases.Case cs, double[][] values, double[] v) {
        try (Scope s = Scope.open()) {
            Tensor[] x = tensors(engine, dtype, cs, values);
            x[0] = x[0].requiresGrad();
            Tensor g = Grad.of(cs.f().apply(x)).withGraph().wrt(x[0]);
            Tensor dir = engine.tensor(v, cs.shapes().get(0), dtype);
            return Grad.of(g.mul(dir).sum()).wrt(x[0]).toDoubles();
        }
    }

    private static double[] gradientAlong(Engine engine, GradientCases.Case cs, double[][] values, double[] v, double h) {
        double[][] shifted = values.clone();
        shifted[0] = values[0].clone();
        for (int i = 0; i < v.length; i++) {
            shifted[0][i] += h * v[i];
        }
        return gradients(engine, DType.FLOAT64, cs, shifted).get(0);
    }
}
