package dev.metaforge.api.spec;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The declared range of a numeric field of a spec record. Every numeric component of a spec
 * (int, long, double and their boxes, and lists of them, where the range applies to each element)
 * carries one; {@link SpecValidation#check} enforces them with the JSON path of the offending
 * value, and {@link SpecValidation#undeclaredRanges} lists components that lack one (a test
 * over every registered type keeps the rule from rotting).
 *
 * <pre>{@code
 * public record LinearSpec(@Range(min = 1, max = Limits.MAX_WIDTH, what = "input features") int in, ...)
 * }</pre>
 *
 * A null (absent optional) value is not checked; the spec's constructor supplies its default.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface Range {
    /** Smallest allowed value (inclusive unless {@link #minExclusive()}). */
    double min();

    /** Largest allowed value (inclusive unless {@link #maxExclusive()}). */
    double max();

    /** True when {@link #min()} itself is not allowed (e.g. a learning rate > 0). */
    boolean minExclusive() default false;

    /** True when {@link #max()} itself is not allowed (e.g. a momentum < 1). */
    boolean maxExclusive() default false;

    /** What the number is, for the error message (e.g. "layer width"); empty: the field name alone. */
    String what() default "";
}
