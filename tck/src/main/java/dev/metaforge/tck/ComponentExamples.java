package dev.metaforge.tck;

import static java.util.Objects.requireNonNull;

import dev.metaforge.api.plugin.ComponentExample;
import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The component examples the {@code MODEL-FAMILY-*} rules run: every
 * {@link MetaforgePlugin#conformanceExamples()} of every plugin visible to a class loader (the one
 * {@link TckRunner} was given, which also registers the plugins' spec types), optionally narrowed by
 * the configuration parameter {@value #PARAMETER}.
 *
 * <pre>{@code
 * List<ComponentExamples.Entry> all = ComponentExamples.load(loader);
 * List<ComponentExamples.Entry> mine = ComponentExamples.select(all, "my-plugin/*");
 * }</pre>
 */
public final class ComponentExamples {
    /**
     * Configuration parameter: comma-separated globs ({@code *} matches anything) selecting the
     * examples to run; a glob matches an example's name or {@code plugin/name}, e.g.
     * {@code metaforge.tck.components=my-plugin/*} or {@code hypernetwork*}. Absent or blank: every example.
     */
    public static final String PARAMETER = "metaforge.tck.components";

    private ComponentExamples() {
    }

    /**
     * One example and the plugin that declared it.
     *
     * @param plugin  the declaring plugin's {@link MetaforgePlugin#name()}
     * @param example the example
     */
    public record Entry(String plugin, ComponentExample example) {
        public Entry {
            requireNonNull(plugin, "plugin is null");
            requireNonNull(example, "example is null");
        }

        /** {@code plugin/name}, the form globs match besides the bare name. */
        public String qualifiedName() {
            return plugin + "/" + example.name();
        }

        /** How the report names it: {@code name [plugin p]}. */
        public String label() {
            return example.name() + " [plugin " + plugin + "]";
        }
    }

    /**
     * The examples of every plugin {@code loader} finds through {@link ServiceLoader}, in discovery
     * order.
     *
     * @throws IllegalStateException naming the plugin when one fails to list its examples, returns
     *         null, or declares two examples with the same name
     */
    public static List<Entry> load(ClassLoader loader) {
        requireNonNull(loader, "loader is null");
        List<Entry> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (MetaforgePlugin plugin : SpecRegistry.loadPlugins(loader)) {
            List<ComponentExample> examples;
            try {
                examples = plugin.conformanceExamples();
            } catch (RuntimeException e) {
                throw new IllegalStateException("plugin '" + plugin.name() + "' failed to list its conformance examples: "
                        + e.getMessage(), e);
            }
            if (examples == null) {
                throw new IllegalStateException("plugin '" + plugin.name() + "' returned null from conformanceExamples();"
                        + " return List.of() when it has none");
            }
            for (ComponentExample example : examples) {
                if (example == null) {
                    throw new IllegalStateException("plugin '" + plugin.name() + "' lists a null conformance example");
                }
                Entry entry = new Entry(plugin.name(), example);
                if (!seen.add(entry.qualifiedName())) {
                    throw new IllegalStateException("plugin '" + plugin.name() + "' declares two conformance examples named '"
                            + example.name() + "'; give each a unique name");
                }
                out.add(entry);
            }
        }
        return List.copyOf(out);
    }

    /**
     * The entries matching {@code globs} (comma-separated, see {@link #PARAMETER}); all of them when
     * {@code globs} is null or blank.
     *
     * @throws IllegalArgumentException when a glob matches nothing, listing what there is
     */
    public static List<Entry> select(List<Entry> entries, String globs) {
        requireNonNull(entries, "entries is null");
        if (globs == null || globs.isBlank()) {
            return entries;
        }
        List<Entry> out = new ArrayList<>();
        for (String glob : globs.split(",")) {
            String g = glob.trim();
            if (g.isEmpty()) {
                continue;
            }
            Pattern p = Pattern.compile(Arrays.stream(g.split("\\*", -1)).map(Pattern::quote).collect(Collectors.joining(".*")));
            List<Entry> matched = entries.stream()
                    .filter(e -> p.matcher(e.example().name()).matches() || p.matcher(e.qualifiedName()).matches())
                    .toList();
            if (matched.isEmpty()) {
                throw new IllegalArgumentException(PARAMETER + " glob '" + g + "' matches no component example; the loaded"
                        + " plugins declare " + (entries.isEmpty() ? "none" : entries.stream().map(Entry::qualifiedName)
                        .collect(Collectors.joining(", "))) + " (match a name or plugin/name; * matches anything)");
            }
            for (Entry e : matched) {
                if (!out.contains(e)) {
                    out.add(e);
                }
            }
        }
        return List.copyOf(out);
    }
}
