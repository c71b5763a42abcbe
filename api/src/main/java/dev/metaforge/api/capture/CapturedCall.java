package dev.metaforge.api.capture;

import dev.metaforge.spi.Conv2dOptions;
import dev.metaforge.spi.Kernels;
import dev.metaforge.spi.NativeArray;
import java.util.Arrays;
import java.util.Objects;

/**
 * One kernel call of a {@link CapturedProgram}: the kernel's name, its non-array arguments (for
 * comparing two traces), the slots of its array operands ({@link #NONE} for a null operand) and of
 * its results, and how to run it again on other arrays.
 *
 * @param kernel   the SPI method, e.g. {@code "matmul"}
 * @param args     the non-array arguments (enums, axes, shapes, scalars, host data)
 * @param operands slot of each array operand, in the order the kernel takes them
 * @param results  slot of each array result
 * @param runner   re-runs the kernel on the backend's own kernels with the operands' current arrays
 */
public record CapturedCall(String kernel, Object[] args, int[] operands, int[] results, Runner runner) {
    /** The operand slot of a null argument (e.g. {@code linear} without a bias). */
    public static final int NONE = -1;

    /** Re-runs one kernel: returns its results in the order of {@link #results()}. */
    @FunctionalInterface
    public interface Runner {
        NativeArray[] run(Kernels kernels, NativeArray[] operands);
    }

    /** True when {@code other} calls the same kernel with equal arguments on the same slots. */
    public boolean sameAs(CapturedCall other) {
        if (!kernel.equals(other.kernel) || !Arrays.equals(operands, other.operands) || !Arrays.equals(results, other.results)
                || args.length != other.args.length) {
            return false;
        }
        for (int i = 0; i < args.length; i++) {
            if (!sameArg(args[i], other.args[i])) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameArg(Object a, Object b) {
        if (a instanceof Conv2dOptions x && b instanceof Conv2dOptions y) {
            // Its components are arrays: the record's equals compares them by reference.
            return Arrays.equals(x.stride(), y.stride()) && Arrays.equals(x.padding(), y.padding())
                    && Arrays.equals(x.dilation(), y.dilation()) && x.groups() == y.groups();
        }
        return Arrays.deepEquals(new Object[] {a}, new Object[] {b}) || Objects.equals(a, b);
    }

    /** The call in a message: kernel and arguments, host data abbreviated. */
    public String describe() {
        StringBuilder out = new StringBuilder(kernel).append('(');
        for (int i = 0; i < args.length; i++) {
            if (i > 0) {
                out.append(", ");
            }
            Object a = args[i];
            if (a instanceof double[] d) {
                out.append("double[").append(d.length).append(']');
            } else if (a instanceof float[] f) {
                out.append("float[").append(f.length).append(']');
            } else if (a instanceof long[] l) {
                out.append("long[").append(l.length).append(']');
            } else if (a instanceof int[] n) {
                out.append(Arrays.toString(n));
            } else {
                out.append(a);
            }
        }
        return out.append(") on slots ").append(Arrays.toString(operands)).toString();
    }
}
