package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 13, long-run memory: {@code metaforge bench} trains 10^6 small steps (override with
 * {@code -Dmetaforge.soak.steps=N}) in a JVM with a fixed, pre-touched heap, so resident growth is
 * native growth, and must stay under 1% after warm-up. Slow: run with
 * {@code ./mvnw -o verify -pl cli -am -Dmetaforge.excludedGroups=none -Dgroups=slow -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("slow")
class SoakTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"djl", "dl4j"})
    void residentMemoryStaysFlatOverAMillionSteps(String backend) throws IOException, InterruptedException {
        String steps = System.getProperty("metaforge.soak.steps", "1000000");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
                "-Dai.djl.offline=true",
                "-DDJL_CACHE_DIR=" + System.getProperty("DJL_CACHE_DIR", ""),
                "-DENGINE_CACHE_DIR=" + System.getProperty("ENGINE_CACHE_DIR", ""),
                "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir", ""),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "bench", "--backend", backend, "--steps", steps, "--max-growth", "1");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(6, TimeUnit.HOURS));
        System.out.println(output);
        assertTrue(output.contains("resident growth is native growth"), output);
        assertEquals(0, p.exitValue(), "resident growth after warm-up must stay under 1%:\n" + output);
    }
}
