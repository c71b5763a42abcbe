package dev.metaforge.cli;

import dev.metaforge.api.plugin.MetaforgePlugin;
import dev.metaforge.api.spec.SpecRegistry;
import dev.metaforge.api.spec.SpecType;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code metaforge plugins}: every plugin the CLI loads (built in, and those named by {@code --plugins}
 * or {@code METAFORGE_PLUGIN_PATH}), the jar or folder it came from, and its type names by family.
 * Exit code 0, or 1 when two plugins claim the same type name.
 */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = {"List the plugins and the JSON type names each contributes, with the jar each came from.",
                "Add a plugin with --plugins JAR (repeatable) or METAFORGE_PLUGIN_PATH."})
final class PluginsCommand implements Callable<Integer> {
    @ParentCommand
    MetaforgeCommand root;

    @Spec
    CommandSpec command;

    @Override
    public Integer call() {
        PrintWriter out = command.commandLine().getOut();
        PrintWriter err = command.commandLine().getErr();
        ClassLoader loader = root.context().classLoader();
        List<MetaforgePlugin> plugins = SpecRegistry.loadPlugins(loader);
        for (MetaforgePlugin plugin : plugins) {
            out.println(plugin.name() + "  " + source(plugin.getClass()));
            Map<String, TreeSet<String>> byFamily = new TreeMap<>();
            for (SpecType t : plugin.specTypes()) {
                byFamily.computeIfAbsent(t.familyName(), f -> new TreeSet<>()).add(t.name());
            }
            byFamily.forEach((family, names) -> out.println("  " + family + ": " + String.join(", ", names)));
            if (byFamily.isEmpty()) {
                out.println("  (no spec types)");
            }
        }
        out.println(plugins.size() + (plugins.size() == 1 ? " plugin" : " plugins"));
        out.flush();
        try {
            SpecRegistry.of(plugins);
        } catch (IllegalStateException e) {
            err.println("metaforge plugins: " + e.getMessage());
            err.flush();
            return 1;
        }
        return 0;
    }

    /** The jar or class folder a plugin class came from, as a path when it is a file. */
    static String source(Class<?> type) {
        CodeSource code = type.getProtectionDomain().getCodeSource();
        if (code == null || code.getLocation() == null) {
            return "(unknown source)";
        }
        try {
            return Path.of(code.getLocation().toURI()).toString();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return code.getLocation().toString();
        }
    }
}
