package dev.metaforge.api.data;

import java.util.Locale;

/**
 * The numeric types a dataset stores its values in, which are also the element types of IDX files
 * (with their IDX type codes): unsigned and signed bytes, 16- and 32-bit integers, 32- and 64-bit
 * floats. Values stay in their stored type until a batch is made ({@link PackedArray}).
 */
public enum ElementType {
    UBYTE(0x08, 1), BYTE(0x09, 1), SHORT(0x0B, 2), INT(0x0C, 4), FLOAT(0x0D, 4), DOUBLE(0x0E, 8);

    private final int code;
    private final int byteSize;

    ElementType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The IDX type code (the third byte of an IDX header). */
    public int code() {
        return code;
    }

    /** Bytes per value. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isInteger() {
        return this != FLOAT && this != DOUBLE;
    }

    /** Lowercase name ("ubyte"), as written in specs and messages. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The type with IDX type code {@code code}, or null. */
    public static ElementType ofCode(int code) {
        for (ElementType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }

    /** "0x08 (ubyte), 0x09 (byte), ...": the known codes, for error messages. */
    public static String knownCodes() {
        StringBuilder sb = new StringBuilder();
        for (ElementType t : values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "0x%02X (%s)", t.code, t.jsonName()));
        }
        return sb.toString();
    }
}
