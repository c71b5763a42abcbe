package dev.metaforge.cli;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Properties;

/**
 * What the commands read from the outside world, passed in rather than read from globals so tests
 * can supply their own: the class loader backends are discovered with, whether stderr is a
 * terminal (live progress line) and the environment and system properties the selection rule reads.
 *
 * @param classLoader      where {@link java.util.ServiceLoader} looks for backend providers
 * @param terminal         true when progress may redraw one line with carriage returns
 * @param environment      environment variables (for {@code METAFORGE_BACKEND})
 * @param systemProperties system properties (for {@code -Dmetaforge.backend})
 */
public record CliContext(ClassLoader classLoader, boolean terminal, Map<String, String> environment,
                         Properties systemProperties) {
    public CliContext {
        requireNonNull(classLoader, "classLoader is null");
        environment = Map.copyOf(requireNonNull(environment, "environment is null"));
        requireNonNull(systemProperties, "systemProperties is null");
    }

    /** The real process: the CLI's own class loader, a terminal when there is a console. */
    public static CliContext fromSystem() {
        return new CliContext(CliContext.class.getClassLoader(), System.console() != null, System.getenv(),
                System.getProperties());
    }

    /** The same outside world, looking for providers and plugins with {@code loader}. */
    public CliContext withClassLoader(ClassLoader loader) {
        return new CliContext(loader, terminal, environment, systemProperties);
    }
}
