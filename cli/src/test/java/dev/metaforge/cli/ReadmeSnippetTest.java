package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java snippets, taken from the README text itself: every {@code ```java} block that
 * starts with imports is a complete file and must compile against the published modules as written;
 * the quick-start program must also run and print what its comments promise (the Hessian-vector
 * product of {@code sum(w^3)} is {@code 6w}, a closed form) and a loss that fell.
 */
class ReadmeSnippetTest {

    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern CLASS_NAME = Pattern.compile("(?m)^(?:public\\s+)?class\\s+(\\w+)");

    @Test
    void everyCompleteSnippetCompilesAndTheQuickStartRuns(@TempDir Path dir) throws Exception {
        List<String> files = completeSnippets(readme());
        assertFalse(files.isEmpty(), "the README has no complete Java snippet (a ```java block starting with imports)");

        List<JavaFileObject> sources = new ArrayList<>();
        for (String file : files) {
            Matcher name = CLASS_NAME.matcher(file);
            assertTrue(name.find(), "a README snippet declares no top-level class:\n" + file);
            sources.add(new Source(name.group(1), file));
        }
        compile(sources, dir);
        assertTrue(sources.stream().anyMatch(s -> s.getName().endsWith("QuickStart.java")),
                "the README's quick start (class QuickStart) is missing");

        String printed = runMain(dir, "QuickStart");
        Matcher first = Pattern.compile("step 0 loss (\\S+)").matcher(printed);
        Matcher last = Pattern.compile("step 499 loss (\\S+)").matcher(printed);
        assertTrue(first.find() && last.find(), "QuickStart printed:\n" + printed);
        double before = Double.parseDouble(first.group(1));
        double after = Double.parseDouble(last.group(1));
        // sin on [-3, 3] has variance about 0.5; 500 Adam steps of a 40-40 MLP fit it to a few percent.
        assertTrue(after < before / 10, "the snippet's training did not learn: loss " + before + " -> " + after);

        Matcher hv = Pattern.compile("hv \\[(.*)]").matcher(printed);
        assertTrue(hv.find(), "QuickStart printed no Hessian-vector product:\n" + printed);
        String[] values = hv.group(1).split(",\\s*");
        double[] w = {1, -2, 0.5};
        assertEquals(3, values.length, printed);
        for (int i = 0; i < 3; i++) {
            assertEquals(6 * w[i], Double.parseDouble(values[i]), 1e-4, "d/dw of 3w^2 at w=" + w[i]);
        }
    }

    private static String readme() throws IOException {
        return Files.readString(PublicJavadocTest.repositoryRoot().resolve("README.md"));
    }

    static List<String> completeSnippets(String markdown) {
        List<String> files = new ArrayList<>();
        Matcher m = JAVA_BLOCK.matcher(markdown);
        while (m.find()) {
            String body = m.group(1);
            if (body.stripLeading().startsWith("import ") || body.stripLeading().startsWith("package ")) {
                files.add(body);
            }
        }
        return files;
    }

    private static void compile(List<JavaFileObject> sources, Path out) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no Java compiler in this JDK (a JRE cannot run this test)");
        // Surefire may put the test class path in a manifest-only jar; it publishes the real one here.
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        StringWriter diagnostics = new StringWriter();
        try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            boolean ok = javac.getTask(diagnostics, files, null,
                    List.of("-classpath", classPath, "-d", out.toString(), "-proc:none", "-Xlint:none"), null, sources).call();
            assertTrue(ok, "a README snippet does not compile as written:\n" + diagnostics);
        }
    }

    private static String runMain(Path classes, String className) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                ReadmeSnippetTest.class.getClassLoader())) {
            Method main = loader.loadClass(className).getMethod("main", String[].class);
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(original);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        original.print(printed);
        return printed;
    }

    /** A snippet as an in-memory source file named after its class. */
    private static final class Source extends SimpleJavaFileObject {
        private final String code;

        Source(String className, String code) {
            super(Path.of(className + ".java").toUri(), Kind.SOURCE);
            this.code = code;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return code;
        }
    }
}
