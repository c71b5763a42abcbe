package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every public type (top-level or nested) of {@code spi}, {@code api} and {@code tck} has a javadoc
 * comment: these are the modules users and backend/plugin authors program against. Read from the
 * sources, so the rule holds for code added later.
 */
class PublicJavadocTest {

    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "(?m)^[ \\t]*public\\s+(?:static\\s+|final\\s+|abstract\\s+|sealed\\s+|non-sealed\\s+)*"
                    + "(?:class|interface|record|enum|@interface)\\s+(\\w+)");

    @Test
    void everyPublicTypeOfTheUserFacingModulesHasJavadoc() throws IOException {
        Path root = repositoryRoot();
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (String module : List.of("spi", "api", "tck")) {
            try (Stream<Path> files = Files.walk(root.resolve(module).resolve("src/main/java"))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    String source = Files.readString(file);
                    Matcher m = PUBLIC_TYPE.matcher(source);
                    while (m.find()) {
                        checked++;
                        if (!documented(source.substring(0, m.start()))) {
                            missing.add(root.relativize(file) + ": " + m.group(1));
                        }
                    }
                }
            }
        }
        assertTrue(checked > 100, "found only " + checked + " public types: is the source layout still spi/api/tck?");
        assertEquals(List.of(), missing, "public types without javadoc (add a /** ... */ saying what the type is for)");
    }

    @Test
    void theCheckSeesAMissingComment() {
        assertTrue(documented("/** A thing. */\n@Deprecated\n"));
        assertTrue(!documented("import x;\n\n// not javadoc\n"));
    }

    /** Whether the text before a declaration ends with a javadoc comment, annotations aside. */
    static boolean documented(String before) {
        List<String> lines = new ArrayList<>(List.of(before.stripTrailing().split("\n")));
        while (!lines.isEmpty() && lines.get(lines.size() - 1).strip().startsWith("@")) {
            lines.remove(lines.size() - 1);
        }
        String rest = String.join("\n", lines).stripTrailing();
        int open = rest.lastIndexOf("/**");
        return rest.endsWith("*/") && open >= 0 && rest.indexOf("*/", open) == rest.length() - 2;
    }

    static Path repositoryRoot() {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.exists(d.resolve("mvnw")) && Files.isDirectory(d.resolve("spi"))) {
                return d;
            }
        }
        throw new IllegalStateException("no repository root (mvnw and spi/) above " + dir);
    }
}
