package dev.metaforge.api.data;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * The header of an IDX file: element type and dimensions. Read on its own by
 * {@link Idx#readHeader}, so sizes can be checked before any data is read or allocated.
 *
 * @param type the element type
 * @param dims the dimensions, e.g. [60000, 28, 28]; each in [0, 2^31 - 1]
 */
public record IdxHeader(ElementType type, int[] dims) {
    public IdxHeader {
        requireNonNull(type, "type is null");
        requireNonNull(dims, "dims is null");
        if (dims.length == 0 || dims.length > 255) {
            throw new IllegalArgumentException("IDX files have 1 to 255 dimensions, got " + dims.length);
        }
        dims = dims.clone();
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            }
        }
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    /** Bytes before the data: magic number and dimensions. */
    public int headerBytes() {
        return 4 + 4 * dims.length;
    }

    /** The number of values, or -1 when it exceeds {@code Long.MAX_VALUE / 8}. */
    public long count() {
        long n = 1;
        for (int d : dims) {
            if (d != 0 && n > Long.MAX_VALUE / 8 / d) {
                return -1;
            }
            n *= d;
        }
        return n;
    }

    /** The number of data bytes, or -1 when the count overflows (see {@link #count()}). */
    public long dataBytes() {
        long n = count();
        return n < 0 ? -1 : n * type.byteSize();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IdxHeader h && type == h.type && Arrays.equals(dims, h.dims);
    }

    @Override
    public int hashCode() {
        return 31 * type.hashCode() + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return type.jsonName() + " " + Arrays.toString(dims);
    }
}
