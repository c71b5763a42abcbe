package dev.metaforge.api.spec;

import static java.util.Objects.requireNonNull;

/**
 * A type name a plugin registers for a spec class.
 *
 * @param family the family's base interface (e.g. ModuleSpec); names are unique per family
 * @param name   the JSON {@code "type"} value
 * @param type   the concrete record or class
 */
public record SpecType(Class<? extends Spec> family, String name, Class<? extends Spec> type) {
    public SpecType {
        requireNonNull(family, "family is null");
        requireNonNull(name, "name is null");
        requireNonNull(type, "type is null");
        if (!family.isAssignableFrom(type)) {
            throw new IllegalArgumentException(type.getName() + " does not implement " + family.getName());
        }
    }

    /** The family as users write it: "module", "hypernetwork", "task sampler". */
    public String familyName() {
        return SpecRegistry.familyName(family);
    }
}
