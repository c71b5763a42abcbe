package dev.metaforge.tck;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.metaforge.spi.Capability;
import dev.metaforge.spi.DType;
import dev.metaforge.spi.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/** KERNEL-MATMUL-*, KERNEL-CONV2D-*: linear algebra against the float64 reference. */
@ExtendWith(TckExtension.class)
class LinalgConformanceTests {
    /** a @ b shape pairs: plain, size-1, batched, broadcast batch dims, zero-size, a larger blocked case. */
    static final List<Shape[]> MATMUL_SHAPES = List.of(
            new Shape[] {Shape.of(2, 3), Shape.of(3, 4)},
            new Shape[] {Shape.of(1, 1), Shape.of(1, 1)},
            new Shape[] {Shape.of(5, 3), Shape.of(3, 1)},
            new Shape[] {Shape.of(1, 4), Shape.of(4, 6)},
            new Shape[] {Shape.of(3, 3), Shape.of(3, 3)},
            new Shape[] {Shape.of(2, 3, 4), Shape.of(2, 4, 5)},
            new Shape[] {Shape.of(2, 3, 4), Shape.of(4, 5)},
            new Shape[] {Shape.of(3, 4), Shape.of(2, 4, 5)},
            new Shape[] {Shape.of(1, 3, 4), Shape.of(2, 4, 5)},
            new Shape[] {Shape.of(2, 1, 3, 4), Shape.of(1, 5, 4, 2)},
            new Shape[] {Shape.of(2, 0), Shape.of(0, 3)},
            new Shape[] {Shape.of(0, 3), Shape.of(3, 2)},
            new Shape[] {Shape.of(2, 3), Shape.of(3, 0)},
            new Shape[] {Shape.of(0, 2, 3), Shape.of(3, 4)},
            new Shape[] {Shape.of(33, 65), Shape.of(65, 17)},
            // size-1 m, n or k with batches and broadcasting (products a backend may route around GEMM)
            new Shape[] {Shape.of(2, 5, 1), Shape.of(2, 1, 4)},
            new Shape[] {Shape.of(4, 1), Shape.of(3, 1, 6)},
            new Shape[] {Shape.of(3, 1, 5, 4), Shape.of(2, 4, 1)},
            new Shape[] {Shape.of(2, 1, 7), Shape.of(1, 7, 3)},
            new Shape[] {Shape.of(25, 10, 40), Shape.of(25, 40, 1)},
            new Shape[] {Shape.of(1, 300), Shape.of(300, 500)});

    @TckRule(id = "KERNEL-MATMUL-1")
    @DisplayName("KERNEL-MATMUL-1 batched matmul in FLOAT32 with broadcast batch dims, size-1 and zero-size dims matches the float64 reference")
    @TestFactory
    Stream<DynamicTest> matmulFloat32(TckContext tck) {
        return matmulCases(tck, DType.FLOAT32);
    }

    @TckRule(id = "KERNEL-MATMUL-2", capability = Capability.FLOAT64)
    @DisplayName("KERNEL-MATMUL-2 batched matmul in FLOAT64 matches the float64 reference")
    @TestFactory
    Stream<DynamicTest> matmulFloat64(TckContext tck) {
        return matmulCases(tck, DType.FLOAT64);
    }

    static Stream<DynamicTest> matmulCases(TckContext tck, DType dtype) {
        return MATMUL_SHAPES.stream().map(pair -> {
            String name = "matmul " + pair[0] + " @ " + pair[1] + " " + dtype;
            long seed = Data.seed(name);
            int k = pair[0].dim(-1);
            Tolerance tolerance = Tolerance.of(dtype).times(Math.max(1, k / 8.0));
            return dynamicTest(name, () -> tck.agree(name, dtype, tolerance, (kk, dt, in) -> kk.matmul(in[0], in[1]),
                    Operand.random(pair[0], seed), Operand.random(pair[1], seed + 1)));
        });
    }

    @TckRule(id = "KERNEL-MATMUL-3")
    @DisplayName("KERNEL-MATMUL-3 matmul with transpose flags (a^T, b^T, both; batched, broadcast, size-1 and zero-size) in FLOAT32 matches the float64 reference")
    @TestFactory
    Stream<DynamicTest> matmulWithFlags(TckContext tck) {
        return flaggedCases().map(c -> dynamicTest(c.name(), () -> tck.agree(c.name(), DType.FLOAT32, c.tolerance(),
                (k, dt, in) -> k.matmul(in[0], in[1], c.transposeA(), c.transposeB()),
                Operand.random(c.a(), c.seed()), Operand.random(c.b(), c.seed() + 1))));
    }

    @TckRule(id = "COMPOSED-MATMUL-1")
    @DisplayName("COMPOSED-MATMUL-1 matmul with transpose flags equals the SPI's composition (transpose, then matmul) on the backend's own primitives")
    @TestFactory
    Stream<DynamicTest> matmulWithFlagsComposed(TckContext tck) {
        return flaggedCases().map(c -> dynamicTest(c.name(), () -> tck.agreeWithComposition(c.name(), DType.FLOAT32, c.tolerance(),
                (k, dt, in) -> k.matmul(in[0], in[1], c.transposeA(), c.transposeB()),
                Operand.random(c.a(), c.seed()), Operand.random(c.b(), c.seed() + 1))));
    }

    /** A flagged product: the stored operand shapes (already transposed where the flag is set). */
    record FlaggedCase(Shape a, Shape b, boolean transposeA, boolean transposeB, long seed, Tolerance tolerance) {
        String name() {
            return "matmul " + (transposeA ? a + "^T" : a) + " @ " + (transposeB ? b + "^T" : b);
        }
    }

    static Stream<FlaggedCase> flaggedCases() {
        return MATMUL_SHAPES.stream().flatMap(pair -> Stream.of(new boolean[] {true, false}, new boolean[] {false, true},
                new boolean[] {true, true}).map(flags -> {
                    Shape a = flags[0] ? swapLastTwo(pair[0]) : pair[0];
                    Shape b = flags[1] ? swapLastTwo(pair[1]) : pair[1];
                    int k = pair[0].dim(-1);
                    String id = "flagged " + a + " " + b + " " + flags[0] + flags[1];
                    return new FlaggedCase(a, b, flags[0], flags[1], Data.seed(id),
                            Tolerance.of(DType.FLOAT32).times(Math.max(1, k / 8.0)));
                }));
    }

    private static Shape swapLastTwo(Shape s) {
        int[] d = s.dims().clone();
        int r = d.length;
        int t = d[r - 1];
        d[r - 1] = d[r - 2];
        d[r - 2] = t;
        return Shape.of(d);
    }

    /** input shape, weight shape, stride, padding. */
    record ConvCase(Shape input, Shape weight, int[] stride, int[] padding) {
        @Override
        public String toString() {
            return "conv2d " + input + " * " + weight + " stride " + Arrays.toString(stride) + " padding " + Arrays.toString(padding);
        }
    }

    static final List<ConvCase> CONV_CASES = List.of(
            new ConvCase(Shape.of(1, 1, 5, 5), Shape.of(1, 1, 3, 3), new int[] {1, 1}, new int[] {0, 0}),
            new ConvCase(Shape.of(2, 3, 6, 7), Shape.of(4, 3, 3, 2), new int[] {2, 1}, new int[] {1, 0}),
            new ConvCase(Shape.of(1, 2, 4, 4), Shape.of(3, 2, 1, 1), new int[] {1, 1}, new int[] {0, 0}),
            new ConvCase(Shape.of(1, 1, 3, 3), Shape.of(2, 1, 3, 3), new int[] {1, 1}, new int[] {2, 2}),
            new ConvCase(Shape.of(2, 2, 7, 5), Shape.of(2, 2, 3, 3), new int[] {3, 2}, new int[] {1, 1}));

    @TckRule(id = "KERNEL-CONV2D-1", capability = Capability.CONVOLUTION)
    @DisplayName("KERNEL-CONV2D-1 conv2d (NCHW, OIHW, stride, padding) in FLOAT32 matches the float64 reference")
    @TestFactory
    Stream<DynamicTest> conv2dFloat32(TckContext tck) {
        return convCases(tck, DType.FLOAT32);
    }

    @TckRule(id = "KERNEL-CONV2D-2", capability = {Capability.CONVOLUTION, Capability.FLOAT64})
    @DisplayName("KERNEL-CONV2D-2 conv2d in FLOAT64 matches the float64 reference")
    @TestFactory
    Stream<DynamicTest> conv2dFloat64(TckContext tck) {
        return convCases(tck, DType.FLOAT64);
    }

    static Stream<DynamicTest> convCases(TckContext tck, DType dtype) {
        return CONV_CASES.stream().map(c -> {
            String name = c + " " + dtype;
            long seed = Data.seed(name);
            int terms = c.weight().dim(1) * c.weight().dim(2) * c.weight().dim(3);
            Tolerance tolerance = Tolerance.of(dtype).times(Math.max(1, terms / 8.0));
            return dynamicTest(name, () -> tck.agree(name, dtype, tolerance,
                    (k, dt, in) -> k.conv2d(in[0], in[1], c.stride(), c.padding()),
                    Operand.random(c.input(), seed), Operand.random(c.weight(), seed + 1)));
        });
    }
}
