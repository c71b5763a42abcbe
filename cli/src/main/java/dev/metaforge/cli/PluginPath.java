package dev.metaforge.cli;

import static java.util.Objects.requireNonNull;

import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where the CLI looks for third-party plugins: the {@code --plugins} entries, then
 * {@code METAFORGE_PLUGIN_PATH}; each may hold several entries separated by {@code File.pathSeparator}.
 * An entry is a jar, or a directory: its {@code *.jar} files and the directory itself as a class folder.
 * Plugins load in a child of the CLI's class loader, so they see (and must use) the CLI's own
 * Metaforge and backend classes: a plugin jar that bundles its own copy of {@code metaforge-api} still
 * runs on the CLI's.
 *
 * @param entries each entry as written, with where it came from
 */
record PluginPath(List<Entry> entries) {
    /** The environment variable read after {@code --plugins}. */
    static final String ENVIRONMENT_VARIABLE = "METAFORGE_PLUGIN_PATH";

    /** One entry and where it was written ("--plugins" or the environment variable). */
    record Entry(String text, String origin) {
    }

    PluginPath {
        entries = List.copyOf(requireNonNull(entries, "entries is null"));
    }

    static PluginPath of(List<String> options, Map<String, String> environment) {
        List<Entry> entries = new ArrayList<>();
        for (String option : options) {
            split(option, "--plugins", entries);
        }
        String fromEnvironment = environment.get(ENVIRONMENT_VARIABLE);
        if (fromEnvironment != null) {
            split(fromEnvironment, ENVIRONMENT_VARIABLE, entries);
        }
        return new PluginPath(entries);
    }

    private static void split(String text, String origin, List<Entry> into) {
        for (String part : text.split(java.util.regex.Pattern.quote(File.pathSeparator))) {
            if (!part.isBlank()) {
                into.add(new Entry(part.strip(), origin));
            }
        }
    }

    /**
     * The class loader plugins are found with: {@code parent} itself when there are no entries. Every entry is
     * checked before the loader is made, so a typo fails here, not as an "unknown type" later.
     */
    ClassLoader loader(ClassLoader parent) {
        if (entries.isEmpty()) {
            return parent;
        }
        List<URL> urls = new ArrayList<>();
        for (Entry entry : entries) {
            Path path = Path.of(entry.text()).toAbsolutePath().normalize();
            if (Files.isDirectory(path)) {
                urls.add(url(path, entry));
                try (Stream<Path> files = Files.list(path)) {
                    files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f)).sorted()
                            .forEach(f -> urls.add(url(f, entry)));
                } catch (IOException e) {
                    throw new PluginPathException(entry.origin() + ": cannot list plugin directory " + path + ": " + e.getMessage());
                }
            } else if (Files.isRegularFile(path)) {
                if (!path.getFileName().toString().endsWith(".jar")) {
                    throw new PluginPathException(entry.origin() + ": plugin entry " + path
                            + " is neither a .jar file nor a directory; give the plugin's jar, or a directory of jars");
                }
                if (!Files.isReadable(path)) {
                    throw new PluginPathException(entry.origin() + ": plugin jar " + path + " is not readable");
                }
                urls.add(url(path, entry));
            } else {
                throw new PluginPathException(entry.origin() + ": plugin entry " + path + " does not exist; give the"
                        + " plugin's jar (e.g. target/my-plugin.jar) or a directory of jars");
            }
        }
        return new URLClassLoader("metaforge-plugins", urls.toArray(URL[]::new), parent);
    }

    private static URL url(Path path, Entry entry) {
        try {
            return path.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new PluginPathException(entry.origin() + ": plugin entry " + path + " is not a usable path: " + e.getMessage());
        }
    }

    /** A plugin entry that does not exist or cannot be used; the CLI prints the message and exits with 2. */
    static final class PluginPathException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PluginPathException(String message) {
            super(message);
        }
    }
}
