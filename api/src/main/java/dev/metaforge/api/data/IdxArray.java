package dev.metaforge.api.data;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * The content of an IDX file: its dimensions and its values, still packed in the file's element
 * type ({@link PackedArray}), so a ubyte file takes one byte per value in memory.
 *
 * @param dims   the dimensions, e.g. [60000, 28, 28]
 * @param values {@code product(dims)} values, row-major
 */
public record IdxArray(int[] dims, PackedArray values) {
    public IdxArray {
        requireNonNull(dims, "dims is null");
        requireNonNull(values, "values is null");
        dims = dims.clone();
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            }
            n *= d;
        }
        if (n != values.length()) {
            throw new IllegalArgumentException(values.length() + " values do not fill dims " + Arrays.toString(dims));
        }
    }

    /** {@code values} packed as {@code type} (each must be exactly representable in it). */
    public static IdxArray of(ElementType type, int[] dims, double[] values) {
        return new IdxArray(dims, PackedArray.of(type, values));
    }

    /** The element type stored in the file. */
    public ElementType type() {
        return values.type();
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    /** The header that describes this array. */
    public IdxHeader header() {
        return new IdxHeader(type(), dims);
    }

    /** The values as doubles (8 bytes each: for small arrays). */
    public double[] toDoubles() {
        return values.toDoubles();
    }

    /** The values as longs; only for integer element types. */
    public long[] toLongs() {
        return values.toLongs();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdxArray a && Arrays.equals(dims, a.dims) && values.equals(a.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(dims) + values.hashCode();
    }

    @Override
    public String toString() {
        return "IdxArray[" + type().jsonName() + " " + Arrays.toString(dims) + "]";
    }
}
