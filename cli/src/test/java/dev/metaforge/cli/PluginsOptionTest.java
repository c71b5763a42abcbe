package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A third-party plugin as users load it: compiled here from source into its own jar (so its classes
 * are on no class path but the plugin path), then given to {@code metaforge} with {@code --plugins} or
 * {@code METAFORGE_PLUGIN_PATH}. The plugin registers an optimizer type and, through its Guice module,
 * a training listener that writes one line per step: the file proves the injector used the plugin's binding.
 */
class PluginsOptionTest {
    private static final String PLUGIN_SOURCE = """
            package example.sink;

            import com.google.inject.multibindings.Multibinder;
            import dev.metaforge.api.optim.Optimizer;
            import dev.metaforge.api.optim.OptimizerSpec;
            import dev.metaforge.api.optim.Sgd;
            import dev.metaforge.api.plugin.MetaforgePlugin;
            import dev.metaforge.api.spec.SpecType;
            import dev.metaforge.api.train.TrainingListener;
            import java.io.IOException;
            import java.io.UncheckedIOException;
            import java.nio.file.Files;
            import java.nio.file.Path;
            import java.nio.file.StandardOpenOption;
            import java.util.List;

            public final class SinkPlugin implements MetaforgePlugin {
                public String name() { return "sink-example"; }

                public List<SpecType> specTypes() {
                    return List.of(new SpecType(OptimizerSpec.class, "jar-sgd", JarSgd.class));
                }

                public com.google.inject.Module guiceModule() {
                    return binder -> Multibinder.newSetBinder(binder, TrainingListener.class).addBinding().toInstance(new StepSink());
                }

                public record JarSgd(double learningRate) implements OptimizerSpec {
                    public Optimizer build() { return Sgd.of(learningRate); }
                }

                /** Appends "step N loss L" to sink.txt in the run directory. */
                static final class StepSink implements TrainingListener {
                    private Path file;

                    public void runStarted(RunStarted run) { file = run.outDir().resolve("sink.txt"); }

                    public void stepCompleted(Step step) {
                        try {
                            Files.writeString(file, "step " + step.step() + " loss " + step.loss() + "\\n",
                                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }
            }
            """;

    private static final String SPEC = "{\"experiment\": {\"type\": \"cli-test-quadratic\", \"dims\": 3},"
            + " \"optimizer\": {\"type\": \"jar-sgd\", \"learningRate\": 0.1}, \"steps\": 12, \"seed\": 3,"
            + " \"dtype\": \"float64\", \"logEvery\": 4, \"evalEvery\": 6}";

    @TempDir
    static Path shared;

    static Path jar;

    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    @BeforeAll
    static void buildPluginJar() throws IOException {
        Path src = shared.resolve("src/example/sink/SinkPlugin.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, PLUGIN_SOURCE);
        Path classes = Files.createDirectories(shared.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no Java compiler in this JDK (a JRE cannot run this test)");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        StringWriter diagnostics = new StringWriter();
        int rc = javac.run(null, null, new java.io.PrintStream(OutputStream.nullOutputStream()) {
            @Override
            public void write(byte[] b, int off, int len) {
                diagnostics.write(new String(b, off, len, StandardCharsets.UTF_8));
            }
        }, "-cp", classPath, "-d", classes.toString(), "--release", "17", src.toString());
        assertEquals(0, rc, "the example plugin does not compile: " + diagnostics);
        jar = shared.resolve("sink-example.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(f));
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/dev.metaforge.api.plugin.MetaforgePlugin"));
            out.write("example.sink.SinkPlugin\n".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
    }

    static Run run(Map<String, String> environment, String... args) {
        CliContext context = new CliContext(TrainTestPlugin.loader(), false, environment, new Properties());
        CommandLine cl = MetaforgeCommand.commandLine(context);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path spec() throws IOException {
        Path file = dir.resolve("quadratic.json");
        Files.writeString(file, SPEC);
        return file;
    }

    @Test
    void pluginsListsTheJarAndItsTypes() {
        Run r = run(Map.of(), "plugins", "--plugins", jar.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("sink-example  " + jar), r.out());
        assertTrue(r.out().contains("  optimizer: jar-sgd"), r.out());
        // The built-in test plugin is listed too, with its own source.
        assertTrue(r.out().contains("cli-train-test  "), r.out());

        Run without = run(Map.of(), "plugins");
        assertEquals(0, without.exitCode(), without.err());
        assertTrue(!without.out().contains("sink-example"), without.out());
    }

    @Test
    void trainUsesThePluginsTypeAndItsGuiceBinding() throws IOException {
        Path out = dir.resolve("run");
        Run r = run(Map.of(), "train", spec().toString(), "--plugins", jar.toString(), "--backend", "reference",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(out.resolve("sink.txt"));
        assertEquals(12, lines.size(), "one line per step from the plugin's listener: " + lines);
        assertTrue(lines.get(11).startsWith("step 12 loss "), lines.get(11));
    }

    @Test
    void theEnvironmentVariableWorksLikeTheOption() throws IOException {
        Path out = dir.resolve("run");
        Run r = run(Map.of("METAFORGE_PLUGIN_PATH", shared.toString()), "train", spec().toString(), "--backend", "reference",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(12, Files.readAllLines(out.resolve("sink.txt")).size());
    }

    @Test
    void anUnknownTypeSaysWhichPluginsAreLoadedAndHowToAddOne() throws IOException {
        Path out = dir.resolve("run");
        Run r = run(Map.of(), "train", spec().toString(), "--backend", "reference", "--out", out.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("unknown type 'jar-sgd' for optimizer"), r.err());
        assertTrue(r.err().contains("plugins loaded: [") && r.err().contains("cli-train-test"), r.err());
        assertTrue(r.err().contains("--plugins JAR") && r.err().contains("METAFORGE_PLUGIN_PATH"), r.err());
        assertTrue(!Files.exists(out), "nothing is created for a spec that does not read");
    }

    @Test
    void aMissingPluginJarIsAUsageErrorNamingIt() throws IOException {
        Path missing = dir.resolve("nope.jar");
        Run r = run(Map.of(), "train", spec().toString(), "--plugins", missing.toString(), "--backend", "reference");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("--plugins: plugin entry " + missing + " does not exist"), r.err());

        Path notAJar = Files.writeString(dir.resolve("notes.txt"), "x");
        Run r2 = run(Map.of("METAFORGE_PLUGIN_PATH", notAJar.toString()), "plugins");
        assertEquals(2, r2.exitCode(), r2.err());
        assertTrue(r2.err().contains("METAFORGE_PLUGIN_PATH: plugin entry " + notAJar + " is neither a .jar file nor a directory"),
                r2.err());
    }
}
