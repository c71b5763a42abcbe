package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.spi.Capability;
import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * KERNEL-CONV2D-3/4, KERNEL-CONVBP-*, COMPOSED-CONV-1: conv2d with stride, padding, dilation and
 * groups, and its two backward kernels, against the float64 reference (which computes each from its
 * definition) and against the SPI's compositions on the backend's own primitives.
 */
@ExtendWith(TckExtension.class)
class ConvolutionConformanceTests {

    /** One convolution geometry: input [N, C, H, W], weight [O, C/groups, kH, kW] and the options. */
    record Geometry(String what, Shape input, Shape weight, Conv2dOptions options) {
        Shape output() {
            return options.outputShape(input, weight);
        }

        /** Products summed into one output element, gradient-input element and gradient-weight element. */
        int terms() {
            Shape out = output();
            int forward = weight.dim(1) * weight.dim(2) * weight.dim(3);
            int backInput = (weight.dim(0) / options.groups()) * weight.dim(2) * weight.dim(3);
            int backWeight = out.dim(0) * out.dim(2) * out.dim(3);
            return Math.max(forward, Math.max(backInput, backWeight));
        }

        @Override
        public String toString() {
            return what + ": input " + input + " weight " + weight + " " + options;
        }
    }

    private static Conv2dOptions o(int sh, int sw, int ph, int pw, int dh, int dw, int groups) {
        return new Conv2dOptions(new int[] {sh, sw}, new int[] {ph, pw}, new int[] {dh, dw}, groups);
    }

    /** Every combination the kernels must get right, including the edges of the shape arithmetic. */
    static final List<Geometry> GEOMETRIES = List.of(
            new Geometry("plain 3x3", Shape.of(1, 1, 5, 5), Shape.of(1, 1, 3, 3), o(1, 1, 0, 0, 1, 1, 1)),
            new Geometry("stride 2x1 over 7x6, padding 1x0 (stride does not divide)", Shape.of(2, 3, 7, 6), Shape.of(4, 3, 3, 2),
                    o(2, 1, 1, 0, 1, 1, 1)),
            new Geometry("dilation 2", Shape.of(1, 2, 7, 7), Shape.of(3, 2, 3, 3), o(1, 1, 0, 0, 2, 2, 1)),
            new Geometry("stride 2x3, padding 2x1, dilation 3x2", Shape.of(2, 2, 9, 8), Shape.of(2, 2, 2, 3),
                    o(2, 3, 2, 1, 3, 2, 1)),
            new Geometry("2 groups, padding 1", Shape.of(1, 4, 5, 5), Shape.of(6, 2, 3, 3), o(1, 1, 1, 1, 1, 1, 2)),
            new Geometry("depthwise (6 groups), stride 2 over 6x7", Shape.of(2, 6, 6, 7), Shape.of(6, 1, 3, 3),
                    o(2, 2, 1, 1, 1, 1, 6)),
            new Geometry("2 groups, stride 3, padding 1, dilation 2", Shape.of(1, 4, 8, 8), Shape.of(4, 2, 2, 2),
                    o(3, 3, 1, 1, 2, 2, 2)),
            new Geometry("channel multiplier (2 groups, 3 outputs each), dilation 1x3", Shape.of(2, 2, 5, 9), Shape.of(6, 1, 2, 3),
                    o(1, 2, 0, 1, 1, 3, 2)),
            new Geometry("all size 1", Shape.of(1, 1, 1, 1), Shape.of(1, 1, 1, 1), o(1, 1, 0, 0, 1, 1, 1)),
            new Geometry("kernel as large as the input", Shape.of(3, 2, 4, 4), Shape.of(1, 2, 4, 4), o(1, 1, 0, 0, 1, 1, 1)),
            new Geometry("padding wider than the dilated kernel, 2 groups", Shape.of(1, 2, 4, 4), Shape.of(2, 1, 3, 3),
                    o(1, 1, 3, 3, 1, 1, 2)),
            new Geometry("one row, stride 1x2, dilation 1x3", Shape.of(2, 3, 1, 9), Shape.of(2, 3, 1, 3), o(1, 2, 0, 0, 1, 3, 1)),
            new Geometry("empty batch", Shape.of(0, 2, 5, 5), Shape.of(3, 2, 3, 3), o(1, 1, 1, 1, 1, 1, 1)),
            new Geometry("empty batch, 2 groups, dilation 2", Shape.of(0, 2, 6, 6), Shape.of(2, 1, 2, 2), o(2, 2, 0, 0, 2, 2, 2)));

    static Tolerance tolerance(DType dtype, Geometry g) {
        return Tolerance.of(dtype).times(Math.max(1, g.terms() / 8.0));
    }

    @TckRule(id = "KERNEL-CONV2D-3", capability = Capability.CONVOLUTION)
    @DisplayName("KERNEL-CONV2D-3 conv2d with options (stride, padding, dilation, groups; size-1 and empty-batch shapes) in FLOAT32 matches the float64 reference")
    @TestFactory
    Stream<DynamicTest> conv2dFloat32(TckContext tck) {
        return forward(tck, DType.FLOAT32);
    }

    @TckRule(id = "KERNEL-CONV2D-4", capability = {Capability.CONVOLUTION, Capability.FLOAT64})
    @DisplayName("KERNEL-CONV2D-4 conv2d with options in FLOAT64 matches the float64 reference")
    @TestFactory
    Stream<DynamicTest> conv2dFloat64(TckContext tck) {
        return forward(tck, DType.FLOAT64);
    }

    private static Stream<DynamicTest> forward(TckContext tck, DType dtype) {
        return GEOMETRIES.stream().map(g -> {
            String name = "conv2d " + g + " " + dtype;
            long seed = Data.seed(name);
            return dynamicTest(name, () -> tck.agree(name, dtype, tolerance(dtype, g),
                    (k, dt, in) -> k.conv2d(in[0], in[1], g.options()),
                    Operand.random(g.input(), seed), Operand.random(g.weight(), seed + 1)));
        });
    }

    @TckRule(id = "KERNEL-CONVBP-1", capability = Capability.CONVOLUTION)
    @DisplayName("KERNEL-CONVBP-1 conv2dBackwardInput and conv2dBackwardWeight in FLOAT32 match the float64 reference (the adjoints of conv2d computed from the definition) on every geometry of KERNEL-CONV2D-3")
    @TestFactory
    Stream<DynamicTest> backwardFloat32(TckContext tck) {
        return backward(tck, DType.FLOAT32);
    }

    @TckRule(id = "KERNEL-CONVBP-2", capability = {Capability.CONVOLUTION, Capability.FLOAT64})
    @DisplayName("KERNEL-CONVBP-2 conv2dBackwardInput and conv2dBackwardWeight in FLOAT64 match the float64 reference")
    @TestFactory
    Stream<DynamicTest> backwardFloat64(TckContext tck) {
        return backward(tck, DType.FLOAT64);
    }

    private static Stream<DynamicTest> backward(TckContext tck, DType dtype) {
        List<DynamicTest> tests = new ArrayList<>();
        for (Geometry g : GEOMETRIES) {
            String input = "conv2dBackwardInput " + g + " " + dtype;
            long seed = Data.seed(input);
            tests.add(dynamicTest(input, () -> tck.agree(input, dtype, tolerance(dtype, g),
                    (k, dt, in) -> k.conv2dBackwardInput(in[0], in[1], g.input(), g.options()),
                    Operand.random(g.output(), seed), Operand.random(g.weight(), seed + 1))));
            String weight = "conv2dBackwardWeight " + g + " " + dtype;
            long seed2 = Data.seed(weight);
            tests.add(dynamicTest(weight, () -> tck.agree(weight, dtype, tolerance(dtype, g),
                    (k, dt, in) -> k.conv2dBackwardWeight(in[0], in[1], g.weight(), g.options()),
                    Operand.random(g.input(), seed2), Operand.random(g.output(), seed2 + 1))));
        }
        return tests.stream();
    }

    @TckRule(id = "COMPOSED-CONV-1", capability = Capability.CONVOLUTION)
    @DisplayName("COMPOSED-CONV-1 conv2d with options and both backward kernels equal the SPI's composed defaults over the backend's own primitives, in every floating dtype (an override must compute what the default computes)")
    @TestFactory
    Stream<DynamicTest> composed(TckContext tck) {
        List<DynamicTest> tests = new ArrayList<>();
        for (DType dtype : tck.floatingDTypes()) {
            for (Geometry g : GEOMETRIES) {
                Tolerance t = tolerance(dtype, g).times(2);
                String forward = "conv2d " + g + " " + dtype;
                long seed = Data.seed("composed " + forward);
                tests.add(dynamicTest(forward, () -> tck.agreeWithComposition(forward, dtype, t,
                        (k, dt, in) -> k.conv2d(in[0], in[1], g.options()),
                        Operand.random(g.input(), seed), Operand.random(g.weight(), seed + 1))));
                String input = "conv2dBackwardInput " + g + " " + dtype;
                tests.add(dynamicTest(input, () -> tck.agreeWithComposition(input, dtype, t,
                        (k, dt, in) -> k.conv2dBackwardInput(in[0], in[1], g.input(), g.options()),
                        Operand.random(g.output(), seed + 2), Operand.random(g.weight(), seed + 3))));
                String weight = "conv2dBackwardWeight " + g + " " + dtype;
                tests.add(dynamicTest(weight, () -> tck.agreeWithComposition(weight, dtype, t,
                        (k, dt, in) -> k.conv2dBackwardWeight(in[0], in[1], g.weight(), g.options()),
                        Operand.random(g.input(), seed + 4), Operand.random(g.output(), seed + 5))));
            }
        }
        return tests.stream();
    }
}
