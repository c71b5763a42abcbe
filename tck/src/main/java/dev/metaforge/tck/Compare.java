package dev.metaforge.tck;

import dev.metaforge.spi.DType;
import dev.metaforge.spi.NativeArray;
import dev.metaforge.spi.Shape;
import java.util.Arrays;
import org.opentest4j.AssertionFailedError;

/**
 * Assertions for arrays, with messages that show the worst element, its index and the shapes, so
 * a FAIL in the report says what went wrong without a debugger.
 */
public final class Compare {
    private static final int MAX_SHOWN = 8;

    private Compare() {
    }

    /** Asserts elementwise closeness; {@code what} names the case. */
    public static void assertClose(double[] expected, double[] actual, double rtol, double atol, String what) {
        assertClose(null, expected, null, actual, new Tolerance(rtol, atol), what);
    }

    /** Asserts elementwise closeness; {@code what} names the case. */
    public static void assertClose(double[] expected, double[] actual, Tolerance tolerance, String what) {
        assertClose(null, expected, null, actual, tolerance, what);
    }

    /**
     * Asserts equal shapes and elementwise closeness. Shapes may be null when unknown.
     *
     * @throws AssertionFailedError naming the worst element (largest error relative to what is allowed)
     */
    public static void assertClose(Shape expectedShape, double[] expected, Shape actualShape, double[] actual,
                                   Tolerance tolerance, String what) {
        if (expectedShape != null && actualShape != null && !expectedShape.equals(actualShape)) {
            throw new AssertionFailedError(what + ": shape expected " + expectedShape + " but was " + actualShape,
                    expectedShape.toString(), actualShape.toString());
        }
        if (expected.length != actual.length) {
            throw new AssertionFailedError(what + ": expected " + expected.length + " elements but got "
                    + actual.length + shapes(expectedShape, actualShape));
        }
        int bad = 0;
        int worst = -1;
        double worstScore = -1;
        for (int i = 0; i < expected.length; i++) {
            if (!tolerance.accepts(expected[i], actual[i])) {
                bad++;
                double score = score(expected[i], actual[i], tolerance);
                if (score > worstScore) {
                    worstScore = score;
                    worst = i;
                }
            }
        }
        if (bad == 0) {
            return;
        }
        double e = expected[worst];
        double a = actual[worst];
        StringBuilder sb = new StringBuilder(what).append(": ").append(bad).append(" of ").append(expected.length)
                .append(" elements differ beyond ").append(tolerance).append("; worst at index ").append(worst);
        Shape shape = expectedShape != null ? expectedShape : actualShape;
        if (shape != null && shape.rank() > 1) {
            sb.append(' ').append(Arrays.toString(unravel(worst, shape)));
        }
        sb.append(": expected ").append(e).append(" but was ").append(a);
        if (Double.isFinite(e) && Double.isFinite(a)) {
            sb.append(" (error ").append(String.format("%.3g", Math.abs(a - e)))
                    .append(", allowed ").append(String.format("%.3g", tolerance.allowed(e))).append(')');
        }
        sb.append(shapes(expectedShape, actualShape));
        if (expected.length <= MAX_SHOWN * 4) {
            sb.append("; expected ").append(Arrays.toString(expected)).append(" actual ").append(Arrays.toString(actual));
        }
        throw new AssertionFailedError(sb.toString());
    }

    /** Asserts equal shapes and exactly equal integers. */
    public static void assertExact(Shape expectedShape, long[] expected, Shape actualShape, long[] actual, String what) {
        if (expectedShape != null && actualShape != null && !expectedShape.equals(actualShape)) {
            throw new AssertionFailedError(what + ": shape expected " + expectedShape + " but was " + actualShape,
                    expectedShape.toString(), actualShape.toString());
        }
        if (expected.length != actual.length) {
            throw new AssertionFailedError(what + ": expected " + expected.length + " elements but got "
                    + actual.length + shapes(expectedShape, actualShape));
        }
        int bad = 0;
        int first = -1;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) {
                bad++;
                if (first < 0) {
                    first = i;
                }
            }
        }
        if (bad > 0) {
            String shown = expected.length <= MAX_SHOWN * 4
                    ? "; expected " + Arrays.toString(expected) + " actual " + Arrays.toString(actual) : "";
            throw new AssertionFailedError(what + ": " + bad + " of " + expected.length + " integers differ; first at index "
                    + first + ": expected " + expected[first] + " but was " + actual[first]
                    + shapes(expectedShape, actualShape) + shown);
        }
    }

    /** Asserts bit-for-bit equality of doubles (NaN payloads aside). */
    /** The largest magnitude in {@code v} (0 for an empty array): the scale of absolute tolerances. */
    public static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    public static void assertIdentical(double[] expected, double[] actual, String what) {
        assertClose(null, expected, null, actual, Tolerance.EXACT, what);
    }

    /** Asserts that {@code array} has {@code dtype} and {@code shape}. */
    public static void assertTypeAndShape(String what, NativeArray array, DType dtype, Shape shape) {
        if (array.dtype() != dtype || !array.shape().equals(shape)) {
            throw new AssertionFailedError(what + ": expected " + dtype + " " + shape + " but got "
                    + array.dtype() + " " + array.shape());
        }
    }

    /** Row-major multi-index of flat index {@code flat} in {@code shape}. */
    public static int[] unravel(long flat, Shape shape) {
        int[] dims = shape.dims();
        int[] index = new int[dims.length];
        for (int i = dims.length - 1; i >= 0; i--) {
            if (dims[i] == 0) {
                return index;
            }
            index[i] = (int) (flat % dims[i]);
            flat /= dims[i];
        }
        return index;
    }

    private static double score(double e, double a, Tolerance t) {
        if (Double.isNaN(e) || Double.isNaN(a) || Double.isInfinite(e) || Double.isInfinite(a)) {
            return Double.POSITIVE_INFINITY;
        }
        double allowed = t.allowed(e);
        return allowed == 0 ? Math.abs(a - e) * 1e300 : Math.abs(a - e) / allowed;
    }

    private static String shapes(Shape expected, Shape actual) {
        if (expected == null && actual == null) {
            return "";
        }
        return "; shape " + (expected != null ? expected : actual);
    }
}
