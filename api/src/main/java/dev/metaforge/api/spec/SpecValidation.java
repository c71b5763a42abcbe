package dev.metaforge.api.spec;

import static java.util.Objects.requireNonNull;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the declared {@link Range}s of a spec tree and finds numeric fields that declare none.
 *
 * <p>{@link SpecRegistry#read} runs {@link #check} on every spec it reads, and the trainer runs it
 * again on the spec it is given (specs built in code never pass through JSON), so every numeric
 * field is checked before anything is built, with the JSON path of the offending value:
 *
 * <pre>{@code
 * SpecValidation.check(trainSpec, "run.json");
 * // SpecException: run.json at $.experiment.model.sizes[1]: 2147483647 is outside the range
 * //   [1, 1048576] of a layer width
 * }</pre>
 *
 * Plugin authors annotate each numeric record component with {@link Range}; a test calls
 * {@link #undeclaredRanges} on every registered type so a new field cannot forget it.
 */
public final class SpecValidation {
    private static final int MAX_DEPTH = 64;

    private SpecValidation() {
    }

    /**
     * Checks every {@link Range} in the tree of records, lists and maps under {@code root}.
     *
     * @param root   a spec (usually the top-level {@code TrainSpec})
     * @param source what the spec came from (a file name), for the message
     * @throws SpecException naming {@code source}, the JSON path, the value and the range
     */
    public static void check(Object root, String source) {
        requireNonNull(source, "source is null");
        walk(root, "$", source, 0);
    }

    private static void walk(Object value, String path, String source, int depth) {
        if (value == null) {
            return;
        }
        if (depth > MAX_DEPTH) {
            throw new SpecException(source + " at " + path + ": the spec nests deeper than " + MAX_DEPTH + " levels", path, null);
        }
        Class<?> type = value.getClass();
        if (type.isRecord()) {
            for (RecordComponent c : type.getRecordComponents()) {
                Object v = read(c, value);
                String p = path + "." + c.getName();
                Range range = c.getAnnotation(Range.class);
                if (range != null) {
                    checkRange(range, v, p, c.getName(), source);
                }
                walk(v, p, source, depth + 1);
            }
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                walk(list.get(i), path + "[" + i + "]", source, depth + 1);
            }
        } else if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                walk(e.getValue(), path + "['" + e.getKey() + "']", source, depth + 1);
            }
        }
    }

    private static Object read(RecordComponent c, Object record) {
        try {
            var accessor = c.getAccessor();
            accessor.setAccessible(true);
            return accessor.invoke(record);
        } catch (IllegalAccessException | RuntimeException e) {
            throw new IllegalStateException("cannot read field '" + c.getName() + "' of a spec record: " + e, e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("the accessor of field '" + c.getName() + "' failed: " + e.getCause(), e.getCause());
        }
    }

    private static void checkRange(Range range, Object value, String path, String field, String source) {
        if (value instanceof Collection<?> values) {
            int i = 0;
            for (Object element : values) {
                checkRange(range, element, path + "[" + i + "]", field, source);
                i++;
            }
            return;
        }
        if (!(value instanceof Number number)) {
            return; // absent optional value: its default is the constructor's business
        }
        double x = number.doubleValue();
        boolean above = range.minExclusive() ? x > range.min() : x >= range.min();
        boolean below = range.maxExclusive() ? x < range.max() : x <= range.max();
        if (!(above && below) || Double.isNaN(x)) {
            String what = range.what().isEmpty() ? "'" + field + "'" : range.what() + " ('" + field + "')";
            throw new SpecException(source + " at " + path + ": " + format(number) + " is outside the range "
                    + describe(range) + " of " + what + "; choose a value in that range", path, null);
        }
    }

    /** The range as text: {@code [1, 1048576]}, {@code (0, 1000]}. */
    public static String describe(Range range) {
        return (range.minExclusive() ? "(" : "[") + format(range.min()) + ", " + format(range.max())
                + (range.maxExclusive() ? ")" : "]");
    }

    private static String format(Number n) {
        return n instanceof Double || n instanceof Float ? Double.toString(n.doubleValue()) : n.toString();
    }

    private static String format(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        if (d >= 9.2e18) {
            return "2^63-1";
        }
        if (d <= -9.2e18) {
            return "-2^63";
        }
        return Double.toString(d);
    }

    /**
     * The numeric components (int, long, double, float, short, byte, their boxes, and lists of
     * them) of {@code type} and of every record type reachable from it through its components that
     * declare no {@link Range}, as {@code TypeSimpleName.field}. Spec interfaces (families) are not
     * followed: check each registered type on its own.
     */
    public static List<String> undeclaredRanges(Class<?> type) {
        requireNonNull(type, "type is null");
        List<String> out = new ArrayList<>();
        collect(type, out, new HashSet<>());
        return out;
    }

    private static void collect(Class<?> type, List<String> out, Set<Class<?>> seen) {
        if (!type.isRecord() || !seen.add(type)) {
            return;
        }
        for (RecordComponent c : type.getRecordComponents()) {
            Type element = elementType(c.getGenericType());
            if (isNumeric(element) && c.getAnnotation(Range.class) == null) {
                out.add(type.getSimpleName() + "." + c.getName());
            }
            if (element instanceof Class<?> k && k.isRecord()) {
                collect(k, out, seen);
            }
        }
    }

    private static Type elementType(Type type) {
        if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw && Collection.class.isAssignableFrom(raw)
                && p.getActualTypeArguments().length == 1) {
            return p.getActualTypeArguments()[0];
        }
        return type;
    }

    private static boolean isNumeric(Type type) {
        if (!(type instanceof Class<?> k)) {
            return false;
        }
        if (k.isPrimitive()) {
            return k != boolean.class && k != char.class && k != void.class;
        }
        return Number.class.isAssignableFrom(k);
    }
}
