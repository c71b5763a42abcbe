package dev.metaforge.cli;

import static java.util.Objects.requireNonNull;

import dev.metaforge.spi.BackendNotFoundException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code metaforge} root command. Each subcommand is its own class listed in
 * {@code subcommands} below; add {@code train}, {@code eval} or {@code bench} the same way (a
 * class with {@code @ParentCommand MetaforgeCommand root} to reach {@link #context()}).
 *
 * <p>Exit codes: 0 success, 1 failure (e.g. a backend that is NOT_CONFORMANT), 2 usage errors and
 * unknown or unusable backends.
 */
@Command(name = "metaforge",
        mixinStandardHelpOptions = true,
        versionProvider = MetaforgeCommand.Version.class,
        description = "Hypernetworks, metanetworks, mixture-of-experts and meta-learners over pluggable backends.",
        subcommands = {BackendsCommand.class, TckCommand.class, TrainCommand.class, EvalCommand.class, BenchCommand.class,
                PredictCommand.class, ExportCommand.class, PluginsCommand.class,
                CommandLine.HelpCommand.class})
public final class MetaforgeCommand implements Runnable {
    /** Exit code for an unknown or unusable backend. */
    public static final int EXIT_BACKEND_NOT_FOUND = 2;

    private final CliContext context;

    @Spec
    CommandSpec spec;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Log backend selection and show stack traces of unexpected errors.")
    boolean verbose;

    @Option(names = "--plugins", scope = ScopeType.INHERIT, paramLabel = "PATH",
            description = "A plugin jar, or a directory of them; repeatable, or several joined with '${sys:path.separator}'. "
                    + "Also read from METAFORGE_PLUGIN_PATH. `metaforge plugins` lists what is loaded.")
    java.util.List<String> plugins = new java.util.ArrayList<>();

    private CliContext withPlugins;

    public MetaforgeCommand(CliContext context) {
        this.context = requireNonNull(context, "context is null");
    }

    /**
     * The outside world the subcommands work in; its class loader also sees the plugins named by
     * {@code --plugins} and {@code METAFORGE_PLUGIN_PATH} (made once, on first use).
     */
    public CliContext context() {
        if (withPlugins == null) {
            withPlugins = context.withClassLoader(PluginPath.of(plugins, context.environment()).loader(context.classLoader()));
        }
        return withPlugins;
    }

    public boolean verbose() {
        return verbose;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: try `metaforge backends` or `metaforge tck`.");
    }

    /** A ready command line: subcommands, and errors turned into messages and exit codes. */
    public static CommandLine commandLine(CliContext context) {
        MetaforgeCommand root = new MetaforgeCommand(context);
        CommandLine cl = new CommandLine(root);
        cl.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            if (e instanceof BackendNotFoundException || e instanceof PluginPath.PluginPathException) {
                err.println("metaforge " + cmd.getCommandName() + ": " + e.getMessage());
                err.flush();
                return EXIT_BACKEND_NOT_FOUND;
            }
            err.println("metaforge " + cmd.getCommandName() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
            if (root.verbose) {
                e.printStackTrace(err);
            } else {
                err.println("(run with --verbose for the stack trace)");
            }
            err.flush();
            return cmd.getCommandSpec().exitCodeOnExecutionException();
        });
        return cl;
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = MetaforgeCommand.class.getPackage().getImplementationVersion();
            return new String[] {"metaforge " + (v == null ? "(development build)" : v)};
        }
    }
}
