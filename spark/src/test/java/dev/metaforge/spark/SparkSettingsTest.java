package dev.metaforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metaforge.api.train.TrainingCluster;
import dev.metaforge.api.train.TrainingException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading --spark and --spark-conf before Spark starts: no Spark context is created here. */
class SparkSettingsTest {
    private static SparkSettings parse(String master, Map<String, String> properties) {
        return SparkSettings.parse(new TrainingCluster.Config(master, properties, 0, null, new PrintWriter(new StringWriter())));
    }

    private static String error(String master, Map<String, String> properties) {
        return assertThrows(TrainingException.class, () -> parse(master, properties)).getMessage();
    }

    @Test
    void localMastersGetTaskRetriesAndStayOnLoopback() {
        assertEquals("local[2,4]", parse("local[2]", Map.of()).master());
        assertEquals("local[*,4]", parse("local[*]", Map.of()).master());
        assertEquals("local[1,4]", parse("local", Map.of()).master());
        assertEquals("local[3,2]", parse("local[3,2]", Map.of()).master());
        assertEquals("local[2,7]", parse("local[2]", Map.of("spark.task.maxFailures", "7")).master());
        SparkSettings s = parse("local[2]", Map.of("spark.executor.memory", "2g"));
        assertEquals("127.0.0.1", s.sparkConf().get("spark.driver.host"));
        assertEquals("false", s.sparkConf().get("spark.ui.enabled"));
        assertEquals("2g", s.sparkConf().get("spark.executor.memory"));
        assertEquals("spark://h:7077", parse("spark://h:7077", Map.of()).master());
    }

    @Test
    void badSettingsNameWhatToFix() {
        assertTrue(error("locl[2]", Map.of()).contains("is not a Spark master URL"));
        assertTrue(error("local[two]", Map.of()).contains("local[N]"));
        assertTrue(error("local[0]", Map.of()).contains("N >= 1"));
        assertTrue(error("local[2]", Map.of("metaforge.spark.shard", "2")).contains(SparkSettings.EXECUTOR_BACKEND));
        assertTrue(error("local[2]", Map.of("executor.memory", "2g")).contains("spark.*"));
        assertTrue(error("local[2]", Map.of(SparkSettings.INJECT_FAILURE, "x")).contains("STEP:SHARD"));
        assertTrue(error("local[2]", Map.of(SparkSettings.START_TIMEOUT, "-1")).contains("seconds"));
        for (String key : SparkSettings.DOWNLOADING) {
            assertTrue(error("local[2]", Map.of(key, "x")).contains("download"), key);
        }
    }

    @Test
    void unreachableOrMalformedStandaloneMastersFailInSeconds() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int closed = port;
        String message = assertThrows(TrainingException.class,
                () -> SparkSettings.checkReachable("spark://127.0.0.1:" + closed, 2000)).getMessage();
        assertTrue(message.contains("cannot reach the Spark master spark://127.0.0.1:" + closed), message);
        assertTrue(assertThrows(TrainingException.class, () -> SparkSettings.checkReachable("spark://host", 100))
                .getMessage().contains("spark://HOST:PORT"));
        SparkSettings.checkReachable("local[2,4]", 1);   // local masters need no network
    }

    @Test
    void shardRangesAreContiguousAndEven() {
        assertEquals(List.of(new ShardRange(0, 0, 33), new ShardRange(1, 33, 66), new ShardRange(2, 66, 100)), ShardRange.partition(100, 3));
        assertEquals(List.of(new ShardRange(0, 0, 1)), ShardRange.partition(1, 1));
        assertThrows(IllegalArgumentException.class, () -> ShardRange.partition(2, 3));
    }
}
