package dev.metaforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --spark} without the metaforge-spark module (the CLI's own classpath has no Spark): one line
 * naming the module and how to build it, exit 2. With the module present, see the spark module's tests.
 */
class SparkOptionTest {
    @TempDir
    Path dir;

    @Test
    void sparkWithoutTheSparkModuleNamesTheModule() throws IOException {
        Path spec = Files.writeString(dir.resolve("q.json"), TrainCommandTest.SPEC);
        TrainCommandTest.Run r = TrainCommandTest.run("train", spec.toString(), "--backend", "reference", "--out",
                dir.resolve("out").toString(), "--spark", "local[2]");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("metaforge-spark") && r.err().contains("./mvnw -q -pl spark -am"), r.err());
        assertTrue(!Files.exists(dir.resolve("out").resolve("checkpoint.safetensors")));
    }

    @Test
    void sparkOptionsNeedSpark() throws IOException {
        Path spec = Files.writeString(dir.resolve("q.json"), TrainCommandTest.SPEC);
        TrainCommandTest.Run r = TrainCommandTest.run("train", spec.toString(), "--backend", "reference", "--shards", "2");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("--shards and --spark-conf need --spark"), r.err());
    }
}
